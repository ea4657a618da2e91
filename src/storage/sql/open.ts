import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { MetadataStore } from '../metadata-store.js';
import type { Database } from './database.js';
import { PreparingPool, parsePostgresUrl, type PostgresTarget } from './postgres.js';
import { SqlMetadataStore } from './sql-metadata-store.js';
import { SQLITE_MEMORY, acquireSqlite } from './sqlite.js';

export type DatabaseTarget =
  | { dialect: 'sqlite'; /** File path, or `:memory:`. */ path: string }
  | ({ dialect: 'postgres' } & PostgresTarget);

/**
 * Decides the backend from a database URL:
 *
 * - `postgres://…` or `postgresql://…` — PostgreSQL. `?schema=<name>` keeps
 *   Berth's tables in that schema (created on migrate);
 *   `?prepared_statements=false` for PgBouncer in transaction mode; see
 *   `parsePostgresUrl`. Other parameters go to `pg` (e.g. `sslmode`).
 * - `sqlite::memory:` (or `:memory:`) — a private in-memory SQLite database.
 * - `sqlite:<path>` — SQLite file; `sqlite:///abs/path` and
 *   `sqlite://rel/path` also work (the `//` is dropped).
 * - `file:///abs/path` — SQLite file.
 * - anything without a URL scheme — an SQLite file path (relative to the
 *   working directory). Windows drive paths (`C:\…`) count as paths.
 */
export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  const url = databaseUrl.trim();
  if (url === '') throw new Error('empty database URL');
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return { dialect: 'postgres', ...parsePostgresUrl(url) };
  }
  if (/^sqlite:/i.test(url)) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new Error(`database URL names no SQLite file: ${databaseUrl}`);
    return { dialect: 'sqlite', path };
  }
  if (/^file:/i.test(url)) return { dialect: 'sqlite', path: fileURLToPath(url) };
  if (url === SQLITE_MEMORY) return { dialect: 'sqlite', path: SQLITE_MEMORY };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  if (scheme !== undefined && scheme.length > 1) {
    throw new Error(`unsupported database URL scheme "${scheme}:" (use sqlite:<path> or postgres://…)`);
  }
  return { dialect: 'sqlite', path: url };
}

export interface OpenMetadataStoreOptions {
  /** Apply pending migrations before returning (default false: call `migrate()`). */
  migrate?: boolean;
}

/**
 * Opens the metadata store named by `databaseUrl` (see `parseDatabaseUrl`).
 * For PostgreSQL it checks the server answers before returning, so a bad URL
 * fails here rather than on the first request. The schema is not touched
 * unless `options.migrate` is set; call `store.migrate()` at startup.
 */
export async function openMetadataStore(
  databaseUrl: string,
  options: OpenMetadataStoreOptions = {},
): Promise<MetadataStore> {
  const store = await openSqlMetadataStore(databaseUrl);
  if (options.migrate === true) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

/** `openMetadataStore`, typed as the concrete class (its Kysely instance is `store.db`). */
export async function openSqlMetadataStore(databaseUrl: string): Promise<SqlMetadataStore> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.dialect === 'sqlite') {
    // Stores opened on the same file in this process share one connection (see acquireSqlite).
    const { db, release } = acquireSqlite(target.path);
    return new SqlMetadataStore(db, { dialect: 'sqlite', release });
  }

  const pool = new PreparingPool(target);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new SqlMetadataStore(db, {
    dialect: 'postgres',
    schema: target.schema,
    onPrepare: (text) => pool.prepare(text),
  });
}
