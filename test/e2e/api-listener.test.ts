import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awsCliFor, isolatedAwsEnv, type AwsKey } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { freePort, requireClients } from '../support/env.js';
import { buildTestImages } from '../support/images.js';

const ROOT_KEY: AwsKey = { AWS_ACCESS_KEY_ID: 'AKIAE2EAPILISTENER01', AWS_SECRET_ACCESS_KEY: 'e2e/Api/Listener/Secret/Key/0000000000' };
const ACCOUNT_ID = '000000000000';
/** A logo, given as text: AWS CLI v1 sends a blob inside JSON as the string's bytes, v2 base64-decodes it first (its bytes are checked in test/ecr-public-logos.test.ts). */
const LOGO = 'aGVsbG8gbG9nbw==';

/**
 * BERTH_API_LISTEN: the AWS APIs on a listener of their own, the registry on
 * BERTH_LISTEN, and every URL the APIs return pointing at the registry.
 */
describe('a separate listener for the AWS APIs (BERTH_API_LISTEN)', () => {
  let scratch: string;
  let server: BerthProcess;
  let apiUrl: string;
  let registryHost: string;
  let aws: ReturnType<typeof awsCliFor>['aws'];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-api-listener-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT_KEY.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_KEY.AWS_SECRET_ACCESS_KEY,
      BERTH_API_LISTEN: `127.0.0.1:${await freePort()}`,
    });
    apiUrl = server.apiUrl as string;
    registryHost = new URL(server.url).host;
    aws = awsCliFor(apiUrl, await isolatedAwsEnv(scratch)).aws;
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('the AWS CLI on the API port names the registry port; skopeo logs in and pushes to the repositoryUri as returned; the layer download URL serves the layer', async (t) => {
    if (!requireClients(t, ['aws', 'skopeo', 'umoci'])) return;
    const created = JSON.parse((await aws(ROOT_KEY, ['ecr', 'create-repository', '--repository-name', 'team/app'])).stdout) as { repository: { repositoryUri: string } };
    assert.equal(created.repository.repositoryUri, `${registryHost}/${ACCOUNT_ID}/team/app`);
    const token = JSON.parse((await aws(ROOT_KEY, ['ecr', 'get-authorization-token'])).stdout) as { authorizationData: { proxyEndpoint: string }[] };
    assert.equal(token.authorizationData[0]?.proxyEndpoint, server.url);
    const password = (await aws(ROOT_KEY, ['ecr', 'get-login-password'])).stdout.trim();

    const box = await ClientSandbox.create('api-listener');
    try {
      const { app } = await buildTestImages(join(scratch, 'images'));
      const login = await box.skopeo(['login', '--tls-verify=false', '--username', 'AWS', '--password-stdin', registryHost], { input: password });
      assert.equal(login.code, 0, login.stderr);
      const pushed = await box.skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${created.repository.repositoryUri}:v1`]);
      assert.equal(pushed.code, 0, pushed.stderr);

      const layerDigest = app.manifest.layers[0]?.digest as string;
      const download = JSON.parse((await aws(ROOT_KEY, ['ecr', 'get-download-url-for-layer', '--repository-name', 'team/app', '--layer-digest', layerDigest])).stdout) as { downloadUrl: string };
      assert.ok(download.downloadUrl.startsWith(`${server.url}/`), download.downloadUrl);
      const layer = await fetch(download.downloadUrl);
      assert.equal(layer.status, 200);
      assert.equal(layer.headers.get('docker-content-digest'), layerDigest);
      await layer.arrayBuffer();
    } finally {
      await box.dispose();
    }
  });

  test('ECR Public on the API port: repositoryUri, registryUri and logoUrl name the registry port, which serves the logo', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const created = JSON.parse(
      (await aws(ROOT_KEY, ['ecr-public', 'create-repository', '--region', 'us-east-1', '--repository-name', 'tools/cli', '--catalog-data', JSON.stringify({ logoImageBlob: LOGO })])).stdout,
    ) as { repository: { repositoryUri: string }; catalogData: { logoUrl: string } };
    assert.equal(created.repository.repositoryUri, `${registryHost}/public/${ACCOUNT_ID}/tools/cli`);
    assert.ok(created.catalogData.logoUrl.startsWith(`${server.url}/`), created.catalogData.logoUrl);
    const logo = await fetch(created.catalogData.logoUrl);
    assert.equal(logo.status, 200);
    assert.ok((await logo.arrayBuffer()).byteLength > 0);

    const registries = JSON.parse((await aws(ROOT_KEY, ['ecr-public', 'describe-registries', '--region', 'us-east-1'])).stdout) as { registries: { registryUri: string }[] };
    assert.equal(registries.registries[0]?.registryUri, `${registryHost}/public/${ACCOUNT_ID}`);
  });

  test('the API port does not serve /v2/; the registry port refuses the AWS APIs in their format', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const v2 = await fetch(`${apiUrl}/v2/`);
    assert.equal(v2.status, 404);
    assert.equal((await v2.json() as { errors: { code: string }[] }).errors[0]?.code, 'NAME_UNKNOWN');

    const { aws: awsOnRegistry } = awsCliFor(server.url, await isolatedAwsEnv(scratch));
    const refused = await awsOnRegistry(ROOT_KEY, ['ecr', 'describe-repositories'], false);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /UnsupportedCommandException.*API listener/);

    const json = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' },
      body: '{}',
    });
    assert.equal(json.status, 400);
    assert.equal(json.headers.get('x-amzn-errortype'), 'UnsupportedCommandException');
    assert.equal((await json.json() as { __type: string }).__type, 'UnsupportedCommandException');

    const query = await fetch(`${server.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    assert.equal(query.status, 405);
    assert.equal((await query.json() as { errors: { code: string }[] }).errors[0]?.code, 'UNSUPPORTED');
    const presigned = await fetch(`${server.url}/?Action=GetCallerIdentity&Version=2011-06-15`);
    assert.equal(presigned.status, 405);
    await presigned.arrayBuffer();

    const identity = JSON.parse((await aws(ROOT_KEY, ['sts', 'get-caller-identity'])).stdout) as { Account: string };
    assert.equal(identity.Account, ACCOUNT_ID);
  });
});

describe('BERTH_API_LISTEN with --workers', () => {
  test('the workers serve both listeners; the announcement names both', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'berth-api-workers-'));
    const server = await spawnBerth({ BERTH_DATA_DIR: join(scratch, 'data'), BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_WORKERS: '2', BERTH_API_LISTEN: `127.0.0.1:${await freePort()}` });
    try {
      assert.ok(server.output().includes(`Berth is listening on ${server.url} `), server.output());
      assert.ok(server.output().includes(`answer on ${server.apiUrl}\n`), server.output());
      for (let i = 0; i < 4; i++) {
        const v2 = await fetch(`${server.url}/v2/`);
        assert.equal(v2.status, 401);
        await v2.arrayBuffer();
        // Unsigned, so refused, in the Query protocol's format: the API listener answered.
        const sts = await fetch(`${server.apiUrl}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
        assert.match(await sts.text(), /^<ErrorResponse /);
      }
    } finally {
      await server.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
