import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BatchGetImageCommand,
  DeregisterPullTimeUpdateExclusionCommand,
  DescribeImagesCommand,
  ListPullTimeUpdateExclusionsCommand,
  RegisterPullTimeUpdateExclusionCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { PullRecorder, pullTimeUpdateExclusionArn } from '../src/registry/pull-recorder.js';
import { openStores, type Stores } from '../src/storage/sql/open.js';
import { awsCliFor, isolatedAwsEnv, type AwsKey } from './lib/aws-cli.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { TestClient } from './lib/client.js';
import { ecrClients } from './lib/ecr-sdk.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';
import { requireClients } from './support/env.js';

type Pull = { repositoryId: number; digest: string; at: number };

describe('PullRecorder with pull-time update exclusions', () => {
  const recorderWriting = (written: Pull[], errors: unknown[] = []): PullRecorder =>
    new PullRecorder({ recordPulls: async (pulls) => void written.push(...pulls) }, { minIntervalMs: 60_000, onError: (err) => errors.push(err) });

  test('an excluded pull is not written and does not hold back the next pull of the image; flush waits for the checks', async () => {
    const written: Pull[] = [];
    const recorder = recorderWriting(written);
    let answer: (excluded: boolean) => void = () => undefined;
    const slowCheck = new Promise<boolean>((resolve) => (answer = resolve));
    recorder.record(1, 'sha256:a', 1_000_000, () => Promise.resolve(true));
    recorder.record(1, 'sha256:a', 1_010_000, () => slowCheck);
    const flushed = recorder.flush();
    answer(false);
    await flushed;
    assert.deepEqual(written, [{ repositoryId: 1, digest: 'sha256:a', at: 1_010_000 }]);
  });

  test('a pull queued within the interval is not checked again; a failed check is reported and drops the pull', async () => {
    const written: Pull[] = [];
    const errors: unknown[] = [];
    const recorder = recorderWriting(written, errors);
    let checks = 0;
    recorder.record(2, 'sha256:b', 1_000_000);
    recorder.record(2, 'sha256:b', 1_020_000, () => (checks++, Promise.resolve(false)));
    recorder.record(3, 'sha256:b', 1_020_000, () => Promise.reject(new Error('database down')));
    await recorder.close();
    assert.equal(checks, 0);
    assert.deepEqual(written, [{ repositoryId: 2, digest: 'sha256:b', at: 1_000_000 }]);
    assert.equal(errors.length, 1);
  });

  test('the ARN an exclusion names: a user\'s own, a role session\'s role (with its path); none for a root or an anonymous caller', () => {
    assert.equal(pullTimeUpdateExclusionArn({ arn: 'arn:aws:iam::123456789012:user/ci/scanner', accountId: '123456789012', type: 'User', userId: 'AIDAEXAMPLE' }), 'arn:aws:iam::123456789012:user/ci/scanner');
    const session = { arn: 'arn:aws:sts::123456789012:assumed-role/trivy/run-1', accountId: '123456789012', type: 'AssumedRole' as const, userId: 'AROAEXAMPLE:run-1' };
    assert.equal(pullTimeUpdateExclusionArn({ ...session, roleArn: 'arn:aws:iam::123456789012:role/scanners/trivy' }), 'arn:aws:iam::123456789012:role/scanners/trivy');
    assert.equal(pullTimeUpdateExclusionArn(session), 'arn:aws:iam::123456789012:role/trivy');
    assert.equal(pullTimeUpdateExclusionArn({ arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012', type: 'Account', userId: '123456789012' }), undefined);
    assert.equal(pullTimeUpdateExclusionArn({ arn: 'anonymous', accountId: '', type: 'Anonymous', userId: 'anonymous' }), undefined);
  });
});

/** The exclusions of one account as two processes' stores see them: the writer's at once, the other's within about a second. */
function runExclusionCacheSuite(name: string, open: () => Promise<Stores>, cleanup: () => Promise<void>): void {
  describe(name, () => {
    let writer: Stores;
    let reader: Stores;

    before(async () => {
      writer = await open();
      await writer.metadata.migrate();
      reader = await open();
    });
    after(async () => {
      await reader?.close();
      await writer?.close();
      await cleanup();
    });

    const eventually = async (check: () => Promise<boolean>, what: string): Promise<number> => {
      const started = Date.now();
      while (!(await check())) {
        assert.ok(Date.now() - started < 3000, `${what} within about a second`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return Date.now() - started;
    };

    test('register and deregister show in the writing store at once and in another within about a second; accounts are separate', async () => {
      const account = String(100_000_000_000 + Math.floor(Math.random() * 899_999_999_999));
      const other = String(Number(account) + 1);
      const arn = `arn:aws:iam::${account}:role/scanner`;
      assert.deepEqual([...(await reader.registrySettings.pullTimeUpdateExclusions(account))], []);
      assert.deepEqual([...(await writer.registrySettings.pullTimeUpdateExclusions(account))], []);

      assert.equal(await writer.registrySettings.createItem(account, 'pull-time-update-exclusion', arn, {}, Date.now(), 100), 'created');
      assert.deepEqual([...(await writer.registrySettings.pullTimeUpdateExclusions(account))], [arn]);
      await eventually(async () => (await reader.registrySettings.pullTimeUpdateExclusions(account)).has(arn), 'the other store sees the registration');
      assert.deepEqual([...(await reader.registrySettings.pullTimeUpdateExclusions(other))], []);

      assert.ok(await writer.registrySettings.deleteItem(account, 'pull-time-update-exclusion', arn));
      assert.deepEqual([...(await writer.registrySettings.pullTimeUpdateExclusions(account))], []);
      await eventually(async () => !(await reader.registrySettings.pullTimeUpdateExclusions(account)).has(arn), 'the other store sees the deregistration');
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'berth-pull-exclusions-'));
runExclusionCacheSuite('pull-time update exclusion cache on SQLite', () => openStores(`sqlite:${join(sqliteDir, 'berth.db')}`), async () => rmSync(sqliteDir, { recursive: true, force: true }));
if (pgUnreachable === undefined) {
  const { schema, url } = freshSchemaUrl('berth_pull_exclusions');
  runExclusionCacheSuite('pull-time update exclusion cache on PostgreSQL', () => openStores(url), () => dropSchema(schema));
} else {
  reportPostgresUnavailable('pull-time update exclusion cache on PostgreSQL');
}

const ACCOUNT = '000000000000';
const ROOT = { accessKeyId: 'AKIAPULLEXCLUSIONS01', secretAccessKey: 'pull/exclusions/root/secret/for/tests/000' };
const ROOT_KEY: AwsKey = { AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey };
const REPOSITORY = 'scanned/app';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/scanners/trivy`;
type SessionKey = AwsKey & { AWS_SESSION_TOKEN: string };

/**
 * IAM users and a role made with the AWS CLI pull through /v2/ and
 * BatchGetImage; the exclusions are managed with @aws-sdk/client-ecr, and
 * DescribeImages shows whose pulls moved lastRecordedPullTime.
 */
describe('pull-time update exclusions through the AWS CLI, the SDK and /v2/', () => {
  let berth: TestBerth;
  let scratch: string;
  let ecr: ECRClient;
  let cli: ReturnType<typeof awsCliFor>;
  let scanner: AwsKey;
  let deployer: AwsKey;
  const digests: Record<string, string> = {};

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey });
    scratch = await mkdtemp(join(tmpdir(), 'berth-pull-exclusions-cli-'));
    cli = awsCliFor(berth.url, await isolatedAwsEnv(scratch));
    ecr = ecrClients(berth.url, ROOT).ecr;
    const admin = new TestClient(berth.url);
    for (const tag of ['by-scanner', 'by-deployer', 'after-deregister', 'by-role', 'marker-1', 'marker-2']) digests[tag] = await admin.pushImage(REPOSITORY, tag);
  });
  after(async () => {
    ecr?.destroy();
    await berth?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const createPuller = async (name: string): Promise<AwsKey> => {
    await cli.aws(ROOT_KEY, ['iam', 'create-user', '--user-name', name]);
    await cli.aws(ROOT_KEY, ['iam', 'attach-user-policy', '--user-name', name, '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']);
    const { AccessKey } = JSON.parse((await cli.aws(ROOT_KEY, ['iam', 'create-access-key', '--user-name', name])).stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    return { AWS_ACCESS_KEY_ID: AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: AccessKey.SecretAccessKey };
  };
  const pullThroughV2 = async (as: AwsKey, tag: string): Promise<void> => {
    const client = await cli.loginAs(as);
    const response = await client.request(`/v2/${REPOSITORY}/manifests/${tag}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-content-digest'), digests[tag]);
  };
  const pulledAt = async (tag: string): Promise<Date | undefined> =>
    (await ecr.send(new DescribeImagesCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: tag }] }))).imageDetails?.[0]?.lastRecordedPullTime;
  /** Waits until the recorder has written the pull of `tag` (it flushes every few seconds). */
  const untilPulled = async (tag: string): Promise<Date> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const at = await pulledAt(tag);
      if (at) return at;
      assert.ok(Date.now() < deadline, `the pull of ${tag} was recorded`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  test('an excluded user\'s pulls (/v2/ and BatchGetImage) leave lastRecordedPullTime alone; another user\'s pull records it', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    scanner = await createPuller('scanner');
    deployer = await createPuller('deployer');
    const scannerArn = `arn:aws:iam::${ACCOUNT}:user/scanner`;
    const registered = await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: scannerArn }));
    assert.equal(registered.principalArn, scannerArn);

    await pullThroughV2(scanner, 'by-scanner');
    const scannerEcr = ecrClients(berth.url, { accessKeyId: scanner.AWS_ACCESS_KEY_ID, secretAccessKey: scanner.AWS_SECRET_ACCESS_KEY }).ecr;
    try {
      const { images } = await scannerEcr.send(new BatchGetImageCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: 'after-deregister' }] }));
      assert.equal(images?.[0]?.imageId?.imageDigest, digests['after-deregister']);
    } finally {
      scannerEcr.destroy();
    }
    // The deployer's later pull is written in the same flush as the scanner's would have been, or a later one.
    await pullThroughV2(deployer, 'marker-1');
    await untilPulled('marker-1');
    assert.equal(await pulledAt('by-scanner'), undefined);
    assert.equal(await pulledAt('after-deregister'), undefined);

    await pullThroughV2(deployer, 'by-deployer');
    const at = await untilPulled('by-deployer');
    assert.ok(Math.abs(at.getTime() - Date.now()) < 60_000);
  });

  test('after DeregisterPullTimeUpdateExclusion the user\'s pulls are recorded again', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const scannerArn = `arn:aws:iam::${ACCOUNT}:user/scanner`;
    assert.equal((await ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: scannerArn }))).principalArn, scannerArn);
    await pullThroughV2(scanner, 'after-deregister');
    await untilPulled('after-deregister');
  });

  test('a role\'s exclusion covers its sessions: a session\'s pull leaves lastRecordedPullTime alone', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/deployer` }, Action: 'sts:AssumeRole' }] });
    await cli.aws(ROOT_KEY, ['iam', 'create-role', '--role-name', 'trivy', '--path', '/scanners/', '--assume-role-policy-document', trust]);
    await cli.aws(ROOT_KEY, ['iam', 'attach-role-policy', '--role-name', 'trivy', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']);
    await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: ROLE_ARN }));
    assert.deepEqual((await ecr.send(new ListPullTimeUpdateExclusionsCommand({}))).pullTimeUpdateExclusions, [ROLE_ARN]);

    const assumed = JSON.parse((await cli.aws(deployer, ['sts', 'assume-role', '--role-arn', ROLE_ARN, '--role-session-name', 'scan-1'])).stdout) as {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    };
    const session: SessionKey = { AWS_ACCESS_KEY_ID: assumed.Credentials.AccessKeyId, AWS_SECRET_ACCESS_KEY: assumed.Credentials.SecretAccessKey, AWS_SESSION_TOKEN: assumed.Credentials.SessionToken };
    await pullThroughV2(session, 'by-role');
    await pullThroughV2(deployer, 'marker-2');
    await untilPulled('marker-2');
    assert.equal(await pulledAt('by-role'), undefined);
  });
});
