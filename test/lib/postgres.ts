import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';

export const pgBaseUrl = process.env['BERTH_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const redactedPgUrl = pgBaseUrl.replace(/\/\/[^@/]*@/, '//***@');

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why PostgreSQL cannot be used, or undefined when it is reachable. */
export const pgUnreachable = await probePostgres(pgBaseUrl);

/** A database URL that keeps everything in a fresh schema of its own, to be dropped with `dropSchema`. */
export function freshSchemaUrl(prefix: string): { schema: string; url: string } {
  const schema = `${prefix}_${process.pid}_${randomBytes(6).toString('hex')}`;
  const url = new URL(pgBaseUrl);
  url.searchParams.set('schema', schema);
  return { schema, url: url.toString() };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgBaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/**
 * Declares the placeholder test for a PostgreSQL suite that cannot run: it
 * fails under BERTH_E2E_REQUIRED=1 (as in CI) and skips with the reason otherwise.
 */
export function reportPostgresUnavailable(suite: string): void {
  const reason = `PostgreSQL unreachable at ${redactedPgUrl}: ${pgUnreachable}`;
  if (process.env['BERTH_E2E_REQUIRED'] === '1') {
    test(suite, () => assert.fail(`${reason}, and BERTH_E2E_REQUIRED=1`));
  } else {
    test(suite, { skip: `${reason} (set BERTH_TEST_DATABASE_URL, or BERTH_E2E_REQUIRED=1 to fail instead)` }, () => {});
  }
}
