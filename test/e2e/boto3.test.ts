import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isolatedAwsEnv } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { requireClients, requireOrSkip } from '../support/env.js';
import { run } from '../support/process.js';

const ROOT = { AWS_ACCESS_KEY_ID: 'AKIAE2EBOTO3SMOKE001', AWS_SECRET_ACCESS_KEY: 'e2e/boto3/smoke/root/secret/000000000000' };
const SCRIPT = fileURLToPath(new URL('./python/boto3_smoke.py', import.meta.url));

/** boto3 (botocore's own serializers and parsers) as a third independent client of the ECR API. */
describe('boto3 smoke test of the main ECR operations', () => {
  let scratch: string;
  let server: BerthProcess;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-boto3-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT.AWS_SECRET_ACCESS_KEY,
    });
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('create, describe, token, list/describe/get/put/delete images, policies, delete repository', async (t) => {
    if (!requireClients(t, ['python3'])) return;
    const probe = await run('python3', ['-c', 'import boto3'], { allowFailure: true });
    if (!requireOrSkip(t, probe.code === 0 ? undefined : 'boto3 is not installed for python3')) return;
    await new TestClient(server.url).pushImage('smoke/app', 'v1');
    const env = { ...(await isolatedAwsEnv(scratch)), ...ROOT };
    const result = await run('python3', [SCRIPT, server.url], { env, allowFailure: true, timeoutMs: 120_000 });
    assert.equal(result.code, 0, `boto3 smoke test failed:\n${result.stderr}\n${result.stdout}`);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(summary.create_repository_again, 'RepositoryAlreadyExistsException');
    assert.equal(summary.describe_deleted, 'RepositoryNotFoundException');
  });
});
