import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awsCliFor, isolatedAwsEnv, type AwsKey } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { requireClients } from '../support/env.js';
import { buildTestImages } from '../support/images.js';

const ROOT_KEY = { AWS_ACCESS_KEY_ID: 'AKIAE2EIAMROOTKEY001', AWS_SECRET_ACCESS_KEY: 'e2e/iam/root/secret/for/berth/tests/00000' };
const MANAGED = 'arn:aws:iam::aws:policy/';

/**
 * IAM users made with the real AWS CLI, logging in to the registry with
 * their own keys: what each may do is decided by their policies.
 */
describe('IAM users, their keys and policies decide what they may do on /v2/', () => {
  let scratch: string;
  let server: BerthProcess;
  let baseEnv: NodeJS.ProcessEnv;
  const keys: Record<string, AwsKey> = {};

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-iam-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT_KEY.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_KEY.AWS_SECRET_ACCESS_KEY,
    });
    baseEnv = await isolatedAwsEnv(scratch);
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws: ReturnType<typeof awsCliFor>['aws'] = (as, args, expectOk) => awsCliFor(server.url, baseEnv).aws(as, args, expectOk);
  const loginAs = (as: AwsKey): Promise<TestClient> => awsCliFor(server.url, baseEnv).loginAs(as);
  const createUser = async (name: string, managedPolicy: string): Promise<void> => {
    await aws(ROOT_KEY, ['iam', 'create-user', '--user-name', name]);
    await aws(ROOT_KEY, ['iam', 'attach-user-policy', '--user-name', name, '--policy-arn', `${MANAGED}${managedPolicy}`]);
    const created = JSON.parse((await aws(ROOT_KEY, ['iam', 'create-access-key', '--user-name', name])).stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    keys[name] = { AWS_ACCESS_KEY_ID: created.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: created.AccessKey.SecretAccessKey };
  };

  test('the root key creates users, access keys and attaches the AWS-managed ECR policies', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    await createUser('pusher', 'AmazonEC2ContainerRegistryPowerUser');
    await createUser('puller', 'AmazonEC2ContainerRegistryPullOnly');
    const users = JSON.parse((await aws(ROOT_KEY, ['iam', 'list-users'])).stdout) as { Users: { UserName: string; Arn: string }[] };
    assert.deepEqual(users.Users.map((u) => u.UserName), ['puller', 'pusher']);
    const attached = JSON.parse((await aws(ROOT_KEY, ['iam', 'list-attached-user-policies', '--user-name', 'puller'])).stdout) as { AttachedPolicies: { PolicyName: string }[] };
    assert.deepEqual(attached.AttachedPolicies.map((p) => p.PolicyName), ['AmazonEC2ContainerRegistryPullOnly']);
    const identity = JSON.parse((await aws(keys.puller as (typeof keys)[string], ['sts', 'get-caller-identity'])).stdout) as { Arn: string };
    assert.equal(identity.Arn, 'arn:aws:iam::000000000000:user/puller');
  });

  test('PowerUser pushes; PullOnly pulls but is denied a push with ECR\'s message', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const pusher = await loginAs(keys.pusher as (typeof keys)[string]);
    const digest = await pusher.pushImage('team/app', 'v1');
    const puller = await loginAs(keys.puller as (typeof keys)[string]);
    const pulled = await puller.request('/v2/team/app/manifests/v1');
    assert.equal(pulled.status, 200);
    assert.equal(pulled.headers.get('docker-content-digest'), digest);
    const push = await puller.request('/v2/team/app/blobs/uploads/', { method: 'POST' });
    assert.equal(push.status, 403);
    const body = (await push.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'DENIED');
    assert.match(body.errors[0]?.message ?? '', /User: arn:aws:iam::000000000000:user\/puller is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:000000000000:repository\/team\/app/);
    // PullOnly has no ecr:DescribeRepositories: the catalog shows it nothing; PowerUser sees the repository.
    assert.deepEqual(((await (await puller.request('/v2/_catalog')).json()) as { repositories: string[] }).repositories, []);
    assert.deepEqual(((await (await pusher.request('/v2/_catalog')).json()) as { repositories: string[] }).repositories, ['team/app']);
  });

  test('an explicit Deny in an inline policy beats the managed allow, at once', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const deny = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: 'arn:aws:ecr:us-east-1:000000000000:repository/team/*' }] });
    await aws(ROOT_KEY, ['iam', 'put-user-policy', '--user-name', 'puller', '--policy-name', 'no-team', '--policy-document', deny]);
    const puller = await loginAs(keys.puller as (typeof keys)[string]);
    const denied = await puller.request('/v2/team/app/manifests/v1');
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', /explicit deny in an identity-based policy/);
    await aws(ROOT_KEY, ['iam', 'delete-user-policy', '--user-name', 'puller', '--policy-name', 'no-team']);
    assert.equal((await puller.request('/v2/team/app/manifests/v1')).status, 200);
  });

  test('bad input to IAM gets IAM\'s errors and changes nothing', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const malformed = await aws(ROOT_KEY, ['iam', 'put-user-policy', '--user-name', 'puller', '--policy-name', 'bad', '--policy-document', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PushImage","Resource":"*"}]}'], false);
    assert.notEqual(malformed.code, 0);
    assert.match(malformed.stderr, /MalformedPolicyDocument/);
    const dup = await aws(ROOT_KEY, ['iam', 'create-user', '--user-name', 'puller'], false);
    assert.match(dup.stderr, /EntityAlreadyExists/);
    const missing = await aws(ROOT_KEY, ['iam', 'attach-user-policy', '--user-name', 'nobody', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryReadOnly`], false);
    assert.match(missing.stderr, /NoSuchEntity/);
    const policies = JSON.parse((await aws(ROOT_KEY, ['iam', 'list-user-policies', '--user-name', 'puller'])).stdout) as { PolicyNames: string[] };
    assert.deepEqual(policies.PolicyNames, []);
    // A user may not manage IAM without permission.
    const escalate = await aws(keys.pusher as (typeof keys)[string], ['iam', 'attach-user-policy', '--user-name', 'pusher', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryFullAccess`], false);
    assert.match(escalate.stderr, /AccessDenied/);
  });

  test('skopeo as the PullOnly user: inspect works, a push is refused', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo', 'umoci'])) return;
    const password = (await aws(keys.puller as (typeof keys)[string], ['ecr', 'get-login-password'])).stdout.trim();
    const host = server.url.replace(/^https?:\/\//, '');
    const box = await ClientSandbox.create('iam-puller');
    try {
      const images = await buildTestImages(join(scratch, 'images'));
      assert.equal((await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: password })).code, 0);
      const inspect = await box.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/team/app:v1`]);
      assert.equal(inspect.code, 0, inspect.stderr);
      const push = await box.skopeo(['copy', '--dest-tls-verify=false', images.app.ref, `docker://${host}/team/other:v1`], { allowFailure: true });
      assert.notEqual(push.code, 0);
      // skopeo's first request is a HEAD for the blob, refused with a bare 403.
      assert.match(push.stderr, /denied|not authorized|403 \(Forbidden\)/i);
    } finally {
      await box.dispose();
    }
  });

  test('get-access-key-last-used tells where a key was last used; a third key is over the limit', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    type LastUsed = { UserName: string; AccessKeyLastUsed: { LastUsedDate?: string; ServiceName: string; Region: string } };
    const puller = keys.puller as (typeof keys)[string];
    const used = JSON.parse((await aws(ROOT_KEY, ['iam', 'get-access-key-last-used', '--access-key-id', puller.AWS_ACCESS_KEY_ID])).stdout) as LastUsed;
    assert.equal(used.UserName, 'puller');
    // Recorded at most once a minute per key: the first use in this minute was sts get-caller-identity or ecr.
    assert.match(used.AccessKeyLastUsed.ServiceName, /^(sts|ecr)$/);
    assert.equal(used.AccessKeyLastUsed.Region, 'us-east-1');
    assert.ok(Math.abs(Date.parse(used.AccessKeyLastUsed.LastUsedDate ?? '') - Date.now()) < 10 * 60_000, used.AccessKeyLastUsed.LastUsedDate);

    const second = JSON.parse((await aws(ROOT_KEY, ['iam', 'create-access-key', '--user-name', 'pusher'])).stdout) as { AccessKey: { AccessKeyId: string } };
    const unused = JSON.parse((await aws(ROOT_KEY, ['iam', 'get-access-key-last-used', '--access-key-id', second.AccessKey.AccessKeyId])).stdout) as LastUsed;
    assert.deepEqual(unused.AccessKeyLastUsed, { ServiceName: 'N/A', Region: 'N/A' });
    const third = await aws(ROOT_KEY, ['iam', 'create-access-key', '--user-name', 'pusher'], false);
    assert.match(third.stderr, /LimitExceeded.*AccessKeysPerUser: 2/);
    await aws(ROOT_KEY, ['iam', 'delete-access-key', '--user-name', 'pusher', '--access-key-id', second.AccessKey.AccessKeyId]);
    const listed = JSON.parse((await aws(ROOT_KEY, ['iam', 'list-access-keys', '--user-name', 'pusher'])).stdout) as { AccessKeyMetadata: unknown[] };
    assert.equal(listed.AccessKeyMetadata.length, 1);
  });

  test('deleting an access key voids the registry passwords it minted', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const puller = await loginAs(keys.puller as (typeof keys)[string]);
    assert.equal((await puller.request('/v2/team/app/manifests/v1')).status, 200);
    await aws(ROOT_KEY, ['iam', 'delete-access-key', '--user-name', 'puller', '--access-key-id', (keys.puller as (typeof keys)[string]).AWS_ACCESS_KEY_ID]);
    assert.equal((await puller.request('/v2/team/app/manifests/v1')).status, 401);
    const signed = await aws(keys.puller as (typeof keys)[string], ['ecr', 'get-login-password'], false);
    assert.match(signed.stderr, /UnrecognizedClientException/);
  });
});
