import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awsCliFor, isolatedAwsEnv } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { requireClients } from '../support/env.js';
import { buildTestImages, type TestImages } from '../support/images.js';

type Key = { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
const ROOT_KEY: Key = { AWS_ACCESS_KEY_ID: 'AKIAE2ERESOURCEPOL01', AWS_SECRET_ACCESS_KEY: 'e2e/resource/policies/root/secret/000000' };
const ACCOUNT = '000000000000';
const ALIAS = 'berth-e2e';
const MANAGED = 'arn:aws:iam::aws:policy/';

/**
 * Public registries (anonymous pull) and repository policies, evaluated with
 * the caller's identity policies as AWS does, driven by skopeo, podman and
 * the AWS CLI.
 */
describe('public registries and repository policies', () => {
  let scratch: string;
  let server: BerthProcess;
  let host: string;
  let baseEnv: NodeJS.ProcessEnv;
  let images: TestImages | undefined;
  const keys: Record<string, Key> = {};

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-respol-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT_KEY.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_KEY.AWS_SECRET_ACCESS_KEY,
      BERTH_PUBLIC_ALIAS: ALIAS,
    });
    host = server.url.replace(/^https?:\/\//, '');
    baseEnv = await isolatedAwsEnv(scratch);
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws: ReturnType<typeof awsCliFor>['aws'] = (as, args, expectOk) => awsCliFor(server.url, baseEnv).aws(as, args, expectOk);
  const loginAs = (as: Key): Promise<TestClient> => awsCliFor(server.url, baseEnv).loginAs(as);
  const createUser = async (name: string, managedPolicy?: string): Promise<Key> => {
    await aws(ROOT_KEY, ['iam', 'create-user', '--user-name', name]);
    if (managedPolicy) await aws(ROOT_KEY, ['iam', 'attach-user-policy', '--user-name', name, '--policy-arn', `${MANAGED}${managedPolicy}`]);
    const created = JSON.parse((await aws(ROOT_KEY, ['iam', 'create-access-key', '--user-name', name])).stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    const key = { AWS_ACCESS_KEY_ID: created.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: created.AccessKey.SecretAccessKey };
    keys[name] = key;
    return key;
  };
  const testImages = async (): Promise<TestImages> => (images ??= await buildTestImages(join(scratch, 'images')));
  const anonymous = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${server.url}${path}`, init);

  test('anyone pulls from a public registry, anonymous included; nobody pushes there without a login', async (t) => {
    if (!requireClients(t, ['skopeo', 'podman', 'umoci'])) return;
    const { app } = await testImages();
    const publisher = await ClientSandbox.create('pub-admin');
    const stranger = await ClientSandbox.create('pub-anon');
    try {
      assert.equal((await publisher.skopeo(['login', '--tls-verify=false', '--username', 'admin', '--password-stdin', host], { input: ADMIN_PASSWORD })).code, 0);
      const published = await publisher.skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${host}/public/${ALIAS}/tools:v1`]);
      assert.equal(published.code, 0, published.stderr);
      await publisher.skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${host}/team/private:v1`]);

      // No login at all: skopeo and podman pull the public image.
      const inspected = await stranger.skopeo(['inspect', '--no-creds', '--tls-verify=false', `docker://${host}/public/${ALIAS}/tools:v1`]);
      assert.equal(inspected.code, 0, inspected.stderr);
      const copied = await stranger.skopeo(['copy', '--src-no-creds', '--src-tls-verify=false', `docker://${host}/public/${ALIAS}/tools:v1`, `oci:${join(stranger.root, 'pulled')}:v1`]);
      assert.equal(copied.code, 0, copied.stderr);
      const pulled = await stranger.podman(['pull', '--tls-verify=false', `${host}/public/${ALIAS}/tools:v1`]);
      assert.equal(pulled.code, 0, pulled.stderr);

      // …but neither pushes there nor reads the private registry.
      const pushed = await stranger.skopeo(['copy', '--dest-no-creds', '--dest-tls-verify=false', app.ref, `docker://${host}/public/${ALIAS}/tools:v2`], { allowFailure: true });
      assert.notEqual(pushed.code, 0);
      assert.match(pushed.stderr, /unauthorized|authentication required|401/i);
      const privatePull = await stranger.skopeo(['inspect', '--no-creds', '--tls-verify=false', `docker://${host}/team/private:v1`], { allowFailure: true });
      assert.notEqual(privatePull.code, 0);
      assert.match(privatePull.stderr, /unauthorized|authentication required|401/i);
    } finally {
      await publisher.dispose();
      await stranger.dispose();
    }

    // The protocol view of the same: reads answer, everything else asks for a login.
    assert.equal((await anonymous(`/v2/public/${ALIAS}/tools/tags/list`)).status, 200);
    assert.equal((await anonymous('/v2/_catalog')).status, 401);
    const upload = await anonymous(`/v2/public/${ALIAS}/tools/blobs/uploads/`, { method: 'POST' });
    assert.equal(upload.status, 401);
    assert.match(upload.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal((await anonymous(`/v2/public/${ALIAS}/tools/manifests/v1`, { method: 'DELETE' })).status, 401);
    // An alias nobody has, and an account that does not exist, look the same as any private name to a stranger.
    assert.equal((await anonymous('/v2/public/no-such-alias/tools/manifests/v1')).status, 401);
    assert.equal((await anonymous('/v2/123456789012/tools/manifests/v1')).status, 401);
    const admin = new TestClient(server.url);
    assert.equal((await admin.request('/v2/public/no-such-alias/tools/manifests/v1')).status, 404);
  });

  test('a repository in another account is addressed as <host>/<account>/<name>, the default account\'s also without it', async () => {
    const admin = new TestClient(server.url);
    const digest = await admin.pushImage('team/addressed', 'v1');
    const short = await admin.request('/v2/team/addressed/manifests/v1', { method: 'HEAD' });
    const long = await admin.request(`/v2/${ACCOUNT}/team/addressed/manifests/v1`, { method: 'HEAD' });
    assert.equal(short.headers.get('docker-content-digest'), digest);
    assert.equal(long.headers.get('docker-content-digest'), digest);
    // The default account's repository "public/x" is reachable through the account prefix only.
    await admin.pushImage(`${ACCOUNT}/public/shadowed`, 'v1');
    assert.equal((await admin.request(`/v2/${ACCOUNT}/public/shadowed/manifests/v1`, { method: 'HEAD' })).status, 200);
    const catalog = (await admin.json<{ repositories: string[] }>('/v2/_catalog')).repositories;
    assert.ok(catalog.includes('team/addressed'));
    assert.ok(catalog.includes(`${ACCOUNT}/public/shadowed`), `catalog names what docker can pull: ${catalog.join(', ')}`);
    assert.ok(!catalog.some((name) => name.startsWith(`public/${ALIAS}/`)), 'the catalog is the private registry');
  });

  test('an explicit Deny in a repository policy beats the identity policy\'s Allow; deleting the policy restores access', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const pusherKey = await createUser('pusher', 'AmazonEC2ContainerRegistryPowerUser');
    const pusher = await loginAs(pusherKey);
    await pusher.pushImage('team/guarded', 'v1');
    assert.equal((await pusher.request('/v2/team/guarded/manifests/v1')).status, 200);

    const deny = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'NoPusherPulls', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/pusher` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
    });
    const set = JSON.parse((await aws(ROOT_KEY, ['ecr', 'set-repository-policy', '--repository-name', 'team/guarded', '--policy-text', deny])).stdout) as { registryId: string; repositoryName: string; policyText: string };
    assert.deepEqual(set, { registryId: ACCOUNT, repositoryName: 'team/guarded', policyText: deny });
    const denied = await pusher.request('/v2/team/guarded/manifests/v1');
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', /explicit deny in a resource-based policy/);
    // Other repositories and other actions are untouched.
    assert.equal((await pusher.request('/v2/team/guarded/tags/list')).status, 200);

    const got = JSON.parse((await aws(ROOT_KEY, ['ecr', 'get-repository-policy', '--repository-name', 'team/guarded'])).stdout) as { policyText: string };
    assert.equal(got.policyText, deny);
    await aws(ROOT_KEY, ['ecr', 'delete-repository-policy', '--repository-name', 'team/guarded']);
    assert.equal((await pusher.request('/v2/team/guarded/manifests/v1')).status, 200);
    const gone = await aws(ROOT_KEY, ['ecr', 'get-repository-policy', '--repository-name', 'team/guarded'], false);
    assert.match(gone.stderr, /RepositoryPolicyNotFoundException/);
  });

  test('within an account a repository policy alone grants what identity policies do not', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const admin = new TestClient(server.url);
    await admin.pushImage('team/shared', 'v1');
    // The reader may log in (ecr:GetAuthorizationToken) and nothing else by its own policies.
    const readerKey = await createUser('reader');
    const loginOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] });
    await aws(ROOT_KEY, ['iam', 'put-user-policy', '--user-name', 'reader', '--policy-name', 'login', '--policy-document', loginOnly]);
    const reader = await loginAs(readerKey);
    assert.equal((await reader.request('/v2/team/shared/manifests/v1')).status, 403);
    const allow = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/reader` }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
    });
    await aws(ROOT_KEY, ['ecr', 'set-repository-policy', '--repository-name', 'team/shared', '--policy-text', allow]);
    assert.equal((await reader.request('/v2/team/shared/manifests/v1')).status, 200);
    // The grant is for that repository only, and only for reading.
    assert.equal((await reader.request('/v2/team/guarded/manifests/v1')).status, 403);
    assert.equal((await reader.request('/v2/team/shared/blobs/uploads/', { method: 'POST' })).status, 403);
  });

  test('bad repository policies and unknown repositories get ECR\'s errors and change nothing', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const good = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr:ListImages' }] });
    await aws(ROOT_KEY, ['ecr', 'set-repository-policy', '--repository-name', 'team/shared', '--policy-text', good]);
    const cases = [
      ['not JSON', '{"Version":'],
      ['no principal', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:ListImages' }] })],
      ['unknown action', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr:PushImage' }] })],
      ['oversized', JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(10_300), Effect: 'Allow', Principal: '*', Action: 'ecr:ListImages' }] })],
    ];
    for (const [label, text] of cases) {
      const result = await aws(ROOT_KEY, ['ecr', 'set-repository-policy', '--repository-name', 'team/shared', '--policy-text', text as string], false);
      assert.notEqual(result.code, 0, label);
      assert.match(result.stderr, /InvalidParameterException/, `${label}: ${result.stderr}`);
    }
    const kept = JSON.parse((await aws(ROOT_KEY, ['ecr', 'get-repository-policy', '--repository-name', 'team/shared'])).stdout) as { policyText: string };
    assert.equal(kept.policyText, good);
    const missing = await aws(ROOT_KEY, ['ecr', 'set-repository-policy', '--repository-name', 'team/none', '--policy-text', good], false);
    assert.match(missing.stderr, /RepositoryNotFoundException/);
    // Setting a policy is itself an action the caller needs.
    const readerTry = await aws(keys.reader as Key, ['ecr', 'set-repository-policy', '--repository-name', 'team/shared', '--policy-text', good], false);
    assert.match(readerTry.stderr, /AccessDeniedException/);
  });

  test('the registry policy is stored, returned and removed through the AWS CLI', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const none = await aws(ROOT_KEY, ['ecr', 'get-registry-policy'], false);
    assert.match(none.stderr, /RegistryPolicyNotFoundException/);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Replication', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*` }],
    });
    const put = JSON.parse((await aws(ROOT_KEY, ['ecr', 'put-registry-policy', '--policy-text', policy])).stdout) as { registryId: string; policyText: string };
    assert.deepEqual(put, { registryId: ACCOUNT, policyText: policy });
    assert.equal((JSON.parse((await aws(ROOT_KEY, ['ecr', 'get-registry-policy'])).stdout) as { policyText: string }).policyText, policy);
    await aws(ROOT_KEY, ['ecr', 'delete-registry-policy']);
    assert.match((await aws(ROOT_KEY, ['ecr', 'get-registry-policy'], false)).stderr, /RegistryPolicyNotFoundException/);
  });
});
