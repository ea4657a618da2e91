import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ServerKey } from '../../src/accounts/server-key.js';
import { openStores } from '../../src/storage/sql/open.js';
import { awsCliFor, isolatedAwsEnv, type AwsKey as Credentials } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { REPO_ROOT, spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { requireClients } from '../support/env.js';
import { buildTestImages } from '../support/images.js';
import { run } from '../support/process.js';

const ACCOUNT_A = '000000000000';
const ACCOUNT_B = '222222222222';
const ROOT_A: Credentials = { AWS_ACCESS_KEY_ID: 'AKIAE2EROLESROOTKEY1', AWS_SECRET_ACCESS_KEY: 'e2e/iam/roles/root/secret/for/berth/00000' };
const MANAGED = 'arn:aws:iam::aws:policy/';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_A}:role/ci/puller`;

const trustPolicy = (principal: string): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }] });
const allowAssume = (roleArn: string): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }] });

interface AssumeRoleOutput {
  Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  AssumedRoleUser: { AssumedRoleId: string; Arn: string };
}

const sessionCredentials = (out: AssumeRoleOutput): Credentials => ({
  AWS_ACCESS_KEY_ID: out.Credentials.AccessKeyId,
  AWS_SECRET_ACCESS_KEY: out.Credentials.SecretAccessKey,
  AWS_SESSION_TOKEN: out.Credentials.SessionToken,
});

/**
 * Roles and STS AssumeRole with the real AWS CLI: trust policies decide who
 * may assume a role (same account: trust or identity policy; across
 * accounts: both), sessions act with the role's policies on /v2/, and their
 * credentials and registry passwords stop at expiry and with the role.
 */
describe('IAM roles and STS AssumeRole', () => {
  let scratch: string;
  let dataDir: string;
  let server: BerthProcess;
  let baseEnv: NodeJS.ProcessEnv;
  let host: string;
  const users: Record<string, Credentials> = {};
  let session: AssumeRoleOutput;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-iam-roles-'));
    dataDir = join(scratch, 'data');
    server = await spawnBerth({
      BERTH_DATA_DIR: dataDir,
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT_A.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_A.AWS_SECRET_ACCESS_KEY,
    });
    host = server.url.replace(/^https?:\/\//, '');
    baseEnv = await isolatedAwsEnv(scratch);
    await new TestClient(server.url).pushImage('team/app', 'v1');
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws: ReturnType<typeof awsCliFor>['aws'] = (as, args, expectOk) => awsCliFor(server.url, baseEnv).aws(as, args, expectOk);
  const awsJson = async <T>(as: Credentials, args: string[]): Promise<T> => JSON.parse((await aws(as, args)).stdout) as T;
  const fails = async (as: Credentials, args: string[], code: RegExp) => {
    const result = await aws(as, args, false);
    assert.notEqual(result.code, 0, `aws ${args.join(' ')} should fail`);
    assert.match(result.stderr, code);
  };
  const createUser = async (root: Credentials, name: string): Promise<Credentials> => {
    await aws(root, ['iam', 'create-user', '--user-name', name]);
    const key = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(root, ['iam', 'create-access-key', '--user-name', name]);
    return { AWS_ACCESS_KEY_ID: key.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.AccessKey.SecretAccessKey };
  };
  const assumeRole = (as: Credentials, sessionName: string, extra: string[] = []) =>
    awsJson<AssumeRoleOutput>(as, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', sessionName, ...extra]);
  const loginAs = (as: Credentials): Promise<{ client: TestClient; password: string }> => awsCliFor(server.url, baseEnv).login(as);

  test('create-role with a trust policy naming a user; PullOnly attached; get-role and list-roles', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    users.dev = await createUser(ROOT_A, 'dev');
    const created = await awsJson<{ Role: { Arn: string; RoleId: string; MaxSessionDuration: number; AssumeRolePolicyDocument: unknown } }>(ROOT_A, [
      'iam', 'create-role', '--role-name', 'puller', '--path', '/ci/', '--description', 'pulls for CI',
      '--assume-role-policy-document', trustPolicy(`arn:aws:iam::${ACCOUNT_A}:user/dev`),
    ]);
    assert.equal(created.Role.Arn, ROLE_ARN);
    assert.match(created.Role.RoleId, /^AROA[A-Z2-7]{17}$/);
    assert.equal(created.Role.MaxSessionDuration, 3600);
    assert.deepEqual(created.Role.AssumeRolePolicyDocument, JSON.parse(trustPolicy(`arn:aws:iam::${ACCOUNT_A}:user/dev`)));
    await aws(ROOT_A, ['iam', 'attach-role-policy', '--role-name', 'puller', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryPullOnly`]);
    const attached = await awsJson<{ AttachedPolicies: { PolicyName: string }[] }>(ROOT_A, ['iam', 'list-attached-role-policies', '--role-name', 'puller']);
    assert.deepEqual(attached.AttachedPolicies.map((p) => p.PolicyName), ['AmazonEC2ContainerRegistryPullOnly']);
    const roles = await awsJson<{ Roles: { RoleName: string; Description: string }[] }>(ROOT_A, ['iam', 'list-roles']);
    assert.deepEqual(roles.Roles.map((r) => [r.RoleName, r.Description]), [['puller', 'pulls for CI']]);
  });

  test('the trusted user assumes the role: ASIA credentials with a session token; get-caller-identity names the session', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    session = await assumeRole(users.dev as Credentials, 'ci-1');
    assert.match(session.Credentials.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(session.Credentials.SessionToken.length > 100);
    const expiresIn = Date.parse(session.Credentials.Expiration) - Date.now();
    assert.ok(expiresIn > 3500_000 && expiresIn <= 3600_000, `default duration is an hour: ${session.Credentials.Expiration}`);
    assert.equal(session.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT_A}:assumed-role/puller/ci-1`);
    assert.match(session.AssumedRoleUser.AssumedRoleId, /^AROA[A-Z2-7]{17}:ci-1$/);
    const identity = await awsJson<{ Arn: string; UserId: string; Account: string }>(sessionCredentials(session), ['sts', 'get-caller-identity']);
    assert.deepEqual(identity, { UserId: session.AssumedRoleUser.AssumedRoleId, Account: ACCOUNT_A, Arn: session.AssumedRoleUser.Arn });
    // The session key without its token, or with another token, is not a credential.
    const { AWS_SESSION_TOKEN: _token, ...withoutToken } = sessionCredentials(session);
    await fails(withoutToken, ['sts', 'get-caller-identity'], /InvalidClientTokenId/);
    await fails({ ...sessionCredentials(session), AWS_SESSION_TOKEN: 'not-the-token' }, ['sts', 'get-caller-identity'], /InvalidClientTokenId/);
    // The session has the role's permissions, not the user's: no IAM.
    await fails(sessionCredentials(session), ['iam', 'list-users'], /AccessDenied.*assumed-role\/puller\/ci-1/);
    // A session owns no access keys: naming no user is an error, not the account root's keys.
    await fails(sessionCredentials(session), ['iam', 'list-access-keys'], /ValidationError.*non-User credentials/);
  });

  test('with the session: get-login-password, skopeo pulls, a push is denied; the password expires with the session', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo', 'umoci'])) return;
    const { client, password } = await loginAs(sessionCredentials(session));
    const claims = JSON.parse(Buffer.from(password.split('.')[0] as string, 'base64url').toString('utf8')) as { exp: number; sub: string };
    assert.equal(claims.exp, Math.floor(Date.parse(session.Credentials.Expiration) / 1000));
    assert.equal(claims.sub, session.AssumedRoleUser.Arn);
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 200);
    const denied = await client.request('/v2/team/app/blobs/uploads/', { method: 'POST' });
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', /assumed-role\/puller\/ci-1 is not authorized to perform: ecr:InitiateLayerUpload/);

    const box = await ClientSandbox.create('iam-role-session');
    try {
      const images = await buildTestImages(join(scratch, 'images'));
      assert.equal((await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: password })).code, 0);
      const pull = await box.skopeo(['copy', '--src-tls-verify=false', `docker://${host}/team/app:v1`, `oci:${join(scratch, 'pulled')}:v1`]);
      assert.equal(pull.code, 0, pull.stderr);
      const push = await box.skopeo(['copy', '--dest-tls-verify=false', images.app.ref, `docker://${host}/team/other:v1`], { allowFailure: true });
      assert.notEqual(push.code, 0);
      assert.match(push.stderr, /denied|not authorized|403 \(Forbidden\)/i);
    } finally {
      await box.dispose();
    }
  });

  test('a session stops at its expiry: SigV4 answers ExpiredToken and its registry password is refused', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    // AssumeRole's shortest session is 15 minutes; record a 10-second one (each AWS CLI call takes a second or two) of the same role directly.
    const stores = await openStores(`sqlite:${join(dataDir, 'berth.db')}`);
    const serverKey = await ServerKey.load(dataDir);
    const short: Credentials = { AWS_ACCESS_KEY_ID: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, AWS_SECRET_ACCESS_KEY: randomBytes(30).toString('base64').slice(0, 40), AWS_SESSION_TOKEN: randomBytes(64).toString('base64') };
    const LIFETIME_MS = 10_000;
    const now = Date.now();
    try {
      await stores.identities.createRoleSession({
        accessKeyId: short.AWS_ACCESS_KEY_ID,
        accountId: ACCOUNT_A,
        roleName: 'puller',
        sessionName: 'short',
        sealedSecret: serverKey.encrypt(short.AWS_SECRET_ACCESS_KEY),
        sealedToken: serverKey.encrypt(short.AWS_SESSION_TOKEN as string),
        expiresAt: now + LIFETIME_MS,
        createdAt: now,
      });
    } finally {
      await stores.close();
    }
    const identity = await awsJson<{ Arn: string }>(short, ['sts', 'get-caller-identity']);
    assert.equal(identity.Arn, `arn:aws:sts::${ACCOUNT_A}:assumed-role/puller/short`);
    const { client, password } = await loginAs(short);
    const claims = JSON.parse(Buffer.from(password.split('.')[0] as string, 'base64url').toString('utf8')) as { exp: number };
    assert.equal(claims.exp, Math.floor((now + LIFETIME_MS) / 1000));
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, now + LIFETIME_MS + 500 - Date.now())));
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 401);
    await fails(short, ['sts', 'get-caller-identity'], /ExpiredToken/);
  });

  test('trust by account delegates to identity policies; untrusted users, the root and bad input are refused', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    users.ops = await createUser(ROOT_A, 'ops');
    // Trusted by name only: ops is not named and has no identity policy.
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'ops'], /AccessDenied.*user\/ops is not authorized to perform: sts:AssumeRole/);
    // An identity policy alone does not do it: a trust policy must allow, even within the account.
    await aws(ROOT_A, ['iam', 'put-user-policy', '--user-name', 'ops', '--policy-name', 'assume', '--policy-document', allowAssume(ROLE_ARN)]);
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'ops'], /AccessDenied/);
    await aws(ROOT_A, ['iam', 'delete-user-policy', '--user-name', 'ops', '--policy-name', 'assume']);
    // Trusting the account delegates: now ops needs (and with it, has) an identity policy allowing sts:AssumeRole.
    await aws(ROOT_A, ['iam', 'update-assume-role-policy', '--role-name', 'puller', '--policy-document', trustPolicy(ACCOUNT_A)]);
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'ops'], /AccessDenied/);
    await aws(ROOT_A, ['iam', 'put-user-policy', '--user-name', 'ops', '--policy-name', 'assume', '--policy-document', allowAssume(ROLE_ARN)]);
    const opsSession = await assumeRole(users.ops as Credentials, 'ops', ['--duration-seconds', '900']);
    assert.ok(Date.parse(opsSession.Credentials.Expiration) - Date.now() <= 900_000);

    await fails(ROOT_A, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'root'], /AccessDenied.*Roles may not be assumed by root accounts/);
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'ops', '--duration-seconds', '7200'], /ValidationError.*MaxSessionDuration/);
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${ACCOUNT_A}:role/missing`, '--role-session-name', 'ops'], /AccessDenied/);
    // The CLI checks the session name's length itself; the pattern is the server's to check.
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'no spaces'], /ValidationError/);
    await fails(ROOT_A, ['iam', 'create-role', '--role-name', 'bad', '--assume-role-policy-document', allowAssume(ROLE_ARN)], /MalformedPolicyDocument.*Principal/);
    await fails(ROOT_A, ['iam', 'create-role', '--role-name', 'bad', '--max-session-duration', '100', '--assume-role-policy-document', trustPolicy(ACCOUNT_A)], /ValidationError|Invalid value for parameter/);
    await fails(ROOT_A, ['iam', 'create-role', '--role-name', 'puller', '--assume-role-policy-document', trustPolicy(ACCOUNT_A)], /EntityAlreadyExists/);
    const roles = await awsJson<{ Roles: { RoleName: string }[] }>(ROOT_A, ['iam', 'list-roles']);
    assert.deepEqual(roles.Roles.map((r) => r.RoleName), ['puller']);
  });

  test('across accounts both the trust policy and the caller\'s identity policy must allow', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const created = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'account', 'create', '--id', ACCOUNT_B, '--alias', 'team-b'], {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_DATA_DIR: dataDir, BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_ROOT_ACCESS_KEY_ID: ROOT_A.AWS_ACCESS_KEY_ID, BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_A.AWS_SECRET_ACCESS_KEY },
      timeoutMs: 60_000,
    });
    const id = /AWS_ACCESS_KEY_ID=(\S+)/.exec(created.stdout)?.[1];
    const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(created.stdout)?.[1];
    assert.ok(id && secret, `berth admin account create printed the root key: ${created.stdout}`);
    const rootB: Credentials = { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret };
    const builder = await createUser(rootB, 'builder');

    // The role trusts only account A: B's user is refused even with an identity allow.
    await aws(rootB, ['iam', 'put-user-policy', '--user-name', 'builder', '--policy-name', 'assume', '--policy-document', allowAssume(ROLE_ARN)]);
    await fails(builder, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'from-b'], /AccessDenied/);
    // Trusting account B is not enough without B's identity policy…
    await aws(ROOT_A, ['iam', 'update-assume-role-policy', '--role-name', 'puller', '--policy-document', trustPolicy(`arn:aws:iam::${ACCOUNT_B}:root`)]);
    await aws(rootB, ['iam', 'delete-user-policy', '--user-name', 'builder', '--policy-name', 'assume']);
    await fails(builder, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'from-b'], /AccessDenied.*user\/builder is not authorized to perform: sts:AssumeRole/);
    // …with both, B's user gets a session of A's role and pulls from A's registry.
    await aws(rootB, ['iam', 'put-user-policy', '--user-name', 'builder', '--policy-name', 'assume', '--policy-document', allowAssume(ROLE_ARN)]);
    const crossSession = await assumeRole(builder, 'from-b');
    assert.equal(crossSession.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT_A}:assumed-role/puller/from-b`);
    const identity = await awsJson<{ Account: string }>(sessionCredentials(crossSession), ['sts', 'get-caller-identity']);
    assert.equal(identity.Account, ACCOUNT_A);
    const { client } = await loginAs(sessionCredentials(crossSession));
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 200);
  });

  test('sts:ExternalId reaches the trust policy\'s conditions; a session assumes a role only if its own role allows it', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const trustWithExternalId = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_A}:user/ops` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'tenant-42' } } }],
    });
    await aws(ROOT_A, ['iam', 'update-assume-role-policy', '--role-name', 'puller', '--policy-document', trustWithExternalId]);
    // ops's own identity policy allows sts:AssumeRole on the role: drop it, so the trust policy alone decides.
    await aws(ROOT_A, ['iam', 'delete-user-policy', '--user-name', 'ops', '--policy-name', 'assume']);
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'ops'], /AccessDenied/);
    await fails(users.ops as Credentials, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'ops', '--external-id', 'tenant-7'], /AccessDenied/);
    const withId = await assumeRole(users.ops as Credentials, 'ops-ext', ['--external-id', 'tenant-42']);

    // Role chaining: the session's identity policies are the role's, which do not allow sts:AssumeRole yet.
    await aws(ROOT_A, ['iam', 'update-assume-role-policy', '--role-name', 'puller', '--policy-document', trustPolicy(ACCOUNT_A)]);
    const chained = sessionCredentials(withId);
    await fails(chained, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'chained'], /AccessDenied.*assumed-role\/puller\/ops-ext/);
    await aws(ROOT_A, ['iam', 'put-role-policy', '--role-name', 'puller', '--policy-name', 'chain', '--policy-document', allowAssume(ROLE_ARN)]);
    const again = await assumeRole(chained, 'chained');
    assert.equal(again.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT_A}:assumed-role/puller/chained`);
    await aws(ROOT_A, ['iam', 'delete-role-policy', '--role-name', 'puller', '--policy-name', 'chain']);
    await aws(ROOT_A, ['iam', 'put-user-policy', '--user-name', 'ops', '--policy-name', 'assume', '--policy-document', allowAssume(ROLE_ARN)]);
  });

  test('a role with policies cannot be deleted; deleting it ends its sessions and their registry passwords', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const live = await assumeRole(users.ops as Credentials, 'last');
    const { client } = await loginAs(sessionCredentials(live));
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 200);
    await aws(ROOT_A, ['iam', 'put-role-policy', '--role-name', 'puller', '--policy-name', 'list', '--policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:ListImages', Resource: '*' }] })]);
    const inline = await awsJson<{ PolicyNames: string[] }>(ROOT_A, ['iam', 'list-role-policies', '--role-name', 'puller']);
    assert.deepEqual(inline.PolicyNames, ['list']);
    await fails(ROOT_A, ['iam', 'delete-role', '--role-name', 'puller'], /DeleteConflict/);
    await aws(ROOT_A, ['iam', 'delete-role-policy', '--role-name', 'puller', '--policy-name', 'list']);
    await fails(ROOT_A, ['iam', 'delete-role', '--role-name', 'puller'], /DeleteConflict/);
    await aws(ROOT_A, ['iam', 'detach-role-policy', '--role-name', 'puller', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryPullOnly`]);
    await aws(ROOT_A, ['iam', 'delete-role', '--role-name', 'puller']);
    // Other processes would notice within a second; this one drops its caches at once.
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 401);
    await fails(sessionCredentials(live), ['sts', 'get-caller-identity'], /InvalidClientTokenId/);
    await fails(ROOT_A, ['iam', 'get-role', '--role-name', 'puller'], /NoSuchEntity/);
  });
});
