import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStores, type Stores } from '../src/storage/sql/open.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';

/** The exclusions of one account as two processes' stores see them: the writer's at once, the other's within about a second. */
function runExclusionCacheSuite(name: string, open: () => Promise<Stores>, cleanup: () => Promise<void>): void {
  describe(name, () => {
    let writer: Stores;
    let reader: Stores;

    before(async () => {
      writer = await open();
      await writer.metadata.migrate();
      reader = await open();
    });
    after(async () => {
      await reader?.close();
      await writer?.close();
      await cleanup();
    });

    const eventually = async (check: () => Promise<boolean>, what: string): Promise<number> => {
      const started = Date.now();
      while (!(await check())) {
        assert.ok(Date.now() - started < 3000, `${what} within about a second`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return Date.now() - started;
    };

    test('register and deregister show in the writing store at once and in another within about a second; accounts are separate', async () => {
      const account = String(100_000_000_000 + Math.floor(Math.random() * 899_999_999_999));
      const other = String(Number(account) + 1);
      const arn = `arn:aws:iam::${account}:role/scanner`;
      assert.deepEqual([...(await reader.registrySettings.pullTimeUpdateExclusions(account))], []);
      assert.deepEqual([...(await writer.registrySettings.pullTimeUpdateExclusions(account))], []);

      assert.equal(await writer.registrySettings.createItem(account, 'pull-time-update-exclusion', arn, {}, Date.now(), 100), 'created');
      assert.deepEqual([...(await writer.registrySettings.pullTimeUpdateExclusions(account))], [arn]);
      await eventually(async () => (await reader.registrySettings.pullTimeUpdateExclusions(account)).has(arn), 'the other store sees the registration');
      assert.deepEqual([...(await reader.registrySettings.pullTimeUpdateExclusions(other))], []);

      assert.ok(await writer.registrySettings.deleteItem(account, 'pull-time-update-exclusion', arn));
      assert.deepEqual([...(await writer.registrySettings.pullTimeUpdateExclusions(account))], []);
      await eventually(async () => !(await reader.registrySettings.pullTimeUpdateExclusions(account)).has(arn), 'the other store sees the deregistration');
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'berth-pull-exclusions-'));
runExclusionCacheSuite('pull-time update exclusion cache on SQLite', () => openStores(`sqlite:${join(sqliteDir, 'berth.db')}`), async () => rmSync(sqliteDir, { recursive: true, force: true }));
if (pgUnreachable === undefined) {
  const { schema, url } = freshSchemaUrl('berth_pull_exclusions');
  runExclusionCacheSuite('pull-time update exclusion cache on PostgreSQL', () => openStores(url), () => dropSchema(schema));
} else {
  reportPostgresUnavailable('pull-time update exclusion cache on PostgreSQL');
}
