import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityConflictError, type AccessKey, type IamUser } from '../src/iam/identity-store.js';
import { NoSuchUserError } from '../src/iam/identity-store.js';
import { openStores, type Stores } from '../src/storage/sql/open.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';

// ---------------------------------------------------------------- helpers

/** A fresh account id (12 digits), so tests sharing one database never see each other's rows. */
function newAccount(): string {
  return String(100_000_000_000 + Math.floor(Math.random() * 899_999_999_999));
}

function user(accountId: string, name: string, extra: Partial<IamUser> = {}): IamUser {
  return {
    accountId,
    name,
    userId: `AIDA${randomBytes(8).toString('hex').toUpperCase()}`,
    path: '/',
    arn: `arn:aws:iam::${accountId}:user/${name}`,
    createdAt: Date.now(),
    ...extra,
  };
}

function key(accountId: string, userName: string | undefined, extra: Partial<AccessKey> = {}): AccessKey {
  return {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    accountId,
    userName,
    sealedSecret: `sealed:${randomBytes(16).toString('base64url')}`,
    status: 'Active',
    createdAt: Date.now(),
    lastUsedAt: undefined,
    ...extra,
  };
}

const doc = (action: string): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

// ---------------------------------------------------------------- the shared suite

/**
 * Runs every IdentityStore behaviour against one backend. Tests share one
 * database and keep to their own (random) accounts, except the generation
 * checks, which only compare before/after within a test: the suite's tests
 * run one at a time.
 */
