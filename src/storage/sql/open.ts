import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { SqlIdentityStore } from '../../iam/sql-identity-store.js';
import type { MetadataStore } from '../metadata-store.js';
import type { Database } from './database.js';
import { PreparingPool, parsePostgresUrl, type PostgresTarget } from './postgres.js';
import { SqlMetadataStore, type SqlMetadataStoreOptions } from './sql-metadata-store.js';
import { SqlRegistrySettingsStore } from './sql-registry-settings-store.js';
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
  const { db, options } = await openDatabase(databaseUrl);
  return new SqlMetadataStore(db, options);
}

/** The registry's metadata store and the IAM identity store, on one database. */
export interface Stores {
  /** Owns the connection; its `migrate()` applies every migration, the identity tables' included. */
  metadata: SqlMetadataStore;
  /** Shares `metadata.db`; usable until the stores are closed. */
  identities: SqlIdentityStore;
  /** Registry-level settings (ECR's registry operations); shares `metadata.db`. */
  registrySettings: SqlRegistrySettingsStore;
  /** Closes the database (the same as `metadata.close()`). Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the metadata and identity stores over one Kysely instance (one
 * PostgreSQL pool, or this process's shared SQLite connection) for
 * `databaseUrl` (see `parseDatabaseUrl`). Like `openSqlMetadataStore` it
 * does not migrate: call `stores.metadata.migrate()` at startup.
 */
export async function openStores(databaseUrl: string): Promise<Stores> {
  const { db, options } = await openDatabase(databaseUrl);
  const metadata = new SqlMetadataStore(db, options);
  const identities = new SqlIdentityStore(db, {
    dialect: options.dialect,
    ...(options.onPrepare !== undefined ? { onPrepare: options.onPrepare } : {}),
  });
  return { metadata, identities, registrySettings: new SqlRegistrySettingsStore(db, { dialect: options.dialect }), close: () => metadata.close() };
}

/** A Kysely instance for `databaseUrl`, with what a store over it needs to know. */
async function openDatabase(databaseUrl: string): Promise<{ db: Kysely<Database>; options: SqlMetadataStoreOptions }> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.dialect === 'sqlite') {
    // Stores opened on the same file in this process share one connection (see acquireSqlite).
    const { db, release } = acquireSqlite(target.path);
    return { db, options: { dialect: 'sqlite', release } };
  }

  const pool = new PreparingPool(target);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    options: {
      dialect: 'postgres',
      schema: target.schema,
      onPrepare: (text) => pool.prepare(text),
    },
  };
}
