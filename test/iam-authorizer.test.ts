import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RootAccount } from '../src/accounts/root-account.js';
import { ServerKey } from '../src/accounts/server-key.js';
import { Authorizer, userPrincipal, type Caller } from '../src/iam/authorizer.js';
import type { IamRole, IamUser, IdentityStore } from '../src/iam/identity-store.js';
import { openStores, type Stores } from '../src/storage/sql/open.js';

const ACCOUNT = '123456789012';
const REPOSITORY = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/app`;
const ROOT: RootAccount = { accountId: ACCOUNT, region: 'us-east-1', arn: `arn:aws:iam::${ACCOUNT}:root`, accessKeyId: 'AKIAAUTHORIZERROOT00', secretAccessKey: 'root-secret' };

const allow = (action: string, condition?: Record<string, unknown>): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*', ...(condition ? { Condition: condition } : {}) }] });

function newUser(name: string): IamUser {
  return { accountId: ACCOUNT, name, userId: `AIDA${randomBytes(8).toString('hex').toUpperCase()}`, path: '/', arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, createdAt: Date.now() };
}

function newRole(name: string, path = '/'): IamRole {
  return {
    accountId: ACCOUNT,
    name,
    roleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}`,
    path,
    arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }] }),
    description: undefined,
    maxSessionDuration: 3600,
    createdAt: Date.now(),
  };
}

