/**
 * The flow every ECR user follows, end to end, with the real AWS CLI and a
 * real Docker engine: create-repository → get-login-password | docker login →
 * docker push → describe-images → docker pull on a clean engine →
 * batch-delete-image → delete-repository.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isolatedAwsEnv } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { DockerEngine, dockerUnavailable } from '../support/docker-engine.js';
import { e2eRequired, hasClient, requireClients, requireOrSkip } from '../support/env.js';
import { buildTestImages } from '../support/images.js';
import { run } from '../support/process.js';

const ROOT = { AWS_ACCESS_KEY_ID: 'AKIAE2EECRCLIFLOW001', AWS_SECRET_ACCESS_KEY: 'e2e/ecr/cli/flow/root/secret/000000000000' };

describe('the ECR user flow with the AWS CLI and a Docker engine', () => {
  let scratch: string;
  let server: BerthProcess;
  let env: NodeJS.ProcessEnv;
  let engine: DockerEngine | undefined;
  let engineProblem: string | undefined;
  let box: ClientSandbox | undefined;
  let archive: string | undefined;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-ecrflow-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT.AWS_SECRET_ACCESS_KEY,
    });
    env = { ...(await isolatedAwsEnv(scratch)), ...ROOT };
    if (!hasClient('umoci') || !hasClient('skopeo')) return;
    engineProblem = dockerUnavailable();
    if (engineProblem) return;
    const images = await buildTestImages(join(scratch, 'images'));
    archive = join(scratch, 'app.tar');
    box = await ClientSandbox.create('ecr-flow');
    await box.skopeo(['copy', images.app.ref, `docker-archive:${archive}:e2e/app:v1`]);
    try {
      engine = await DockerEngine.start();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      engineProblem = `Docker engine could not start: ${e2eRequired() ? message : (message.split('\n')[0] ?? '').slice(0, 300)}`;
    }
  });
  after(async () => {
    await engine?.stop();
    await box?.dispose();
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws = async (args: string[], expectOk = true) => {
    const result = await run('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { env, allowFailure: true, timeoutMs: 60_000 });
    if (expectOk) assert.equal(result.code, 0, `aws ${args.join(' ')}: ${result.stderr}`);
    return result;
  };

  it('create-repository, docker login/push, describe-images, pull on a clean engine, batch-delete-image, delete-repository', { timeout: 300_000 }, async (t) => {
    if (!requireClients(t, ['aws', 'umoci', 'skopeo', 'docker', 'dockerd'])) return;
    if (!requireOrSkip(t, engineProblem)) return;
    assert.ok(engine && box && archive);
    const docker = (args: string[], options: { input?: string } = {}) => (engine as DockerEngine).docker(args, (box as ClientSandbox).dockerConfig, options);

    const created = JSON.parse((await aws(['ecr', 'create-repository', '--repository-name', 'flow/app'])).stdout) as { repository: { repositoryUri: string; repositoryArn: string } };
    const uri = created.repository.repositoryUri;
    assert.equal(created.repository.repositoryArn, 'arn:aws:ecr:us-east-1:000000000000:repository/flow/app');
    const host = uri.slice(0, uri.indexOf('/'));

    const password = (await aws(['ecr', 'get-login-password'])).stdout.trim();
    const login = await docker(['login', '--username', 'AWS', '--password-stdin', host], { input: `${password}\n` });
    assert.match(login.stdout, /Login Succeeded/);

    await docker(['load', '-i', archive]);
    await docker(['tag', 'e2e/app:v1', `${uri}:v1`]);
    const pushed = await docker(['push', `${uri}:v1`]);
    const digest = /v1: digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
    assert.ok(digest, pushed.stdout);

    const described = JSON.parse((await aws(['ecr', 'describe-images', '--repository-name', 'flow/app'])).stdout) as {
      imageDetails: { imageDigest: string; imageTags: string[]; imageSizeInBytes: number; imagePushedAt: number | string }[];
    };
    assert.equal(described.imageDetails.length, 1);
    const detail = described.imageDetails[0];
    assert.equal(detail?.imageDigest, digest);
    assert.deepEqual(detail?.imageTags, ['v1']);
    assert.ok((detail?.imageSizeInBytes ?? 0) > 0, 'the image has a size');

    // A clean engine: nothing of the image left locally, then pull it back.
    const ids = (await docker(['images', '--quiet', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(['rmi', '--force', ...new Set(ids)]);
    const pulled = await docker(['pull', `${uri}:v1`]);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));

    const deleted = JSON.parse((await aws(['ecr', 'batch-delete-image', '--repository-name', 'flow/app', '--image-ids', 'imageTag=v1'])).stdout) as { imageIds: { imageTag?: string }[]; failures: unknown[] };
    assert.deepEqual(deleted.failures, []);
    assert.equal(deleted.imageIds[0]?.imageTag, 'v1');
    await aws(['ecr', 'delete-repository', '--repository-name', 'flow/app', '--force']);
    const gone = await aws(['ecr', 'describe-repositories', '--repository-names', 'flow/app'], false);
    assert.match(gone.stderr, /RepositoryNotFoundException/);
  });
});
