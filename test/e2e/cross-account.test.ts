import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awsCliFor, isolatedAwsEnv } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { REPO_ROOT, spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { requireClients } from '../support/env.js';
import { buildTestImages, type TestImages } from '../support/images.js';
import { run } from '../support/process.js';

type Key = { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
const ACCOUNT_A = '000000000000';
const ACCOUNT_B = '111111111111';
const ROOT_A: Key = { AWS_ACCESS_KEY_ID: 'AKIAE2ECROSSACCOUNTA', AWS_SECRET_ACCESS_KEY: 'e2e/cross/account/a/root/secret/00000000' };
const MANAGED = 'arn:aws:iam::aws:policy/';
const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];

/**
 * Two accounts on one server. As in AWS, a principal of account B reaches a
 * repository of account A only when both sides allow it: A's repository
 * policy names B, and B's identity policies allow the action.
 */
describe('cross-account access needs both the repository policy and the identity policy', () => {
  let scratch: string;
  let dataDir: string;
  let server: BerthProcess;
  let host: string;
  let baseEnv: NodeJS.ProcessEnv;
  let rootB: Key;
  let images: TestImages | undefined;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-xacct-'));
    dataDir = join(scratch, 'data');
    const env = { BERTH_DATA_DIR: dataDir, BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_ROOT_ACCESS_KEY_ID: ROOT_A.AWS_ACCESS_KEY_ID, BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_A.AWS_SECRET_ACCESS_KEY };
    server = await spawnBerth(env);
    host = server.url.replace(/^https?:\/\//, '');
    baseEnv = await isolatedAwsEnv(scratch);
    // The operator creates account B while the server runs.
    const created = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'account', 'create', '--id', ACCOUNT_B, '--alias', 'team-b'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeoutMs: 60_000,
    });
    const id = /AWS_ACCESS_KEY_ID=(\S+)/.exec(created.stdout)?.[1];
    const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(created.stdout)?.[1];
    assert.ok(id && secret, `berth admin account create printed the root key: ${created.stdout}`);
    rootB = { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret };
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws: ReturnType<typeof awsCliFor>['aws'] = (as, args, expectOk) => awsCliFor(server.url, baseEnv).aws(as, args, expectOk);
  const loginAs = (as: Key): Promise<TestClient> => awsCliFor(server.url, baseEnv).loginAs(as);
  const createUserInB = async (name: string, managedPolicy?: string): Promise<Key> => {
    await aws(rootB, ['iam', 'create-user', '--user-name', name]);
    if (managedPolicy) {
      await aws(rootB, ['iam', 'attach-user-policy', '--user-name', name, '--policy-arn', `${MANAGED}${managedPolicy}`]);
    } else {
      const loginOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] });
      await aws(rootB, ['iam', 'put-user-policy', '--user-name', name, '--policy-name', 'login', '--policy-document', loginOnly]);
    }
    const created = JSON.parse((await aws(rootB, ['iam', 'create-access-key', '--user-name', name])).stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    return { AWS_ACCESS_KEY_ID: created.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: created.AccessKey.SecretAccessKey };
  };
  const manifestStatus = async (client: TestClient, path: string): Promise<number> => (await client.request(`/v2/${path}/manifests/v1`)).status;

  test('account B authenticates as itself, and A\'s repository is closed to it until A\'s policy names B', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const identity = JSON.parse((await aws(rootB, ['sts', 'get-caller-identity'])).stdout) as { Account: string; Arn: string };
    assert.deepEqual(identity, { ...identity, Account: ACCOUNT_B, Arn: `arn:aws:iam::${ACCOUNT_B}:root` });

    const adminA = new TestClient(server.url);
    await adminA.pushImage('shared/app', 'v1');
    const b = await loginAs(rootB);
    const denied = await b.request(`/v2/${ACCOUNT_A}/shared/app/manifests/v1`);
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', new RegExp(`arn:aws:iam::${ACCOUNT_B}:root is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:${ACCOUNT_A}:repository/shared/app`));
    // B's own short form names B's registry? No: the short form is the default account's; B's catalog is its own.
    assert.deepEqual((await b.json<{ repositories: string[] }>('/v2/_catalog')).repositories, []);
  });

  test('with A\'s repository policy naming B, B\'s root pulls; B\'s users pull only if their own policies allow it', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const pullerKey = await createUserInB('b-puller', 'AmazonEC2ContainerRegistryPullOnly');
    const nobodyKey = await createUserInB('b-nobody');
    const puller = await loginAs(pullerKey);
    const nobody = await loginAs(nobodyKey);
    const rootClient = await loginAs(rootB);
    assert.equal(await manifestStatus(puller, `${ACCOUNT_A}/shared/app`), 403, 'identity allows, but A does not');

    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'TeamB', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_B}:root` }, Action: PULL_ACTIONS }] });
    await aws(ROOT_A, ['ecr', 'set-repository-policy', '--repository-name', 'shared/app', '--policy-text', policy]);

    assert.equal(await manifestStatus(rootClient, `${ACCOUNT_A}/shared/app`), 200, 'A allows B; B\'s root holds all of B\'s permissions');
    assert.equal(await manifestStatus(puller, `${ACCOUNT_A}/shared/app`), 200, 'both sides allow');
    assert.equal(await manifestStatus(nobody, `${ACCOUNT_A}/shared/app`), 403, 'A allows B, but B never allowed this user');
    // The policy grants pulls, not pushes.
    assert.equal((await rootClient.request(`/v2/${ACCOUNT_A}/shared/app/blobs/uploads/`, { method: 'POST' })).status, 403);
    // Reading A's policy is an action of its own, not granted.
    assert.match((await aws(rootB, ['ecr', 'get-repository-policy', '--registry-id', ACCOUNT_A, '--repository-name', 'shared/app'], false)).stderr, /AccessDeniedException/);
  });

  test('skopeo as B\'s PullOnly user copies the image from A\'s registry', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo'])) return;
    const pullerKey = await createUserInB('b-skopeo', 'AmazonEC2ContainerRegistryPullOnly');
    const password = (await aws(pullerKey, ['ecr', 'get-login-password'])).stdout.trim();
    const box = await ClientSandbox.create('xacct');
    try {
      assert.equal((await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: password })).code, 0);
      const copied = await box.skopeo(['copy', '--src-tls-verify=false', `docker://${host}/${ACCOUNT_A}/shared/app:v1`, `oci:${join(box.root, 'copy')}:v1`]);
      assert.equal(copied.code, 0, copied.stderr);
    } finally {
      await box.dispose();
    }
  });

  test('B\'s own registry is B\'s: B pushes there, A\'s root and administrator cannot read it', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo', 'umoci'])) return;
    images ??= await buildTestImages(join(scratch, 'images'));
    const password = (await aws(rootB, ['ecr', 'get-login-password'])).stdout.trim();
    const box = await ClientSandbox.create('xacct-own');
    try {
      assert.equal((await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: password })).code, 0);
      const pushed = await box.skopeo(['copy', '--dest-tls-verify=false', images.app.ref, `docker://${host}/${ACCOUNT_B}/own/app:v1`]);
      assert.equal(pushed.code, 0, pushed.stderr);
    } finally {
      await box.dispose();
    }
    const b = await loginAs(rootB);
    assert.deepEqual((await b.json<{ repositories: string[] }>('/v2/_catalog')).repositories, [`${ACCOUNT_B}/own/app`]);
    const adminA = new TestClient(server.url);
    assert.equal(await manifestStatus(adminA, `${ACCOUNT_B}/own/app`), 403);
    const a = await loginAs(ROOT_A);
    assert.equal(await manifestStatus(a, `${ACCOUNT_B}/own/app`), 403);
    // B's public registry, by its alias, is open to all for reading.
    assert.equal((await fetch(`${server.url}/v2/public/team-b/nothing/manifests/v1`)).status, 404);
  });
});
