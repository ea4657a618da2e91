import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { templatePrefixesFor, type PullThroughCacheRule, type RepositoryCreationTemplate } from '../src/storage/registry-settings-store.js';
import { openStores, type Stores } from '../src/storage/sql/open.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';

/** A fresh account id (12 digits), so tests sharing one database never see each other's rows. */
function newAccount(): string {
  return String(100_000_000_000 + Math.floor(Math.random() * 899_999_999_999));
}

function rule(prefix: string): PullThroughCacheRule {
  return { ecrRepositoryPrefix: prefix, upstreamRegistryUrl: 'public.ecr.aws', upstreamRegistry: 'ecr-public', upstreamRepositoryPrefix: 'ROOT' };
}

function template(prefix: string, appliedFor: RepositoryCreationTemplate['appliedFor']): RepositoryCreationTemplate {
  return { prefix, appliedFor, encryptionConfiguration: { encryptionType: 'AES256' }, resourceTags: [], imageTagMutability: 'MUTABLE' };
}

/** Runs every RegistrySettingsStore behaviour against one backend; tests keep to their own random accounts. */
function runRegistrySettingsStoreSuite(name: string, open: () => Promise<Stores>, cleanup: () => Promise<void>): void {
  describe(name, () => {
    let stores: Stores;
    let second: Stores;

    before(async () => {
      stores = await open();
      await stores.metadata.migrate();
      second = await open();
    });

    after(async () => {
      await second?.close();
      await stores?.close();
      await cleanup();
    });

    test('settings: absent, put, replaced, deleted once; per account and name', async () => {
      const store = stores.registrySettings;
      const account = newAccount();
      assert.equal(await store.getSetting(account, 'replication'), undefined);
      const first = { rules: [{ destinations: [{ region: 'eu-west-1', registryId: account }] }] };
      await store.putSetting(account, 'replication', first, 1000);
      assert.deepEqual(await store.getSetting(account, 'replication'), { document: first, updatedAt: 1000 });
      await store.putSetting(account, 'replication', { rules: [] }, 2000);
      assert.deepEqual(await store.getSetting(account, 'replication'), { document: { rules: [] }, updatedAt: 2000 });
      await store.putSetting(account, 'account-setting/BLOB_MOUNTING', { value: 'ENABLED' }, 2000);
      assert.equal((await store.getSetting(account, 'account-setting/BLOB_MOUNTING'))?.document.value, 'ENABLED');
      assert.equal(await store.getSetting(newAccount(), 'replication'), undefined);
      assert.deepEqual(await store.deleteSetting(account, 'replication'), { document: { rules: [] }, updatedAt: 2000 });
      assert.equal(await store.deleteSetting(account, 'replication'), undefined);
      assert.equal((await store.getSetting(account, 'account-setting/BLOB_MOUNTING'))?.document.value, 'ENABLED');
    });

    test('items: create once, get, update in place, delete once; kinds and accounts are separate', async () => {
      const store = stores.registrySettings;
      const account = newAccount();
      assert.equal(await store.createItem(account, 'pull-through-cache-rule', 'hub', rule('hub'), 1000), 'created');
      assert.equal(await store.createItem(account, 'pull-through-cache-rule', 'hub', rule('other'), 1500), 'exists');
      assert.equal(await store.createItem(account, 'repository-creation-template', 'hub', template('hub', ['REPLICATION']), 1500), 'created');
      assert.equal(await store.createItem(newAccount(), 'pull-through-cache-rule', 'hub', rule('hub'), 1500), 'created');
      assert.deepEqual(await store.getItem(account, 'pull-through-cache-rule', 'hub'), { key: 'hub', document: rule('hub'), createdAt: 1000, updatedAt: 1000 });

      const credentialArn = `arn:aws:secretsmanager:us-east-1:${account}:secret:ecr-pullthroughcache/hub`;
      const updated = await store.updateItem(account, 'pull-through-cache-rule', 'hub', (current) => ({ ...current, credentialArn }), 3000);
      assert.deepEqual(updated, { key: 'hub', document: { ...rule('hub'), credentialArn }, createdAt: 1000, updatedAt: 3000 });
      assert.deepEqual(await store.getItem(account, 'pull-through-cache-rule', 'hub'), updated);
      assert.equal(await store.updateItem(account, 'pull-through-cache-rule', 'none', (current) => current, 3000), undefined);

      assert.deepEqual(await store.deleteItem(account, 'pull-through-cache-rule', 'hub'), updated);
      assert.equal(await store.deleteItem(account, 'pull-through-cache-rule', 'hub'), undefined);
      assert.ok(await store.getItem(account, 'repository-creation-template', 'hub'));
    });

    test('an update that throws changes nothing', async () => {
      const store = stores.registrySettings;
      const account = newAccount();
      await store.createItem(account, 'pull-through-cache-rule', 'q', rule('q'), 1000);
      await assert.rejects(
        store.updateItem(account, 'pull-through-cache-rule', 'q', () => {
          throw new Error('refused');
        }, 2000),
        /refused/,
      );
      assert.deepEqual(await store.getItem(account, 'pull-through-cache-rule', 'q'), { key: 'q', document: rule('q'), createdAt: 1000, updatedAt: 1000 });
    });

    test('listing: key order, after, limit, only the named keys', async () => {
      const store = stores.registrySettings;
      const account = newAccount();
      for (const key of ['c', 'a/b', 'b', 'a']) await store.createItem(account, 'pull-time-update-exclusion', key, {}, 1000);
      const keys = async (page: Parameters<typeof store.listItems>[2]) => (await store.listItems(account, 'pull-time-update-exclusion', page)).map((item) => item.key);
      assert.deepEqual(await keys({ limit: 10 }), ['a', 'a/b', 'b', 'c']);
      assert.deepEqual(await keys({ limit: 2 }), ['a', 'a/b']);
      assert.deepEqual(await keys({ limit: 2, after: 'a/b' }), ['b', 'c']);
      assert.deepEqual(await keys({ limit: 10, keys: ['c', 'a', 'zz'] }), ['a', 'c']);
      assert.deepEqual(await keys({ limit: 10, keys: ['c', 'a'], after: 'a' }), ['c']);
      assert.deepEqual(await keys({ limit: 10, keys: [] }), []);
      assert.deepEqual(await store.listItems(account, 'pull-through-cache-rule', { limit: 10 }), []);
    });

    test('the item limit holds when creates race, across two connections', async () => {
      const account = newAccount();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, index) => (index % 2 === 0 ? stores : second).registrySettings.createItem(account, 'pull-through-cache-rule', `p${index}`, rule(`p${index}`), 1000, 5)),
      );
      assert.equal(results.filter((result) => result === 'created').length, 5);
      assert.equal(results.filter((result) => result === 'limit-exceeded').length, 7);
      assert.equal((await stores.registrySettings.listItems(account, 'pull-through-cache-rule', { limit: 100 })).length, 5);
    });

    test('matchingCreationTemplate: the longest namespace prefix whose template covers the scenario, else ROOT', async () => {
      const store = stores.registrySettings;
      const account = newAccount();
      await store.createItem(account, 'repository-creation-template', 'ROOT', template('ROOT', ['CREATE_ON_PUSH', 'REPLICATION']), 1000);
      await store.createItem(account, 'repository-creation-template', 'prod', template('prod/', ['CREATE_ON_PUSH']), 1000);
      await store.createItem(account, 'repository-creation-template', 'prod/team', template('prod/team', ['PULL_THROUGH_CACHE']), 1000);
      const match = async (name: string, scenario: 'CREATE_ON_PUSH' | 'REPLICATION' | 'PULL_THROUGH_CACHE') => (await store.matchingCreationTemplate(account, name, scenario))?.key;
      assert.equal(await match('prod/team/app', 'PULL_THROUGH_CACHE'), 'prod/team');
      assert.equal(await match('prod/team/app', 'CREATE_ON_PUSH'), 'prod');
      assert.equal(await match('prod/team/app', 'REPLICATION'), 'ROOT');
      assert.equal(await match('prod/app', 'CREATE_ON_PUSH'), 'prod');
      // A prefix applies to names below it: `prod` itself and `production/x` are not under `prod/`.
      assert.equal(await match('prod', 'CREATE_ON_PUSH'), 'ROOT');
      assert.equal(await match('production/x', 'CREATE_ON_PUSH'), 'ROOT');
      assert.equal(await match('other/app', 'PULL_THROUGH_CACHE'), undefined);
      assert.equal(await store.matchingCreationTemplate(newAccount(), 'prod/app', 'CREATE_ON_PUSH'), undefined);
    });
  });
}

test('templatePrefixesFor: each namespace prefix, most specific first, then ROOT', () => {
  assert.deepEqual(templatePrefixesFor('a/b/c'), ['a/b', 'a', 'ROOT']);
  assert.deepEqual(templatePrefixesFor('app'), ['ROOT']);
});

// ---------------------------------------------------------------- SQLite

const sqliteDir = mkdtempSync(join(tmpdir(), 'berth-registry-settings-'));
const sqliteUrl = `sqlite:${join(sqliteDir, 'berth.db')}`;

runRegistrySettingsStoreSuite(
  'SQLite registry settings store',
  () => openStores(sqliteUrl),
  async () => rmSync(sqliteDir, { recursive: true, force: true }),
);

// ---------------------------------------------------------------- PostgreSQL

if (pgUnreachable === undefined) {
  const { schema, url: pgUrl } = freshSchemaUrl('berth_registry_settings_test');
  runRegistrySettingsStoreSuite('PostgreSQL registry settings store', () => openStores(pgUrl), () => dropSchema(schema));
} else {
  reportPostgresUnavailable('PostgreSQL registry settings store');
}