/** The authorizer over a real identity store (SQLite), as each server process runs it. */
describe('Authorizer', () => {
  let dir: string;
  let stores: Stores;
  let serverKey: ServerKey;
  let authorizer: Authorizer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-authorizer-'));
    stores = await openStores(`sqlite:${join(dir, 'berth.db')}`);
    await stores.metadata.migrate();
    serverKey = await ServerKey.load(dir);
    authorizer = new Authorizer(stores.identities, serverKey, ROOT);
  });
  after(async () => {
    await stores?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const decide = async (caller: Caller, action: string): Promise<string> => (await authorizer.authorize(caller, action, REPOSITORY, ACCOUNT)).decision;

  test('a user holds its groups\' inline and attached policies, and loses them when it leaves the group', async () => {
    const ids = stores.identities;
    const user = newUser('gina');
    await ids.createUser(user);
    await ids.createGroup({ accountId: ACCOUNT, name: 'devs', groupId: 'AGPAEXAMPLEEXAMPLE001', path: '/', arn: `arn:aws:iam::${ACCOUNT}:group/devs`, createdAt: Date.now() });
    await ids.addUserToGroup(ACCOUNT, 'devs', 'gina');
    await ids.putInlinePolicy(ACCOUNT, { type: 'group', name: 'devs' }, { name: 'push', document: allow('ecr:PutImage') });
    await ids.attachPolicy(ACCOUNT, { type: 'group', name: 'devs' }, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly');
    authorizer.invalidate();
    const gina: Caller = { principal: userPrincipal(user), accessKeyId: undefined };
    assert.equal(await decide(gina, 'ecr:PutImage'), 'Allow');
    assert.equal(await decide(gina, 'ecr:BatchGetImage'), 'Allow');
    assert.equal(await decide(gina, 'ecr:DeleteRepository'), 'ImplicitDeny');
    await ids.removeUserFromGroup(ACCOUNT, 'devs', 'gina');
    authorizer.invalidate();
    assert.equal(await decide(gina, 'ecr:PutImage'), 'ImplicitDeny');
    assert.equal(await decide(gina, 'ecr:BatchGetImage'), 'ImplicitDeny');
  });

  test('a session key resolves to its role: session token, expiry, the role\'s policies, aws:PrincipalArn of the role', async () => {
    const ids = stores.identities;
    const role = newRole('builder', '/ci/');
    await ids.createRole(role);
    await ids.putInlinePolicy(ACCOUNT, { type: 'role', name: 'builder' }, { name: 'pull', document: allow('ecr:BatchGetImage', { ArnEquals: { 'aws:PrincipalArn': role.arn } }) });
    const now = Date.now();
    await ids.createRoleSession({
      accessKeyId: 'ASIAAUTHORIZERTEST01',
      accountId: ACCOUNT,
      roleName: 'builder',
      sessionName: 'job-7',
      sealedSecret: serverKey.encrypt('session-secret'),
      sealedToken: serverKey.encrypt('session-token'),
      expiresAt: now + 60_000,
      createdAt: now,
    });
    const credentials = await authorizer.credentialsFor('ASIAAUTHORIZERTEST01');
    assert.ok(credentials);
    assert.equal(credentials.secretAccessKey, 'session-secret');
    assert.equal(credentials.sessionToken, 'session-token');
    assert.equal(credentials.expiration?.getTime(), now + 60_000);
    assert.deepEqual(credentials.caller.principal, {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/builder/job-7`,
      accountId: ACCOUNT,
      type: 'AssumedRole',
      userId: `${role.roleId}:job-7`,
      roleArn: role.arn,
    });
    assert.equal(await decide(credentials.caller, 'ecr:BatchGetImage'), 'Allow');
    assert.equal(await decide(credentials.caller, 'ecr:PutImage'), 'ImplicitDeny');
    assert.equal(await authorizer.keyIsActive('ASIAAUTHORIZERTEST01'), true);

    await ids.createRoleSession({
      accessKeyId: 'ASIAAUTHORIZEREXPIRD',
      accountId: ACCOUNT,
      roleName: 'builder',
      sessionName: 'old',
      sealedSecret: serverKey.encrypt('s'),
      sealedToken: serverKey.encrypt('t'),
      expiresAt: now + 50,
      createdAt: now,
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(await authorizer.keyIsActive('ASIAAUTHORIZEREXPIRD'), false);
  });

  test('another process\'s change (a deleted role) reaches this one within about a second, with no call to invalidate()', async () => {
    const ids = stores.identities;
    await ids.createRole(newRole('short-lived'));
    await ids.createRoleSession({
      accessKeyId: 'ASIAAUTHORIZERSHORT1',
      accountId: ACCOUNT,
      roleName: 'short-lived',
      sessionName: 's1',
      sealedSecret: serverKey.encrypt('s'),
      sealedToken: serverKey.encrypt('t'),
      expiresAt: Date.now() + 60_000,
      createdAt: Date.now(),
    });
    const otherProcess = await openStores(`sqlite:${join(dir, 'berth.db')}`);
    try {
      assert.equal(await authorizer.keyIsActive('ASIAAUTHORIZERSHORT1'), true);
      assert.equal(await otherProcess.identities.deleteRole(ACCOUNT, 'short-lived'), true);
      const deadline = Date.now() + 1500;
      while ((await authorizer.keyIsActive('ASIAAUTHORIZERSHORT1')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await authorizer.keyIsActive('ASIAAUTHORIZERSHORT1'), false);
    } finally {
      await otherProcess.close();
    }
  });

  test('use of a key is written at most once a minute per key, without the caller waiting for it', async () => {
    const user = newUser('busy');
    await stores.identities.createUser(user);
    await stores.identities.createAccessKey({ accessKeyId: 'AKIAAUTHORIZERBUSY01', accountId: ACCOUNT, userName: 'busy', sealedSecret: serverKey.encrypt('x'), status: 'Active', createdAt: Date.now(), lastUsedAt: undefined });
    const touches: string[] = [];
    const counting = new Proxy(stores.identities, {
      get(target, property, receiver) {
        if (property === 'touchAccessKey') {
          return (accessKeyId: string, usedAt: number, where?: { service: string; region: string }) => {
            touches.push(accessKeyId);
            return target.touchAccessKey(accessKeyId, usedAt, where);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as IdentityStore;
    const recording = new Authorizer(counting, serverKey, ROOT);
    for (let i = 0; i < 1000; i++) recording.recordKeyUse('AKIAAUTHORIZERBUSY01', 'ecr', 'eu-west-1');
    // The root key and session keys are not IAM access keys: nothing to record.
    recording.recordKeyUse(ROOT.accessKeyId, 'ecr');
    recording.recordKeyUse('ASIAAUTHORIZERTEST01', 'ecr');
    assert.deepEqual(touches, ['AKIAAUTHORIZERBUSY01']);
    const deadline = Date.now() + 2000;
    while ((await stores.identities.getAccessKeyLastUse('AKIAAUTHORIZERBUSY01')) === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const lastUse = await stores.identities.getAccessKeyLastUse('AKIAAUTHORIZERBUSY01');
    assert.equal(lastUse?.service, 'ecr');
    assert.equal(lastUse?.region, 'eu-west-1');
  });
});
