import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './database.js';

const PLACEHOLDER_PREFIX = '\u0000berth-prepared-arg:';

function placeholderIndex(value: unknown): number {
  return typeof value === 'string' && value.startsWith(PLACEHOLDER_PREFIX)
    ? Number(value.slice(PLACEHOLDER_PREFIX.length))
    : -1;
}

/**
 * A Kysely query built and compiled once, then run with new argument values.
 *
 * Building and compiling a Kysely query costs tens of microseconds — more
 * than an SQLite point lookup itself — so the hottest queries (manifest and
 * blob lookups) are compiled once per store. `build` is called once with
 * stand-in values; wherever a stand-in lands among the compiled parameters,
 * each call substitutes the real argument. The SQL text is fixed, which also
 * lets the SQLite statement cache hit every time.
 *
 * Only use arguments as bound values (comparisons, inserted values, limits),
 * never to choose the query's shape: `build` runs once.
 */
export class PreparedQuery<Args extends readonly unknown[], Row> {
  readonly #compiled: CompiledQuery<Row>;
  /** For each compiled parameter: the argument index it takes, or -1 to keep the compiled constant. */
  readonly #slots: number[];

  /** `arity` is the number of arguments `build` takes; `build` must use the store's Kysely instance. */
  constructor(arity: Args['length'], build: (...args: Args) => Compilable<Row>) {
    const standIns = Array.from({ length: arity }, (_, i) => `${PLACEHOLDER_PREFIX}${i}`) as unknown as Args;
    this.#compiled = build(...standIns).compile();
    this.#slots = this.#compiled.parameters.map(placeholderIndex);
    for (let i = 0; i < arity; i += 1) {
      if (!this.#slots.includes(i)) {
        throw new Error(`prepared query does not bind argument ${i}: ${this.#compiled.sql}`);
      }
    }
  }

  get sql(): string {
    return this.#compiled.sql;
  }

  /** Runs the query on `executor` (the store's Kysely instance or a transaction). */
  execute(executor: Kysely<Database>, ...args: Args): Promise<QueryResult<Row>> {
    const compiled = this.#compiled;
    const slots = this.#slots;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i += 1) {
      const slot = slots[i] as number;
      parameters[i] = slot < 0 ? compiled.parameters[i] : args[slot];
    }
    return executor.executeQuery<Row>({
      query: compiled.query,
      queryId: compiled.queryId,
      sql: compiled.sql,
      parameters,
    });
  }

  /** The first row, or undefined. */
  async first(executor: Kysely<Database>, ...args: Args): Promise<Row | undefined> {
    const { rows } = await this.execute(executor, ...args);
    return rows[0];
  }
}
