import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeleteConflictError,
  IdentityConflictError,
  LimitExceededError,
  NoSuchEntityError,
  NoSuchUserError,
  type AccessKey,
  type CustomerPolicy,
  type IamGroup,
  type IamRole,
  type IamUser,
  type PolicyHolder,
  type RoleSession,
} from '../src/iam/identity-store.js';
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

function customerPolicy(accountId: string, name: string, path = '/'): Omit<CustomerPolicy, 'defaultVersionId' | 'attachmentCount'> {
  const now = Date.now();
  return {
    accountId,
    name,
    policyId: `ANPA${randomBytes(8).toString('hex').toUpperCase()}`,
    path,
    arn: `arn:aws:iam::${accountId}:policy${path}${name}`,
    description: undefined,
    createdAt: now,
    updatedAt: now,
  };
}

function group(accountId: string, name: string, path = '/'): IamGroup {
  return { accountId, name, groupId: `AGPA${randomBytes(8).toString('hex').toUpperCase()}`, path, arn: `arn:aws:iam::${accountId}:group${path}${name}`, createdAt: Date.now() };
}

function role(accountId: string, name: string): IamRole {
  return {
    accountId,
    name,
    roleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}`,
    path: '/',
    arn: `arn:aws:iam::${accountId}:role/${name}`,
    assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: accountId }, Action: 'sts:AssumeRole' }] }),
    description: undefined,
    maxSessionDuration: 3600,
    createdAt: Date.now(),
  };
}

function session(accountId: string, roleName: string, createdAt: number, expiresAt: number): RoleSession {
  return {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    accountId,
    roleName,
    sessionName: 'test-session',
    sealedSecret: `sealed:${randomBytes(16).toString('base64url')}`,
    sealedToken: `sealed:${randomBytes(16).toString('base64url')}`,
    expiresAt,
    createdAt,
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
        await ids.putInlinePolicy(account, { type: 'user', name: 'gone' }, { name: 'p', document: doc('ecr:*') });
        await ids.attachPolicy(account, { type: 'user', name: 'gone' }, 'arn:aws:iam::aws:policy/AdministratorAccess');
        await ids.putInlinePolicy(account, { type: 'user', name: 'stays' }, { name: 'p', document: doc('ecr:*') });

        assert.equal(await expectGeneration(true, () => ids.deleteUser(account, 'gone')), true);
        assert.equal(await ids.getUser(account, 'gone'), undefined);
        assert.equal(await ids.getAccessKey(goneKey.accessKeyId), undefined);
        assert.deepEqual(await ids.listAccessKeys(account, 'gone'), []);
        assert.deepEqual(await ids.listInlinePolicies(account, { type: 'user', name: 'gone' }), []);
        assert.deepEqual(await ids.listAttachedPolicies(account, { type: 'user', name: 'gone' }), []);
        assert.deepEqual(await ids.getAccessKey(staysKey.accessKeyId), staysKey);
        assert.deepEqual(await ids.getAccessKey(rootKey.accessKeyId), rootKey);
        assert.equal((await ids.listInlinePolicies(account, { type: 'user', name: 'stays' })).length, 1);

        assert.equal(await expectGeneration(false, () => ids.deleteUser(account, 'gone')), false);
        // A re-created user starts with nothing.
        await ids.createUser(user(account, 'gone'));
        assert.deepEqual(await ids.listAccessKeys(account, 'gone'), []);
        assert.deepEqual(await ids.listInlinePolicies(account, { type: 'user', name: 'gone' }), []);
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
        await expectGeneration(true, () => ids.putInlinePolicy(account, { type: 'user', name: 'u' }, { name: 'pull', document: doc('ecr:BatchGetImage') }));
        await ids.putInlinePolicy(account, { type: 'user', name: 'u' }, { name: 'Push', document: doc('ecr:PutImage') });
        await ids.putInlinePolicy(account, { type: 'user', name: 'u' }, { name: 'admin', document: doc('*') });
        await ids.putInlinePolicy(account, { type: 'user', name: 'v' }, { name: 'pull', document: doc('ecr:Describe*') });

        assert.deepEqual(await ids.getInlinePolicy(account, { type: 'user', name: 'u' }, 'pull'), { name: 'pull', document: doc('ecr:BatchGetImage') });
        assert.equal(await ids.getInlinePolicy(account, { type: 'user', name: 'u' }, 'nope'), undefined);
        assert.equal(await ids.getInlinePolicy(account, { type: 'user', name: 'w' }, 'pull'), undefined);
        assert.deepEqual(
          (await ids.listInlinePolicies(account, { type: 'user', name: 'u' })).map((p) => p.name),
          ['Push', 'admin', 'pull'],
        );

        // Re-putting replaces the document, and counts as a change.
        await expectGeneration(true, () => ids.putInlinePolicy(account, { type: 'user', name: 'u' }, { name: 'pull', document: doc('ecr:*') }));
        assert.deepEqual(await ids.getInlinePolicy(account, { type: 'user', name: 'u' }, 'pull'), { name: 'pull', document: doc('ecr:*') });
        assert.equal((await ids.listInlinePolicies(account, { type: 'user', name: 'u' })).length, 3);
        assert.deepEqual(await ids.getInlinePolicy(account, { type: 'user', name: 'v' }, 'pull'), { name: 'pull', document: doc('ecr:Describe*') });

        assert.equal(await expectGeneration(true, () => ids.deleteInlinePolicy(account, { type: 'user', name: 'u' }, 'pull')), true);
        assert.equal(await ids.getInlinePolicy(account, { type: 'user', name: 'u' }, 'pull'), undefined);
        assert.equal(await expectGeneration(false, () => ids.deleteInlinePolicy(account, { type: 'user', name: 'u' }, 'pull')), false);
        assert.deepEqual(
          (await ids.listInlinePolicies(account, { type: 'user', name: 'u' })).map((p) => p.name),
          ['Push', 'admin'],
        );
      });

      test('a policy for a missing user is refused', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await expectGeneration(false, () =>
          assert.rejects(ids.putInlinePolicy(account, { type: 'user', name: 'ghost' }, { name: 'p', document: doc('*') }), NoSuchUserError),
        );
        assert.deepEqual(await ids.listInlinePolicies(account, { type: 'user', name: 'ghost' }), []);
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
        await ids.createPolicy(customerPolicy(account, 'Custom'), doc('ecr:*'));
        await expectGeneration(true, () => ids.attachPolicy(account, { type: 'user', name: 'u' }, pull));
        await ids.attachPolicy(account, { type: 'user', name: 'u' }, custom);
        await ids.attachPolicy(account, { type: 'user', name: 'u' }, admin);
        await expectGeneration(false, () => ids.attachPolicy(account, { type: 'user', name: 'u' }, admin));
        assert.deepEqual(await ids.listAttachedPolicies(account, { type: 'user', name: 'u' }), [custom, admin, pull].sort());
        assert.deepEqual(await ids.listAttachedPolicies(account, { type: 'user', name: 'other' }), []);

        assert.equal(await expectGeneration(true, () => ids.detachPolicy(account, { type: 'user', name: 'u' }, admin)), true);
        assert.equal(await expectGeneration(false, () => ids.detachPolicy(account, { type: 'user', name: 'u' }, admin)), false);
        assert.deepEqual(await ids.listAttachedPolicies(account, { type: 'user', name: 'u' }), [custom, pull].sort());
        await assert.rejects(ids.attachPolicy(account, { type: 'user', name: 'ghost' }, admin), NoSuchUserError);
      });
    });

    describe('access key limit and last use', () => {
      test('concurrent creates never pass the per-owner limit, from one or two openings of the database', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createUser(user(account, 'racer'));
        const second = await open();
        try {
          const attempts = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? ids : second.identities).createAccessKey(key(account, 'racer'), 2));
          const results = await Promise.allSettled(attempts);
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
          for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LimitExceededError, String(r.reason));
          assert.equal((await ids.listAccessKeys(account, 'racer')).length, 2);
          // The account root's keys are limited the same way.
          const roots = await Promise.allSettled(Array.from({ length: 6 }, () => second.identities.createAccessKey(key(account, undefined), 2)));
          assert.equal(roots.filter((r) => r.status === 'fulfilled').length, 2);
          assert.equal((await ids.listAccessKeys(account, undefined)).length, 2);
        } finally {
          await second.close();
        }
      });

      test('last use records the service and region, and is absent until the key is used', async () => {
        const ids = stores.identities;
        const k = key(newAccount(), undefined);
        await ids.createAccessKey(k);
        assert.equal(await ids.getAccessKeyLastUse(k.accessKeyId), undefined);
        await ids.touchAccessKey(k.accessKeyId, 1_700_000_000_000, { service: 'ecr', region: 'eu-west-1' });
        assert.deepEqual(await ids.getAccessKeyLastUse(k.accessKeyId), { usedAt: 1_700_000_000_000, service: 'ecr', region: 'eu-west-1' });
      });
    });

    describe('groups', () => {
      test('create, get, list; a duplicate name is a conflict', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const g = group(account, 'devs');
        await expectGeneration(true, () => ids.createGroup(g));
        await ids.createGroup(group(account, 'admins', '/ops/'));
        assert.deepEqual(await ids.getGroup(account, 'devs'), g);
        assert.deepEqual((await ids.listGroups(account)).map((x) => x.name), ['admins', 'devs']);
        await expectGeneration(false, () => assert.rejects(ids.createGroup(group(account, 'devs')), IdentityConflictError));
        assert.equal(await ids.getGroup(account, 'nope'), undefined);
      });

      test('members: add (idempotent), list both ways, remove; the group or user must exist', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createGroup(group(account, 'devs'));
        await ids.createGroup(group(account, 'ops'));
        await ids.createUser(user(account, 'ann'));
        await ids.createUser(user(account, 'bob'));
        await expectGeneration(true, () => ids.addUserToGroup(account, 'devs', 'ann'));
        await expectGeneration(false, () => ids.addUserToGroup(account, 'devs', 'ann'));
        await ids.addUserToGroup(account, 'devs', 'bob');
        await ids.addUserToGroup(account, 'ops', 'ann');
        assert.deepEqual((await ids.listGroupMembers(account, 'devs')).map((u) => u.name), ['ann', 'bob']);
        assert.deepEqual((await ids.listGroupsForUser(account, 'ann')).map((g) => g.name), ['devs', 'ops']);
        await expectGeneration(false, () => assert.rejects(ids.addUserToGroup(account, 'devs', 'ghost'), NoSuchUserError));
        await assert.rejects(ids.addUserToGroup(account, 'ghosts', 'ann'), NoSuchEntityError);
        assert.equal(await expectGeneration(true, () => ids.removeUserFromGroup(account, 'ops', 'ann')), true);
        assert.equal(await expectGeneration(false, () => ids.removeUserFromGroup(account, 'ops', 'ann')), false);
        assert.deepEqual((await ids.listGroupsForUser(account, 'ann')).map((g) => g.name), ['devs']);
      });

      test('a group with members or policies, and a user in a group, cannot be deleted', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const devs: PolicyHolder = { type: 'group', name: 'devs' };
        await ids.createGroup(group(account, 'devs'));
        await ids.createUser(user(account, 'ann'));
        await ids.addUserToGroup(account, 'devs', 'ann');
        await expectGeneration(false, () => assert.rejects(ids.deleteGroup(account, 'devs'), DeleteConflictError));
        await expectGeneration(false, () => assert.rejects(ids.deleteUser(account, 'ann'), DeleteConflictError));
        await ids.removeUserFromGroup(account, 'devs', 'ann');
        await ids.putInlinePolicy(account, devs, { name: 'pull', document: doc('ecr:BatchGetImage') });
        await assert.rejects(ids.deleteGroup(account, 'devs'), DeleteConflictError);
        await ids.deleteInlinePolicy(account, devs, 'pull');
        await ids.attachPolicy(account, devs, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly');
        await assert.rejects(ids.deleteGroup(account, 'devs'), DeleteConflictError);
        await ids.detachPolicy(account, devs, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly');
        assert.ok(await ids.getGroup(account, 'devs'));
        assert.equal(await expectGeneration(true, () => ids.deleteGroup(account, 'devs')), true);
        assert.equal(await ids.deleteGroup(account, 'devs'), false);
        assert.equal(await ids.deleteUser(account, 'ann'), true);
      });

      test('a user\'s effective policies are its own and its groups\', inline and attached; a role\'s are its own', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const shared = customerPolicy(account, 'Shared');
        await ids.createPolicy(shared, doc('ecr:ListImages'));
        await ids.createUser(user(account, 'ann'));
        await ids.createGroup(group(account, 'devs'));
        await ids.createRole(role(account, 'builder'));
        await ids.addUserToGroup(account, 'devs', 'ann');
        await ids.putInlinePolicy(account, { type: 'user', name: 'ann' }, { name: 'own', document: doc('ecr:PutImage') });
        await ids.putInlinePolicy(account, { type: 'group', name: 'devs' }, { name: 'team', document: doc('ecr:BatchGetImage') });
        await ids.attachPolicy(account, { type: 'group', name: 'devs' }, shared.arn);
        await ids.attachPolicy(account, { type: 'group', name: 'devs' }, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly');
        await ids.attachPolicy(account, { type: 'user', name: 'ann' }, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly');
        await ids.putInlinePolicy(account, { type: 'role', name: 'builder' }, { name: 'push', document: doc('ecr:CompleteLayerUpload') });
        const ann = await ids.effectivePolicies(account, { type: 'user', name: 'ann' });
        assert.deepEqual(ann.documents.map((d) => d.document).sort(), [doc('ecr:PutImage'), doc('ecr:BatchGetImage'), doc('ecr:ListImages')].sort());
        assert.deepEqual(ann.awsManagedArns, ['arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']);
        const builder = await ids.effectivePolicies(account, { type: 'role', name: 'builder' });
        assert.deepEqual(builder, { documents: [{ label: 'role/builder/push', document: doc('ecr:CompleteLayerUpload') }], awsManagedArns: [] });
        // The same names as a role or group do not leak into each other.
        assert.deepEqual((await ids.effectivePolicies(account, { type: 'role', name: 'devs' })).documents, []);
      });
    });

    describe('roles and sessions', () => {
      test('create, get, list, update the trust policy; a duplicate name is a conflict', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const r = role(account, 'builder');
        await expectGeneration(true, () => ids.createRole(r));
        assert.deepEqual(await ids.getRole(account, 'builder'), r);
        await expectGeneration(false, () => assert.rejects(ids.createRole(role(account, 'builder')), IdentityConflictError));
        assert.equal(await expectGeneration(true, () => ids.updateAssumeRolePolicy(account, 'builder', '{"changed":true}')), true);
        assert.equal((await ids.getRole(account, 'builder'))?.assumeRolePolicy, '{"changed":true}');
        assert.equal(await ids.updateAssumeRolePolicy(account, 'nope', '{}'), false);
        assert.deepEqual((await ids.listRoles(account)).map((x) => x.name), ['builder']);
      });

      test('sessions: recorded without a generation change, expired ones forgotten, gone with their role', async () => {
        const ids = stores.identities;
        const account = newAccount();
        await ids.createRole(role(account, 'builder'));
        const now = Date.now();
        const old = session(account, 'builder', now - 10_000, now - 5_000);
        await ids.createRoleSession(old);
        const live = session(account, 'builder', now, now + 3_600_000);
        await expectGeneration(false, () => ids.createRoleSession(live));
        assert.deepEqual(await ids.getRoleSession(live.accessKeyId), live);
        assert.equal(await ids.getRoleSession(old.accessKeyId), undefined);
        await expectGeneration(false, () => assert.rejects(ids.createRoleSession(session(account, 'ghost', now, now + 1000)), NoSuchEntityError));
        assert.equal(await expectGeneration(true, () => ids.deleteRole(account, 'builder')), true);
        assert.equal(await ids.getRoleSession(live.accessKeyId), undefined);
      });

      test('a role with policies cannot be deleted', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const builder: PolicyHolder = { type: 'role', name: 'builder' };
        await ids.createRole(role(account, 'builder'));
        await ids.putInlinePolicy(account, builder, { name: 'push', document: doc('ecr:PutImage') });
        await expectGeneration(false, () => assert.rejects(ids.deleteRole(account, 'builder'), DeleteConflictError));
        await ids.deleteInlinePolicy(account, builder, 'push');
        await ids.attachPolicy(account, builder, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser');
        await assert.rejects(ids.deleteRole(account, 'builder'), DeleteConflictError);
        await ids.detachPolicy(account, builder, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser');
        assert.equal(await ids.deleteRole(account, 'builder'), true);
        assert.equal(await ids.deleteRole(account, 'builder'), false);
        await assert.rejects(ids.putInlinePolicy(account, builder, { name: 'p', document: doc('*') }), NoSuchEntityError);
      });
    });

    describe('customer-managed policies', () => {
      test('create (v1 is the default), get, list; a duplicate name is a conflict; attach needs the policy', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const p = customerPolicy(account, 'Pull', '/team/');
        const created = await expectGeneration(true, () => ids.createPolicy(p, doc('ecr:BatchGetImage')));
        assert.deepEqual(created, { ...p, defaultVersionId: 'v1', attachmentCount: 0 });
        assert.deepEqual(await ids.getPolicy(p.arn), created);
        await expectGeneration(false, () => assert.rejects(ids.createPolicy(customerPolicy(account, 'Pull'), doc('*')), IdentityConflictError));
        assert.deepEqual((await ids.listPolicies(account)).map((x) => x.arn), [p.arn]);
        await ids.createUser(user(account, 'ann'));
        await expectGeneration(false, () => assert.rejects(ids.attachPolicy(account, { type: 'user', name: 'ann' }, `arn:aws:iam::${account}:policy/Missing`), NoSuchEntityError));
        // Another account's policy is not attachable here.
        await assert.rejects(ids.attachPolicy(newAccount(), { type: 'user', name: 'ann' }, p.arn), NoSuchEntityError);
      });

      test('attachment count and delete conflicts; the default version is what applies', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const p = customerPolicy(account, 'Pull');
        await ids.createPolicy(p, doc('ecr:BatchGetImage'));
        await ids.createUser(user(account, 'ann'));
        await ids.createGroup(group(account, 'devs'));
        await ids.createRole(role(account, 'builder'));
        for (const holder of [{ type: 'user', name: 'ann' }, { type: 'group', name: 'devs' }, { type: 'role', name: 'builder' }] as const) await ids.attachPolicy(account, holder, p.arn);
        assert.equal((await ids.getPolicy(p.arn))?.attachmentCount, 3);
        assert.equal(await ids.countPolicyAttachments(account, p.arn), 3);
        const entities = await ids.listEntitiesForPolicy(account, p.arn);
        assert.deepEqual([entities.users.map((u) => u.name), entities.groups.map((g) => g.name), entities.roles.map((r) => r.name)], [['ann'], ['devs'], ['builder']]);
        assert.deepEqual(await ids.listEntitiesForPolicy(newAccount(), p.arn), { users: [], groups: [], roles: [] });
        await expectGeneration(false, () => assert.rejects(ids.deletePolicy(p.arn), DeleteConflictError));

        const v2 = await expectGeneration(true, () => ids.createPolicyVersion(p.arn, doc('ecr:PutImage'), false, Date.now(), 5));
        assert.equal(v2.versionId, 'v2');
        assert.deepEqual((await ids.effectivePolicies(account, { type: 'role', name: 'builder' })).documents, [{ label: p.arn, document: doc('ecr:BatchGetImage') }]);
        assert.equal(await expectGeneration(true, () => ids.setDefaultPolicyVersion(p.arn, 'v2', Date.now())), true);
        assert.equal(await ids.setDefaultPolicyVersion(p.arn, 'v9', Date.now()), false);
        assert.deepEqual((await ids.effectivePolicies(account, { type: 'role', name: 'builder' })).documents, [{ label: p.arn, document: doc('ecr:PutImage') }]);
        assert.deepEqual((await ids.listPolicyVersions(p.arn)).map((v) => [v.versionId, v.isDefault]), [['v2', true], ['v1', false]]);
        await expectGeneration(false, () => assert.rejects(ids.deletePolicyVersion(p.arn, 'v2'), DeleteConflictError));

        for (const holder of [{ type: 'user', name: 'ann' }, { type: 'group', name: 'devs' }, { type: 'role', name: 'builder' }] as const) await ids.detachPolicy(account, holder, p.arn);
        // Still a second version: IAM wants it deleted first.
        await assert.rejects(ids.deletePolicy(p.arn), DeleteConflictError);
        assert.equal(await ids.deletePolicyVersion(p.arn, 'v1'), true);
        assert.equal(await ids.deletePolicyVersion(p.arn, 'v1'), false);
        assert.equal(await expectGeneration(true, () => ids.deletePolicy(p.arn)), true);
        assert.equal(await ids.getPolicy(p.arn), undefined);
        assert.deepEqual(await ids.listPolicyVersions(p.arn), []);
        assert.equal(await ids.deletePolicy(p.arn), false);
      });

      test('at most maxVersions versions; version ids are never reused', async () => {
        const ids = stores.identities;
        const account = newAccount();
        const p = customerPolicy(account, 'Many');
        await ids.createPolicy(p, doc('ecr:ListImages'));
        for (let i = 2; i <= 5; i++) assert.equal((await ids.createPolicyVersion(p.arn, doc('ecr:ListImages'), true, Date.now(), 5)).versionId, `v${i}`);
        await expectGeneration(false, () => assert.rejects(ids.createPolicyVersion(p.arn, doc('ecr:ListImages'), false, Date.now(), 5), LimitExceededError));
        assert.equal(await ids.deletePolicyVersion(p.arn, 'v3'), true);
        assert.equal((await ids.createPolicyVersion(p.arn, doc('ecr:ListImages'), false, Date.now(), 5)).versionId, 'v6');
        await assert.rejects(ids.createPolicyVersion(`arn:aws:iam::${account}:policy/Missing`, doc('*'), false, Date.now(), 5), NoSuchEntityError);
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
          await ids.listInlinePolicies(account, { type: 'user', name: 'r' });
          await ids.getInlinePolicy(account, { type: 'user', name: 'r' }, 'p');
          await ids.listAttachedPolicies(account, { type: 'user', name: 'r' });
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