function runIdentityStoreSuite(name: string, open: () => Promise<Stores>, cleanup: () => Promise<void>): void {
  describe(name, () => {
    let stores: Stores;

    before(async () => {
      stores = await open();
      await stores.metadata.migrate();
    });

    after(async () => {
      await stores?.close();
      await cleanup();
    });

    /** Asserts `change` moves the generation forward (or, with `bumps` false, leaves it alone). */
    async function expectGeneration<T>(bumps: boolean, change: () => Promise<T>): Promise<T> {
      const before = await stores.identities.generation();
      const result = await change();
      const after = await stores.identities.generation();
      if (bumps) assert.ok(after > before, `generation moved (${before} -> ${after})`);
      else assert.equal(after, before, 'generation unchanged');
      return result;
    }

    test('migration is applied with the metadata store and is re-runnable', async () => {
      await stores.metadata.migrate();
      assert.equal(typeof (await stores.identities.generation()), 'number');
    });

    describe('users', () => {
      test('create, get, list by name', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const bob = user(account, 'bob', { path: '/team/', createdAt: 1_700_000_000_123 });
        await ids.createUser(bob);
        await ids.createUser(user(account, 'alice'));
        await ids.createUser(user(account, 'Zed'));
        await ids.createUser(user(newAccount(), 'carol'));

        assert.deepEqual(await ids.getUser(account, 'bob'), bob);
        const got = await ids.getUser(account, 'bob');
        assert.equal(typeof got?.createdAt, 'number');
        assert.equal(await ids.getUser(account, 'nobody'), undefined);
        assert.equal(await ids.getUser(newAccount(), 'bob'), undefined);
        // Byte order: upper case before lower case.
        assert.deepEqual(
          (await ids.listUsers(account)).map((u) => u.name),
          ['Zed', 'alice', 'bob'],
        );
        assert.deepEqual(await ids.listUsers(newAccount()), []);
      });

      test('a duplicate name or user id is a conflict and changes nothing', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const first = user(account, 'dup');
        await ids.createUser(first);
        await expectGeneration(false, () =>
          assert.rejects(ids.createUser(user(account, 'dup')), IdentityConflictError),
        );
        await assert.rejects(ids.createUser(user(account, 'other', { userId: first.userId })), IdentityConflictError);
        await assert.rejects(ids.createUser(user(newAccount(), 'x', { userId: first.userId })), IdentityConflictError);
        assert.deepEqual(await ids.listUsers(account), [first]);
        // The same name in another account is fine.
        await ids.createUser(user(newAccount(), 'dup'));
      });

      test('deleting a user removes its keys and policies, not the root keys or other users', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'gone'));
        await ids.createUser(user(account, 'stays'));
        const goneKey = key(account, 'gone');
        const staysKey = key(account, 'stays');
        const rootKey = key(account, undefined);
        for (const k of [goneKey, staysKey, rootKey]) await ids.createAccessKey(k);
        await ids.putUserPolicy(account, 'gone', { name: 'p', document: doc('ecr:*') });
        await ids.attachUserPolicy(account, 'gone', 'arn:aws:iam::aws:policy/AdministratorAccess');
        await ids.putUserPolicy(account, 'stays', { name: 'p', document: doc('ecr:*') });

        assert.equal(await expectGeneration(true, () => ids.deleteUser(account, 'gone')), true);
        assert.equal(await ids.getUser(account, 'gone'), undefined);
        assert.equal(await ids.getAccessKey(goneKey.accessKeyId), undefined);
        assert.deepEqual(await ids.listAccessKeys(account, 'gone'), []);
        assert.deepEqual(await ids.listUserPolicies(account, 'gone'), []);
        assert.deepEqual(await ids.listAttachedUserPolicies(account, 'gone'), []);
        assert.deepEqual(await ids.getAccessKey(staysKey.accessKeyId), staysKey);
        assert.deepEqual(await ids.getAccessKey(rootKey.accessKeyId), rootKey);
        assert.equal((await ids.listUserPolicies(account, 'stays')).length, 1);

        assert.equal(await expectGeneration(false, () => ids.deleteUser(account, 'gone')), false);
        // A re-created user starts with nothing.
        await ids.createUser(user(account, 'gone'));
        assert.deepEqual(await ids.listAccessKeys(account, 'gone'), []);
        assert.deepEqual(await ids.listUserPolicies(account, 'gone'), []);
      });
    });

    describe('access keys', () => {
      test('create and get, root and user keys, numbers for timestamps', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'u'));
        const root = key(account, undefined, { createdAt: 1_700_000_000_001 });
        const mine = key(account, 'u', { createdAt: 1_700_000_000_002, lastUsedAt: 1_700_000_000_500 });
        await ids.createAccessKey(root);
        await ids.createAccessKey(mine);
        const gotRoot = await ids.getAccessKey(root.accessKeyId);
        assert.deepEqual(gotRoot, root);
        assert.ok(gotRoot && 'userName' in gotRoot && gotRoot.userName === undefined);
        assert.equal(gotRoot.lastUsedAt, undefined);
        const gotMine = await ids.getAccessKey(mine.accessKeyId);
        assert.deepEqual(gotMine, mine);
        assert.equal(typeof gotMine?.createdAt, 'number');
        assert.equal(typeof gotMine?.lastUsedAt, 'number');
        assert.equal(await ids.getAccessKey('AKIADOESNOTEXIST0000'), undefined);
      });

      test('a duplicate key id is a conflict; a key for a missing user is refused', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'u'));
        const k = key(account, 'u');
        await ids.createAccessKey(k);
        await expectGeneration(false, () =>
          assert.rejects(ids.createAccessKey({ ...k, userName: undefined }), IdentityConflictError),
        );
        await assert.rejects(ids.createAccessKey({ ...k, accountId: newAccount() }), IdentityConflictError);
        assert.deepEqual(await ids.getAccessKey(k.accessKeyId), k);
        await expectGeneration(false, () =>
          assert.rejects(ids.createAccessKey(key(account, 'ghost')), NoSuchUserError),
        );
        assert.deepEqual(await ids.listAccessKeys(account, 'ghost'), []);
      });

      test('listing: root keys apart from user keys, by creation time then id', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'a'));
        await ids.createUser(user(account, 'b'));
        const a2 = key(account, 'a', { createdAt: 2000 });
        const a1 = key(account, 'a', { createdAt: 1000 });
        const a2b = key(account, 'a', { createdAt: 2000, accessKeyId: `${a2.accessKeyId.slice(0, -1)}~` });
        const b1 = key(account, 'b', { createdAt: 500 });
        const r2 = key(account, undefined, { createdAt: 20 });
        const r1 = key(account, undefined, { createdAt: 10 });
        const elsewhere = key(newAccount(), undefined, { createdAt: 1 });
        for (const k of [a2b, a2, b1, r2, a1, r1, elsewhere]) await ids.createAccessKey(k);

        assert.deepEqual(await ids.listAccessKeys(account, 'a'), [a1, a2, a2b]);
        assert.deepEqual(await ids.listAccessKeys(account, 'b'), [b1]);
        assert.deepEqual(await ids.listAccessKeys(account, undefined), [r1, r2]);
        assert.deepEqual(await ids.listAccessKeys(account, 'nobody'), []);
        assert.deepEqual(await ids.listAccessKeys(newAccount(), undefined), []);
      });

      test('status changes bump the generation; unknown keys report false', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const k = key(account, undefined);
        await expectGeneration(true, () => ids.createAccessKey(k));
        assert.equal(await expectGeneration(true, () => ids.setAccessKeyStatus(k.accessKeyId, 'Inactive')), true);
        assert.equal((await ids.getAccessKey(k.accessKeyId))?.status, 'Inactive');
        assert.equal(await expectGeneration(true, () => ids.setAccessKeyStatus(k.accessKeyId, 'Active')), true);
        assert.equal((await ids.getAccessKey(k.accessKeyId))?.status, 'Active');
        assert.equal(await expectGeneration(false, () => ids.setAccessKeyStatus('AKIANOPE', 'Inactive')), false);
      });

      test('delete', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const k = key(account, undefined);
        const other = key(account, undefined);
        await ids.createAccessKey(k);
        await ids.createAccessKey(other);
        assert.equal(await expectGeneration(true, () => ids.deleteAccessKey(k.accessKeyId)), true);
        assert.equal(await ids.getAccessKey(k.accessKeyId), undefined);
        assert.deepEqual(await ids.listAccessKeys(account, undefined), [other]);
        assert.equal(await expectGeneration(false, () => ids.deleteAccessKey(k.accessKeyId)), false);
      });

      test('touch records use without changing the generation, never moving backwards', async () => {
        const ids = stores.identities;
        const k = key(newAccount(), undefined);
        await ids.createAccessKey(k);
        await expectGeneration(false, () => ids.touchAccessKey(k.accessKeyId, 1_700_000_000_000));
        assert.equal((await ids.getAccessKey(k.accessKeyId))?.lastUsedAt, 1_700_000_000_000);
        await expectGeneration(false, () => ids.touchAccessKey(k.accessKeyId, 1_700_000_005_000));
        assert.equal((await ids.getAccessKey(k.accessKeyId))?.lastUsedAt, 1_700_000_005_000);
        await ids.touchAccessKey(k.accessKeyId, 1_700_000_001_000);
        assert.equal((await ids.getAccessKey(k.accessKeyId))?.lastUsedAt, 1_700_000_005_000);
        // An unknown key is not an error.
        await ids.touchAccessKey('AKIANOPE', Date.now());
        const got = await ids.getAccessKey(k.accessKeyId);
        assert.deepEqual(got, { ...k, lastUsedAt: 1_700_000_005_000 });
      });
    });

    describe('inline policies', () => {
      test('put, get, list by name, replace, delete', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'u'));
        await ids.createUser(user(account, 'v'));
        await expectGeneration(true, () => ids.putUserPolicy(account, 'u', { name: 'pull', document: doc('ecr:BatchGetImage') }));
        await ids.putUserPolicy(account, 'u', { name: 'Push', document: doc('ecr:PutImage') });
        await ids.putUserPolicy(account, 'u', { name: 'admin', document: doc('*') });
        await ids.putUserPolicy(account, 'v', { name: 'pull', document: doc('ecr:Describe*') });

        assert.deepEqual(await ids.getUserPolicy(account, 'u', 'pull'), { name: 'pull', document: doc('ecr:BatchGetImage') });
        assert.equal(await ids.getUserPolicy(account, 'u', 'nope'), undefined);
        assert.equal(await ids.getUserPolicy(account, 'w', 'pull'), undefined);
        assert.deepEqual(
          (await ids.listUserPolicies(account, 'u')).map((p) => p.name),
          ['Push', 'admin', 'pull'],
        );

        // Re-putting replaces the document, and counts as a change.
        await expectGeneration(true, () => ids.putUserPolicy(account, 'u', { name: 'pull', document: doc('ecr:*') }));
        assert.deepEqual(await ids.getUserPolicy(account, 'u', 'pull'), { name: 'pull', document: doc('ecr:*') });
        assert.equal((await ids.listUserPolicies(account, 'u')).length, 3);
        assert.deepEqual(await ids.getUserPolicy(account, 'v', 'pull'), { name: 'pull', document: doc('ecr:Describe*') });

        assert.equal(await expectGeneration(true, () => ids.deleteUserPolicy(account, 'u', 'pull')), true);
        assert.equal(await ids.getUserPolicy(account, 'u', 'pull'), undefined);
        assert.equal(await expectGeneration(false, () => ids.deleteUserPolicy(account, 'u', 'pull')), false);
        assert.deepEqual(
          (await ids.listUserPolicies(account, 'u')).map((p) => p.name),
          ['Push', 'admin'],
        );
      });

      test('a policy for a missing user is refused', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await expectGeneration(false, () =>
          assert.rejects(ids.putUserPolicy(account, 'ghost', { name: 'p', document: doc('*') }), NoSuchUserError),
        );
        assert.deepEqual(await ids.listUserPolicies(account, 'ghost'), []);
      });
    });

    describe('attached policies', () => {
      test('attach (idempotent), list by ARN, detach', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'u'));
        const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
        const pull = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';
        const custom = `arn:aws:iam::${account}:policy/Custom`;
        await expectGeneration(true, () => ids.attachUserPolicy(account, 'u', pull));
        await ids.attachUserPolicy(account, 'u', custom);
        await ids.attachUserPolicy(account, 'u', admin);
        await expectGeneration(false, () => ids.attachUserPolicy(account, 'u', admin));
        assert.deepEqual(await ids.listAttachedUserPolicies(account, 'u'), [custom, admin, pull].sort());
        assert.deepEqual(await ids.listAttachedUserPolicies(account, 'other'), []);

        assert.equal(await expectGeneration(true, () => ids.detachUserPolicy(account, 'u', admin)), true);
        assert.equal(await expectGeneration(false, () => ids.detachUserPolicy(account, 'u', admin)), false);
        assert.deepEqual(await ids.listAttachedUserPolicies(account, 'u'), [custom, pull].sort());
        await assert.rejects(ids.attachUserPolicy(account, 'ghost', admin), NoSuchUserError);
      });
    });

    describe('generation', () => {
      test('bumps on user create and delete, and is shared by a second opening', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await expectGeneration(true, () => ids.createUser(user(account, 'g')));
        await expectGeneration(true, () => ids.deleteUser(account, 'g'));
        const second = await open();
        try {
          assert.equal(await second.identities.generation(), await ids.generation());
          await second.identities.createUser(user(account, 'g2'));
          assert.equal(await ids.generation(), await second.identities.generation());
          assert.ok(await ids.getUser(account, 'g2'));
        } finally {
          await second.close();
        }
      });

      test('reads do not bump it', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'r'));
        await expectGeneration(false, async () => {
          await ids.getUser(account, 'r');
          await ids.listUsers(account);
          await ids.listAccessKeys(account, 'r');
          await ids.listAccessKeys(account, undefined);
          await ids.getAccessKey('AKIANOPE');
          await ids.listUserPolicies(account, 'r');
          await ids.getUserPolicy(account, 'r', 'p');
          await ids.listAttachedUserPolicies(account, 'r');
        });
      });
    });

    test('the metadata store on the same database still works', async () => {
      const repo = await stores.metadata.ensureRepository(`identity-suite/${randomBytes(4).toString('hex')}`);
      assert.equal((await stores.metadata.getRepository(repo.name))?.id, repo.id);
      assert.equal(stores.identities.db, stores.metadata.db);
    });
  });
}

// ---------------------------------------------------------------- SQLite

const sqliteDir = mkdtempSync(join(tmpdir(), 'berth-identities-'));
const sqliteUrl = `sqlite:${join(sqliteDir, 'berth.db')}`;

runIdentityStoreSuite(
  'SQLite identity store',
  () => openStores(sqliteUrl),
  async () => rmSync(sqliteDir, { recursive: true, force: true }),
);

// ---------------------------------------------------------------- PostgreSQL

if (pgUnreachable === undefined) {
  const { schema, url: pgUrl } = freshSchemaUrl('berth_iam_test');
  runIdentityStoreSuite('PostgreSQL identity store', () => openStores(pgUrl), () => dropSchema(schema));
} else {
  reportPostgresUnavailable('PostgreSQL identity store');
}
