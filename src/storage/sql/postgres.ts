import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';

/**
 * A schema name Berth accepts: lower case, so it means the same quoted (as
 * in CREATE SCHEMA) and unquoted (as in search_path, which folds case).
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresTarget {
  /** The URL to hand to `pg`, without Berth's own query parameters. */
  connectionString: string;
  /** The schema given with `?schema=`, if any. */
  schema: string | undefined;
  /** False when the URL says `?prepared_statements=false`. */
  preparedStatements: boolean;
}

/**
 * Splits Berth's options out of a `postgres://` / `postgresql://` URL.
 *
 * `?schema=<name>` puts all of Berth's tables in that schema: it is created
 * by `migrate()` if missing and becomes the connection's only search_path
 * entry (sent as the startup option `-c search_path=<name>`, appended to
 * any `options` already in the URL, so it costs no extra round trip). The
 * name must be a plain lower-case identifier (`a-z`, `0-9`, `_`). Without it, tables
 * go in the first schema of the server's default search_path (normally
 * `public`).
 *
 * `?prepared_statements=false` stops Berth from using named (server-side)
 * prepared statements for its hottest queries — needed behind a pooler
 * that cannot track them, such as PgBouncer in transaction mode before 1.21.
 *
 * Every other parameter is `pg`'s own (`sslmode`, `application_name`, ...).
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  const parsed = new URL(url);
  const prepared = parsed.searchParams.get('prepared_statements');
  if (prepared !== null && prepared !== 'true' && prepared !== 'false') {
    throw new Error(`prepared_statements in database URL must be true or false, not ${JSON.stringify(prepared)}`);
  }
  parsed.searchParams.delete('prepared_statements');
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined) {
    if (!SCHEMA_NAME.test(schema)) {
      throw new Error(`invalid schema name in database URL: ${JSON.stringify(schema)} (use lower-case letters, digits and _)`);
    }
    parsed.searchParams.delete('schema');
    const options = parsed.searchParams.get('options');
    parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  }
  return { connectionString: parsed.toString(), schema, preparedStatements: prepared !== 'false' };
}

/**
 * A `pg` Pool for Kysely's PostgresDialect that runs registered SQL texts as
 * named prepared statements: PostgreSQL then parses and plans them once per
 * connection instead of on every call, which roughly halves the server time
 * of a point lookup. Only the fixed, bounded set of hot queries is
 * registered (see PreparedQuery); everything else runs unnamed.
 *
 * Statements are prepared per connection lazily by `pg`. A migration that
 * changes a prepared query's result columns while connections are open would
 * make PostgreSQL reject the stale statement; run migrations at startup.
 */
export class PreparingPool implements PostgresPool {
  readonly #pool: pg.Pool;
  readonly #names = new Map<string, string>();
  readonly #enabled: boolean;
  readonly #clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  constructor(target: PostgresTarget) {
    this.#pool = new pg.Pool({ connectionString: target.connectionString });
    this.#enabled = target.preparedStatements;
    // An idle client that loses its connection emits 'error' on the pool; with
    // no listener that would crash the process. The pool discards the client
    // and the next query opens a new connection, so there is nothing to do.
    this.#pool.on('error', () => {});
  }

  /** Runs this exact SQL text as a named prepared statement from now on. */
  prepare(sql: string): void {
    if (this.#enabled && !this.#names.has(sql)) this.#names.set(sql, `berth_${this.#names.size + 1}`);
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect();
    let wrapped = this.#clients.get(client);
    if (wrapped === undefined) {
      wrapped = new NamingClient(client, this.#names);
      this.#clients.set(client, wrapped);
    }
    return wrapped;
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

class NamingClient implements PostgresPoolClient {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') {
      return this.client.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
    }
    const values = parameters as unknown[];
    const name = this.names.get(sqlOrCursor);
    const result =
      name === undefined
        ? this.client.query(sqlOrCursor, values)
        : this.client.query({ name, text: sqlOrCursor, values });
    return result as unknown as Promise<PostgresQueryResult<R>>;
  }

  release(): void {
    this.client.release();
  }
}

/** Quotes a PostgreSQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
