import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import type { Database } from './database.js';

export const SQLITE_MEMORY = ':memory:';

/**
 * Opens (creating if needed, with its parent directory) an SQLite database
 * file and applies Berth's connection settings:
 * - WAL: readers never block the writer and vice versa;
 * - synchronous = FULL: a committed manifest survives power loss, not just a
 *   process crash (NORMAL in WAL mode may lose the last commits);
 * - busy_timeout = 5000: wait for another process's write lock instead of
 *   failing at once;
 * - foreign_keys = ON: SQLite leaves them off by default.
 *
 * Deliberately no `PRAGMA optimize`/ANALYZE: statistics gathered while the
 * tables are tiny make SQLite plan a full scan of manifests for every tag
 * lookup, and they go stale as the tables grow. Without statistics the
 * planner uses the primary keys and indexes, which is what every query here
 * wants.
 */
export function openSqliteFile(path: string): BetterSqlite3.Database {
  if (path !== SQLITE_MEMORY && path !== '') {
    mkdirSync(dirname(resolve(path)), { recursive: true });
  }
  const db = new BetterSqlite3(path, { timeout: 5000 });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * The one connection to an SQLite database, with a cache of prepared
 * statements keyed by SQL text: compiling SQL costs about as much as a
 * point lookup itself, and Kysely emits identical text for identical query
 * shapes. Eviction is first-in-first-out, plenty for a bounded set of shapes
 * (variable-length IN lists are the only churn). Reusing a statement is safe:
 * the driver's mutex runs one query at a time, and `all`/`run` finish before
 * returning.
 */
class SqliteConnection implements DatabaseConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
  }

  #prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next();
        if (oldest.done !== true) this.#statements.delete(oldest.value);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    if (statement.reader) {
      return { rows: statement.all(parameters) as R[] };
    }
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Not cached: an iterating statement is busy until the caller finishes.
    const statement = this.#db.prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters as unknown[])) {
      yield { rows: [row as R] };
    }
  }

  close(): void {
    this.#statements.clear();
    if (this.#db.open) this.#db.close();
  }
}

/**
 * A first-in-first-out lock. (Kysely's own SQLite driver wakes every waiter
 * on each release and lets them race again, which costs O(waiters) per query
 * under load.)
 */
class FifoMutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next(); // the lock passes straight to the next waiter
    else this.#locked = false;
  }
}

/**
 * Kysely driver over one better-sqlite3 connection.
 *
 * Transactions start with BEGIN IMMEDIATE. With a plain (deferred) BEGIN, a
 * transaction that reads and then writes fails with SQLITE_BUSY at once —
 * without honouring busy_timeout — if another process wrote in between.
 * Taking the write lock up front makes it wait instead.
 */
class SqliteDriver implements Driver {
  readonly #connection: SqliteConnection;
  readonly #mutex = new FifoMutex();

  constructor(db: BetterSqlite3.Database) {
    this.#connection = new SqliteConnection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.#connection.close();
  }

  /** Closes the database even if Kysely never initialized the driver (idempotent). */
  close(): void {
    this.#connection.close();
  }
}

class SqliteDialect implements Dialect {
  constructor(readonly driver: SqliteDriver) {}

  createDriver(): Driver {
    return this.driver;
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Dialect signature
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

export interface SqliteHandle {
  db: Kysely<Database>;
  /** Gives the handle back; the connection closes when its last holder releases it. Idempotent. */
  release(): Promise<void>;
}

interface Connection {
  db: Kysely<Database>;
  close(): Promise<void>;
}

function connect(path: string): Connection {
  const driver = new SqliteDriver(openSqliteFile(path));
  const db = new Kysely<Database>({ dialect: new SqliteDialect(driver) });
  return {
    db,
    async close() {
      try {
        await db.destroy();
      } finally {
        // Kysely destroys a driver only if it ever ran a query; this covers the rest.
        driver.close();
      }
    },
  };
}

interface SharedConnection extends Connection {
  holders: number;
}

const sharedConnections = new Map<string, SharedConnection>();

/**
 * A Kysely instance over an SQLite file, shared by everything in this
 * process that opens the same file.
 *
 * Why share: better-sqlite3 is synchronous, so when a second connection in
 * the same process waits for a write lock (busy_timeout) it blocks the very
 * thread that would finish the transaction holding the lock — a guaranteed
 * 5 s stall and SQLITE_BUSY. One connection per file, whose queries the
 * driver runs one at a time, cannot deadlock. Other processes (e.g. a CLI
 * job beside the server) use their own connections; busy_timeout covers
 * those, though this process's event loop is blocked while it waits.
 *
 * `:memory:` databases are private to each call, never shared.
 */
export function acquireSqlite(path: string): SqliteHandle {
  if (path === SQLITE_MEMORY) {
    const connection = connect(path);
    let released = false;
    return {
      db: connection.db,
      async release() {
        if (released) return;
        released = true;
        await connection.close();
      },
    };
  }
  const key = resolve(path);
  let shared = sharedConnections.get(key);
  if (shared === undefined) {
    shared = { ...connect(path), holders: 0 };
    sharedConnections.set(key, shared);
  }
  shared.holders += 1;
  const entry = shared;
  let released = false;
  return {
    db: entry.db,
    async release() {
      if (released) return;
      released = true;
      entry.holders -= 1;
      if (entry.holders === 0) {
        if (sharedConnections.get(key) === entry) sharedConnections.delete(key);
        await entry.close();
      }
    },
  };
}
