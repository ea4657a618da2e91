import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { isolatedAwsEnv } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { requireClient, requireClients } from '../support/env.js';
import { buildTestImages, type TestImages } from '../support/images.js';
import { run } from '../support/process.js';

const ACCESS_KEY_ID = 'AKIAE2ETESTROOTKEY01';
const SECRET_ACCESS_KEY = 'e2e/Secret+Access/Key/For/Berth/Tests0000';
/** The default account, whose public registry's alias is its id unless BERTH_PUBLIC_ALIAS says otherwise. */
const ACCOUNT_ID = '000000000000';

/**
 * The login every ECR user runs, with the real AWS CLI against Berth:
 * `aws ecr get-login-password --endpoint-url … | <client> login --username AWS --password-stdin`.
 */
describe('AWS CLI: GetAuthorizationToken and registry login', () => {
  let scratch: string;
  let server: BerthProcess;
  let awsEnv: NodeJS.ProcessEnv;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-aws-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    });
    awsEnv = { ...(await isolatedAwsEnv(scratch)), AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY };
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws = (args: string[], env: NodeJS.ProcessEnv = awsEnv) =>
    run('aws', [...args, '--endpoint-url', server.url], { env, allowFailure: true, timeoutMs: 60_000 });

  test('get-login-password yields a password that /v2/ accepts for user AWS; an altered one is refused', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const result = await aws(['ecr', 'get-login-password']);
    assert.equal(result.code, 0, result.stderr);
    const password = result.stdout.trim();
    assert.ok(password.length > 20 && !password.includes(':'));
    const client = new TestClient(server.url);
    const headers = { authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` };
    assert.equal((await client.request('/v2/', { headers })).status, 200);
    assert.equal((await client.request('/v2/', { headers: { authorization: `Basic ${Buffer.from(`AWS:${password}x`).toString('base64')}` } })).status, 401);
  });

  test('get-authorization-token returns ECR\'s shape: base64 AWS:<password>, expiresAt 12 h ahead, proxyEndpoint', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const result = await aws(['ecr', 'get-authorization-token', '--output', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const data = (JSON.parse(result.stdout) as { authorizationData: { authorizationToken: string; expiresAt: string | number; proxyEndpoint: string }[] }).authorizationData[0];
    assert.ok(data);
    assert.match(Buffer.from(data.authorizationToken, 'base64').toString('utf8'), /^AWS:[^:]+$/);
    const expiresAt = typeof data.expiresAt === 'number' ? data.expiresAt * 1000 : Date.parse(data.expiresAt);
    assert.ok(Math.abs(expiresAt - (Date.now() + 12 * 3600 * 1000)) < 120_000, `expiresAt ${String(data.expiresAt)}`);
    assert.equal(data.proxyEndpoint, server.url);
  });

  test('ecr-public get-login-password logs skopeo in to the public registry: push and pull there, private repositories stay shut', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo', 'umoci'])) return;
    const result = await aws(['ecr-public', 'get-login-password', '--region', 'us-east-1']);
    assert.equal(result.code, 0, result.stderr);
    const password = result.stdout.trim();
    assert.match(password, /^[A-Za-z0-9_.-]+$/);
    const created = await aws(['ecr-public', 'create-repository', '--region', 'us-east-1', '--repository-name', 'published/tool']);
    assert.equal(created.code, 0, created.stderr);
    const host = server.url.replace(/^https?:\/\//, '');
    const box = await ClientSandbox.create('aws-public-login');
    try {
      const { app } = await buildTestImages(join(scratch, 'public-images'));
      const login = await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: password });
      assert.equal(login.code, 0, login.stderr);
      const publicRef = `docker://${host}/public/${ACCOUNT_ID}/published/tool:v1`;
      const pushed = await box.skopeo(['copy', '--dest-tls-verify=false', app.ref, publicRef]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const inspected = await box.skopeo(['inspect', '--raw', '--tls-verify=false', publicRef]);
      assert.equal(inspected.code, 0, inspected.stderr);

      const privatePush = await box.skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${host}/private/app:v1`], { allowFailure: true });
      assert.notEqual(privatePush.code, 0);
      assert.match(privatePush.stderr, /403|denied/i);
      const privateRepos = await aws(['ecr', 'describe-repositories', '--output', 'json']);
      assert.equal(privateRepos.code, 0, privateRepos.stderr);
      assert.deepEqual((JSON.parse(privateRepos.stdout) as { repositories: unknown[] }).repositories, [], 'the refused push created nothing');
    } finally {
      await box.dispose();
    }
    // The Docker token flow keeps the token's registry: a Bearer token bought with the public login is still a public one.
    const basic = `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
    const bought = (await (await fetch(`${server.url}/auth/token?service=berth&scope=repository:private/app:pull`, { headers: { authorization: basic } })).json()) as { token: string };
    const client = new TestClient(server.url);
    const bearer = { authorization: `Bearer ${bought.token}` };
    assert.equal((await client.request(`/v2/public/${ACCOUNT_ID}/published/tool/tags/list`, { headers: bearer })).status, 200);
    const refused = await client.request('/v2/private/app/tags/list', { headers: bearer });
    assert.equal(refused.status, 403);
    const refusal = (await refused.json()) as { errors: { code: string; message: string }[] };
    assert.equal(refusal.errors[0]?.code, 'DENIED');
    assert.match(refusal.errors[0]?.message ?? '', /ecr-public get-login-password/);
  });

  test('a wrong secret, an unknown key and an unknown operation get AWS\'s errors', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const wrongSecret = await aws(['ecr', 'get-login-password'], { ...awsEnv, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    assert.notEqual(wrongSecret.code, 0);
    assert.match(wrongSecret.stderr, /InvalidSignatureException/);
    const unknownKey = await aws(['ecr', 'get-login-password'], { ...awsEnv, AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' });
    assert.notEqual(unknownKey.code, 0);
    assert.match(unknownKey.stderr, /UnrecognizedClientException/);
    // The AWS CLI only sends operations of its model, all of which Berth now serves: sign an unknown one directly.
    const body = '{}';
    const url = new URL(server.url);
    const signed = await new SignatureV4({ credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }, region: 'us-east-1', service: 'ecr', sha256: Hash.bind(null, 'sha256') }).sign(
      new HttpRequest({
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        method: 'POST',
        path: '/',
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.NoSuchOperation' },
        body,
      }),
    );
    const unknown = await fetch(`${server.url}/`, { method: 'POST', headers: signed.headers, body });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
  });

  test('sts get-caller-identity names the root of the default account; a bad signature gets the Query protocol\'s error', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const result = await aws(['sts', 'get-caller-identity', '--output', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { UserId: '000000000000', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:root' });
    const wrong = await aws(['sts', 'get-caller-identity'], { ...awsEnv, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /SignatureDoesNotMatch/);
  });

  test('skopeo logs in with the password from the AWS CLI and pushes', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo', 'umoci'])) return;
    const password = (await aws(['ecr', 'get-login-password'])).stdout.trim();
    const box = await ClientSandbox.create('aws-login');
    let images: TestImages | undefined;
    try {
      images = await buildTestImages(join(scratch, 'images'));
      const host = server.url.replace(/^https?:\/\//, '');
      const login = await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: password });
      assert.equal(login.code, 0, login.stderr);
      const copy = await box.skopeo(['copy', '--dest-tls-verify=false', images.app.ref, `docker://${host}/aws/login:v1`]);
      assert.equal(copy.code, 0, copy.stderr);
      const inspect = await box.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/aws/login:v1`]);
      assert.equal(inspect.code, 0, inspect.stderr);
      const wrong = await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', host], { input: `${password}x`, allowFailure: true });
      assert.notEqual(wrong.code, 0);
    } finally {
      await box.dispose();
    }
  });
});
