import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BatchDeleteImageCommand,
  DeleteLifecyclePolicyCommand,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  paginateGetLifecyclePolicyPreview,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  waitUntilLifecyclePolicyPreviewComplete,
  type ECRClient,
  type LifecyclePolicyPreviewResult,
} from '@aws-sdk/client-ecr';
import { pino } from 'pino';
import { ConfigError, resolveConfig, SETTINGS } from '../src/config.js';
import { evaluateLifecyclePolicy, parseLifecyclePolicy } from '../src/lifecycle/index.js';
import { LIFECYCLE_EVENT_DETAIL_TYPE, LIFECYCLE_EVENT_SOURCE, ORPHANED_REFERRER_GRACE_MS, runLifecyclePolicies, startLifecycleScheduler, type LifecycleRunnerDeps } from '../src/registry/lifecycle-runner.js';
import type { MetadataStore } from '../src/storage/metadata-store.js';
import type { SqlMetadataStore } from '../src/storage/sql/sql-metadata-store.js';
import { openSqlMetadataStore } from '../src/storage/sql/open.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { OCI_MANIFEST, sha256, TestClient } from './lib/client.js';
import { ecrClients, sdkErrorName } from './lib/ecr-sdk.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';
import { REPO_ROOT } from './lib/process.js';
import { DAY, EVALUATION_CASES, INVALID_POLICY_CASES, lifecycleImages, NOW, type CaseImage, type EvaluationCase } from './lifecycle-cases.js';
import { OCI_INDEX } from './support/images.js';
import { run } from './support/process.js';

const ROOT = { accessKeyId: 'AKIAECRLIFECYCLE0001', secretAccessKey: 'ecr/lifecycle/root/secret/key/for/tests/0' };
const ACCOUNT = '000000000000';
const SHORTEST_POLICY = 100;
const KEEP_ONE_UNTAGGED = JSON.stringify({
  rules: [{ rulePriority: 1, description: 'keep one untagged image', selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }],
});

/** The server's clock runs on while a case is set up, so a case whose image sits within this of a day limit is left to the unit test. */
const CLOCK_MARGIN_MS = 60_000;

function countedInDays(testCase: EvaluationCase): number[] {
  return testCase.policy.rules.flatMap((rule) => {
    const selection = (rule as { selection: { countType: string; countNumber: number } }).selection;
    return selection.countType === 'imageCountMoreThan' ? [] : [selection.countNumber];
  });
}

function clearOfDayLimits(testCase: EvaluationCase): boolean {
  const limits = countedInDays(testCase).map((days) => days * DAY);
  const ages = testCase.images.flatMap((image) => [image.pushedAgo, image.pulledAgo, image.archivedAgo, image.activatedAgo].filter((age) => age !== undefined));
  return ages.every((age) => limits.every((limit) => Math.abs(age - limit) > CLOCK_MARGIN_MS));
}

/** OCI tags cannot hold every character a case uses (`git hash`); no case's rule depends on those characters. */
const ociTag = (tag: string): string => tag.replace(/[^A-Za-z0-9_.-]/g, '-');

const decisionKey = (image: string, rulePriority: number, action: string): string => `${image} ${action} by rule ${rulePriority}`;

const expectedKeys = (testCase: EvaluationCase): string[] => testCase.expected.map((decision) => decisionKey(decision.image, decision.rulePriority, decision.action)).sort();

/**
 * The store with some methods replaced (the others run on the store itself, whose private state a
 * plain prototype copy could not reach).
 */
function withStoreMethods(store: SqlMetadataStore, replaced: Partial<MetadataStore>): MetadataStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (Object.hasOwn(replaced, property)) return Reflect.get(replaced, property, receiver) as unknown;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function refused(attempt: Promise<unknown>, what: string): Promise<Error> {
  try {
    await attempt;
  } catch (err) {
    return err as Error;
  }
  assert.fail(`${what}: accepted`);
}

/** A case pushed into its own repository over /v2/, with its images' times set in the database. */
interface PushedCase {
  testCase: EvaluationCase;
  repository: string;
  digests: Map<string, string>;
  names: Map<string, string>;
}

test('lifecycleIntervalSeconds: a day by default, 0 turns the schedule off, at most what a Node timer holds', () => {
  assert.equal(resolveConfig({}).lifecycleIntervalSeconds, 86_400);
  assert.equal(resolveConfig({ lifecycleIntervalSeconds: '0' }).lifecycleIntervalSeconds, 0);
  assert.equal(resolveConfig({ lifecycleIntervalSeconds: '2147483' }).lifecycleIntervalSeconds, 2_147_483);
  for (const refused of ['-1', '1.5', 'daily', '2147484']) assert.throws(() => resolveConfig({ lifecycleIntervalSeconds: refused }), ConfigError, refused);
});

describe('lifecycle policies through @aws-sdk/client-ecr', () => {
  let berth: TestBerth;
  let ecr: ECRClient;
  let client: TestClient;
  let store: SqlMetadataStore;
  let runner: LifecycleRunnerDeps;
  const silent = pino({ level: 'silent' });

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, lifecycleIntervalSeconds: '0' });
    ecr = ecrClients(berth.url, ROOT).ecr;
    client = new TestClient(berth.url);
    store = await openSqlMetadataStore(`sqlite:${join(berth.dataDir, 'berth.db')}`);
    runner = { metadata: store, region: 'us-east-1', logger: silent };
  });
  after(async () => {
    ecr?.destroy();
    await store?.close();
    await berth?.stop();
  });

  const repositoryId = async (name: string): Promise<number> => {
    const repository = await store.getRepository(`${ACCOUNT}/${name}`);
    assert.ok(repository, name);
    return repository.id;
  };

  /** A distinct manifest per image name, its config naming it. */
  const pushManifest = async (repository: string, name: string, layer: { digest: string; size: number }): Promise<{ body: string; digest: string }> => {
    const config = await client.pushBlob(repository, JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { name } } }));
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    });
    return { body, digest: sha256(body) };
  };

  const putManifest = async (repository: string, reference: string, body: string, mediaType: string): Promise<void> => {
    const response = await client.request(`/v2/${repository}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body });
    assert.equal(response.status, 201, await response.text());
  };

  const pushCase = async (testCase: EvaluationCase, repository: string): Promise<PushedCase> => {
    const layer = await client.pushBlob(repository, `layer of ${repository}`);
    const digests = new Map<string, string>();
    const indexes = new Set(testCase.images.flatMap((image) => (image.childOf === undefined ? [] : [image.childOf])));
    const push = async (image: CaseImage, body: string, digest: string, mediaType: string): Promise<void> => {
      digests.set(image.name, digest);
      const tags = image.tags ?? [];
      if (tags.length === 0) await putManifest(repository, digest, body, mediaType);
      for (const tag of tags) await putManifest(repository, ociTag(tag), body, mediaType);
    };
    const manifests = new Map<string, { body: string; digest: string }>();
    for (const image of testCase.images.filter((candidate) => !indexes.has(candidate.name))) {
      const manifest = await pushManifest(repository, image.name, layer);
      manifests.set(image.name, manifest);
      await push(image, manifest.body, manifest.digest, OCI_MANIFEST);
    }
    for (const image of testCase.images.filter((candidate) => indexes.has(candidate.name))) {
      const children = testCase.images.filter((child) => child.childOf === image.name);
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((child) => {
          const manifest = manifests.get(child.name) as { body: string; digest: string };
          return { mediaType: OCI_MANIFEST, digest: manifest.digest, size: Buffer.byteLength(manifest.body), platform: { architecture: child.name, os: 'linux' } };
        }),
      });
      await push(image, body, sha256(body), OCI_INDEX);
    }
    return { testCase, repository, digests, names: new Map([...digests].map(([name, digest]) => [digest, name])) };
  };

  /** Sets push, pull and storage-class times as the case gives them, `now` standing for the case's NOW. */
  const setTimes = async (pushed: PushedCase, now: number): Promise<void> => {
    const id = await repositoryId(pushed.repository);
    for (const image of pushed.testCase.images) {
      const changedAgo = image.archivedAgo ?? image.activatedAgo;
      await store.db
        .updateTable('manifests')
        .set({
          created_at: now - image.pushedAgo,
          last_pulled_at: image.pulledAgo === undefined ? null : now - image.pulledAgo,
          storage_class: image.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD',
          storage_class_changed_at: changedAgo === undefined ? null : now - changedAgo,
        })
        .where('repository_id', '=', id)
        .where('digest', '=', pushed.digests.get(image.name) as string)
        .execute();
    }
  };

  const previewKeys = (pushed: PushedCase, results: readonly LifecyclePolicyPreviewResult[]): string[] =>
    results.map((result) => decisionKey(pushed.names.get(result.imageDigest as string) as string, result.appliedRulePriority as number, result.action?.type === 'EXPIRE' ? 'expire' : 'transition')).sort();

  /** Every result, through the SDK's paginator in pages of `pageSize`. */
  const allPreviewResults = async (repositoryName: string, pageSize: number): Promise<LifecyclePolicyPreviewResult[]> => {
    const results: LifecyclePolicyPreviewResult[] = [];
    for await (const page of paginateGetLifecyclePolicyPreview({ client: ecr, pageSize }, { repositoryName })) {
      assert.equal(page.status, 'COMPLETE');
      assert.ok((page.previewResults ?? []).length <= pageSize);
      results.push(...(page.previewResults ?? []));
    }
    return results;
  };

  test('Put, Get and Delete; their exceptions', async () => {
    await client.pushImage('lc/crud', 'v1');
    const repositoryName = 'lc/crud';
    assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))), 'LifecyclePolicyNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }))), 'LifecyclePolicyNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'lc/none', lifecyclePolicyText: KEEP_ONE_UNTAGGED }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'lc/none' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'lc/none' }))), 'RepositoryNotFoundException');

    const put = await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    assert.deepEqual([put.registryId, put.repositoryName, put.lifecyclePolicyText], [ACCOUNT, repositoryName, KEEP_ONE_UNTAGGED]);
    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }));
    assert.deepEqual([got.registryId, got.repositoryName, got.lifecyclePolicyText], [ACCOUNT, repositoryName, KEEP_ONE_UNTAGGED]);
    const deleted = await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
    assert.equal(deleted.lifecyclePolicyText, KEEP_ONE_UNTAGGED);
    assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))), 'LifecyclePolicyNotFoundException');

    assert.equal(await sdkErrorName(ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName }))), 'LifecyclePolicyNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }))), 'LifecyclePolicyPreviewNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: 'lc/none', lifecyclePolicyText: KEEP_ONE_UNTAGGED }))), 'RepositoryNotFoundException');
  });

  test('invalid policies are refused with InvalidParameterException and ECR\'s message; nothing is stored', async () => {
    const repositoryName = 'lc/crud';
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    for (const invalid of INVALID_POLICY_CASES) {
      for (const attempt of [
        ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: invalid.policyText })),
        ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: invalid.policyText })),
      ]) {
        const refusal = await refused(attempt, invalid.name);
        assert.equal(refusal.name, 'InvalidParameterException', invalid.name);
        // Shorter texts fail the model's length constraint before the document is read.
        if (invalid.policyText.length >= SHORTEST_POLICY) assert.equal(refusal.message, invalid.message, invalid.name);
        else assert.match(refusal.message, /^Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'$/, invalid.name);
      }
    }
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lifecyclePolicyText, KEEP_ONE_UNTAGGED);
    assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }))), 'LifecyclePolicyPreviewNotFoundException');
    const tooLong = JSON.stringify({ rules: [{ rulePriority: 1, description: 'x'.repeat(30_720), selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] });
    assert.equal(await sdkErrorName(ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: tooLong }))), 'InvalidParameterException');
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  describe('the case table through the API: preview and execution agree with it', () => {
    const cases = EVALUATION_CASES.filter(clearOfDayLimits);
    const pushedCases: PushedCase[] = [];

    before(async () => {
      assert.ok(cases.length >= EVALUATION_CASES.length - 3, `only ${cases.length} of ${EVALUATION_CASES.length} cases are clear of day limits`);
      for (const [index, testCase] of cases.entries()) pushedCases.push(await pushCase(testCase, `lc/case-${index}`));
      const now = Date.now();
      for (const pushed of pushedCases) await setTimes(pushed, now);
      for (const pushed of pushedCases) {
        await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: pushed.repository, lifecyclePolicyText: JSON.stringify(pushed.testCase.policy) }));
      }
    });

    test('GetLifecyclePolicyPreview lists the expected decisions of every case (the SDK\'s paginator, pages of 2)', async () => {
      for (const pushed of pushedCases) {
        const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: pushed.repository }));
        assert.equal(started.status, 'COMPLETE');
        assert.equal(started.lifecyclePolicyText, JSON.stringify(pushed.testCase.policy));
        const results = await allPreviewResults(pushed.repository, 2);
        assert.deepEqual(previewKeys(pushed, results), expectedKeys(pushed.testCase), pushed.testCase.name);
        const { summary } = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: pushed.repository }));
        const expiring = pushed.testCase.expected.filter((decision) => decision.action === 'expire').length;
        const transitioning = pushed.testCase.expected.length - expiring;
        assert.equal(summary?.expiringImageTotalCount, expiring, pushed.testCase.name);
        assert.deepEqual(summary?.transitioningImageTotalCounts, transitioning > 0 ? [{ targetStorageClass: 'ARCHIVE', imageTotalCount: transitioning }] : undefined, pushed.testCase.name);
      }
    });

    test('GetLifecyclePolicyPreview filters by tag status and image ids; a preview of a given text leaves the stored policy alone', async () => {
      const pushed = pushedCases.find((candidate) => candidate.testCase.name.startsWith('All images: tagged, untagged and any rules together')) as PushedCase;
      assert.ok(pushed, 'Example B is among the cases');
      const repositoryName = pushed.repository;
      await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName }));
      const waited = await waitUntilLifecyclePolicyPreviewComplete({ client: ecr, maxWaitTime: 10, minDelay: 1 }, { repositoryName });
      assert.equal(waited.state, 'SUCCESS');
      const untagged = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, filter: { tagStatus: 'UNTAGGED' } }));
      assert.deepEqual(previewKeys(pushed, untagged.previewResults ?? []), ['B expire by rule 2']);
      const tagged = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, filter: { tagStatus: 'TAGGED' } }));
      assert.deepEqual(previewKeys(pushed, tagged.previewResults ?? []), ['A expire by rule 1', 'D expire by rule 3']);
      const byId = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, imageIds: [{ imageTag: 'alpha-1' }, { imageDigest: pushed.digests.get('B') }, { imageTag: 'alpha-2' }] }));
      assert.deepEqual(previewKeys(pushed, byId.previewResults ?? []), ['A expire by rule 1', 'B expire by rule 2']);
      assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, imageIds: [{ imageTag: 'alpha-1' }], maxResults: 1 }))), 'InvalidParameterException');
      const first = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, maxResults: 1 }));
      assert.ok(first.nextToken);
      assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, maxResults: 1, nextToken: first.nextToken, filter: { tagStatus: 'TAGGED' } }))), 'InvalidParameterException');
      assert.equal(await sdkErrorName(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: pushedCases[0]?.repository, maxResults: 1, nextToken: first.nextToken }))), 'InvalidParameterException');

      const keepNewestTwo = JSON.stringify({ rules: [{ rulePriority: 1, description: 'keep the newest two', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } }] });
      const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: keepNewestTwo }));
      assert.equal(started.lifecyclePolicyText, keepNewestTwo);
      const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));
      assert.equal(preview.lifecyclePolicyText, keepNewestTwo);
      assert.deepEqual(previewKeys(pushed, preview.previewResults ?? []), ['A expire by rule 1', 'B expire by rule 1', 'C expire by rule 1']);
      assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lifecyclePolicyText, JSON.stringify(pushed.testCase.policy));
    });

    test('a run applies each case\'s expected decisions and records one event per action', async () => {
      const report = await runLifecyclePolicies(runner);
      assert.equal(report.repositories, pushedCases.length);
      assert.ok(report.actions.every((action) => action.outcome === 'applied'));
      for (const pushed of pushedCases) {
        const applied = report.actions.filter((action) => action.repository === `${ACCOUNT}/${pushed.repository}`);
        const keys = applied.map((action) => decisionKey(pushed.names.get(action.digest) as string, action.rulePriority, action.action)).sort();
        assert.deepEqual(keys, expectedKeys(pushed.testCase), pushed.testCase.name);

        const images = (await store.describeImages(await repositoryId(pushed.repository), {})).items;
        for (const decision of pushed.testCase.expected) {
          const image = images.find((candidate) => candidate.digest === pushed.digests.get(decision.image));
          if (decision.action === 'expire') assert.equal(image, undefined, `${pushed.testCase.name}: ${decision.image} is gone`);
          else assert.equal(image?.storageClass, 'ARCHIVE', `${pushed.testCase.name}: ${decision.image} is archived`);
        }
        assert.equal(images.length, pushed.testCase.images.filter((image) => !pushed.testCase.expected.some((decision) => decision.image === image.name && decision.action === 'expire')).length);
      }

      const events = (await store.listEvents(ACCOUNT, 1000)).filter((event) => event.detailType === LIFECYCLE_EVENT_DETAIL_TYPE);
      assert.equal(events.length, report.actions.length);
      const digests = events.map((event) => ((event.detail.lifecycleEventImageActions as { lifecycleEventImage: { digest: string } }[])[0] as { lifecycleEventImage: { digest: string } }).lifecycleEventImage.digest);
      assert.deepEqual(digests.sort(), report.actions.map((action) => action.digest).sort());

      const pushed = pushedCases.find((candidate) => candidate.testCase.name.startsWith('Filtering on image age')) as PushedCase;
      const event = events.find((candidate) => candidate.detail.repositoryName === pushed.repository);
      assert.equal(event?.source, LIFECYCLE_EVENT_SOURCE);
      assert.deepEqual(event?.resources, [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${pushed.repository}`]);
      assert.deepEqual(event?.detail.lifecycleEventImageActions, [
        {
          lifecycleEventImage: { digest: pushed.digests.get('old-prod'), tagStatus: 'Tagged', tagList: ['prod-1'], pushedAt: (event?.detail.lifecycleEventImageActions as { lifecycleEventImage: { pushedAt: number } }[])[0]?.lifecycleEventImage.pushedAt },
          rulePriority: 1,
          action: 'expire',
        },
      ]);
      assert.deepEqual((event?.detail.lifecycleEventPolicy as { lifecycleEventRules: unknown[] }).lifecycleEventRules, [
        {
          rulePriority: 1,
          description: 'Rule 1',
          lifecycleEventSelection: { tagStatus: 'Tagged', tagPatternList: ['prod*'], storageClass: 'standard', countType: 'Since image pushed', countNumber: 14 },
          action: 'expire',
        },
      ]);
    });

    test('the next run does what the engine decides over what is left (children of an expired index), then runs find nothing', async () => {
      const second = (await runLifecyclePolicies(runner)).actions;
      assert.ok(second.every((action) => action.outcome === 'applied'));
      for (const pushed of pushedCases) {
        const { testCase } = pushed;
        const expired = new Set(testCase.expected.filter((decision) => decision.action === 'expire').map((decision) => decision.image));
        const archived = new Set(testCase.expected.filter((decision) => decision.action === 'transition').map((decision) => decision.image));
        const left = testCase.images
          .filter((image) => !expired.has(image.name))
          .map((image): CaseImage => (archived.has(image.name) ? { ...image, storageClass: 'archive', archivedAgo: 0 } : image))
          .map((image) => ({ ...image, ...(image.childOf !== undefined && expired.has(image.childOf) ? { childOf: undefined } : {}) }));
        const oracle = evaluateLifecyclePolicy(parseLifecyclePolicy(JSON.stringify(testCase.policy)), lifecycleImages(left, NOW), NOW);
        const byDigest = new Map(left.map((image) => [lifecycleImages([image], NOW)[0]?.digest, image.name]));
        const expected = oracle.map((decision) => decisionKey(byDigest.get(decision.image.digest) as string, decision.appliedRulePriority, decision.action.type)).sort();
        const applied = second
          .filter((action) => action.repository === `${ACCOUNT}/${pushed.repository}`)
          .map((action) => decisionKey(pushed.names.get(action.digest) as string, action.rulePriority, action.action))
          .sort();
        assert.deepEqual(applied, expected, testCase.name);
      }
      assert.ok(second.length > 0, 'the children of the expired index go in the second run');
      assert.deepEqual((await runLifecyclePolicies(runner)).actions, []);
    });
  });

  test('a failed delete is logged, recorded nowhere, and retried by the next run', async () => {
    const repositoryName = 'lc/failing';
    const digests: string[] = [];
    const layer = await client.pushBlob(repositoryName, 'layer of lc/failing');
    for (const name of ['older', 'newer']) {
      const manifest = await pushManifest(repositoryName, name, layer);
      await putManifest(repositoryName, manifest.digest, manifest.body, OCI_MANIFEST);
      digests.push(manifest.digest);
    }
    const id = await repositoryId(repositoryName);
    await store.db.updateTable('manifests').set({ created_at: Date.now() - 2 * DAY }).where('repository_id', '=', id).where('digest', '=', digests[0] as string).execute();
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    const eventsBefore = (await store.listEvents(ACCOUNT, 1000)).length;
    const errors: unknown[] = [];
    const failing = await runLifecyclePolicies({
      ...runner,
      metadata: withStoreMethods(store, { deleteManifestWithReferrers: () => Promise.reject(new Error('metadata store unavailable')) }),
      logger: { info: silent.info.bind(silent), error: (...args: unknown[]) => void errors.push(args) },
    });
    assert.deepEqual(
      failing.actions.map((action) => [action.digest, action.outcome]),
      [[digests[0], 'failed']],
    );
    assert.equal(errors.length, 1);
    assert.equal((await store.listEvents(ACCOUNT, 1000)).length, eventsBefore);
    assert.equal((await store.describeImages(id, {})).items.length, 2);
    const retried = await runLifecyclePolicies(runner);
    assert.deepEqual(
      retried.actions.map((action) => [action.digest, action.outcome]),
      [[digests[0], 'applied']],
    );
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  test('GetLifecyclePolicy and DeleteLifecyclePolicy return lastEvaluatedAt: when a run last evaluated the current policy', async () => {
    const repositoryName = 'lc/evaluated';
    await client.pushImage(repositoryName, 'v1');
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lastEvaluatedAt, undefined, 'not evaluated yet');

    const evaluatedAt = new Date(Date.now() - 1234);
    await runLifecyclePolicies(runner, evaluatedAt);
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lastEvaluatedAt?.getTime(), evaluatedAt.getTime());
    await runLifecyclePolicies(runner, new Date(evaluatedAt.getTime() - DAY));
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lastEvaluatedAt?.getTime(), evaluatedAt.getTime(), 'a run that started earlier does not move it back');

    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lastEvaluatedAt, undefined, 'a policy put since has not been evaluated');
    const later = new Date();
    await runLifecyclePolicies(runner, later);
    const deleted = await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
    assert.equal(deleted.lastEvaluatedAt?.getTime(), later.getTime());
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    assert.equal((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName }))).lastEvaluatedAt, undefined);
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  test('an expired image takes its referrers with it (signatures, SBOMs and their own referrers), except those an index lists', async () => {
    const repositoryName = 'lc/referrers';
    const notarySignature = 'application/vnd.cncf.notary.signature';
    const layer = await client.pushBlob(repositoryName, 'layer of lc/referrers');
    const emptyConfig = await client.pushBlob(repositoryName, '{}');
    const pushReferrer = async (subject: { body: string; digest: string }, artifactType: string, name: string): Promise<{ body: string; digest: string }> => {
      const content = await client.pushBlob(repositoryName, `${artifactType} of ${name}`);
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...emptyConfig },
        layers: [{ mediaType: 'application/octet-stream', ...content }],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.body) },
      });
      await putManifest(repositoryName, sha256(body), body, OCI_MANIFEST);
      return { body, digest: sha256(body) };
    };
    const old = await pushManifest(repositoryName, 'old', layer);
    await putManifest(repositoryName, 'v1', old.body, OCI_MANIFEST);
    const current = await pushManifest(repositoryName, 'current', layer);
    await putManifest(repositoryName, 'v2', current.body, OCI_MANIFEST);
    const signature = await pushReferrer(old, notarySignature, 'old');
    const sbom = await pushReferrer(old, 'application/spdx+json', 'old');
    const sbomSignature = await pushReferrer(sbom, notarySignature, 'the SBOM');
    const listedSignature = await pushReferrer(old, notarySignature, 'old, listed by an index');
    const currentSignature = await pushReferrer(current, notarySignature, 'current');
    const bundle = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: listedSignature.digest, size: Buffer.byteLength(listedSignature.body) }] });
    await putManifest(repositoryName, 'bundle', bundle, OCI_INDEX);
    const id = await repositoryId(repositoryName);
    await store.db.updateTable('manifests').set({ created_at: Date.now() - 2 * DAY }).where('repository_id', '=', id).where('digest', '=', old.digest).execute();
    const keepNewestRelease = JSON.stringify({
      rules: [{ rulePriority: 1, description: 'keep the newest release', selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: keepNewestRelease }));

    const report = await runLifecyclePolicies(runner);
    const actions = report.actions.filter((action) => action.repository === `${ACCOUNT}/${repositoryName}`);
    assert.deepEqual(
      actions.map((action) => [action.digest, action.outcome, [...action.referrers].sort()]),
      [[old.digest, 'applied', [signature.digest, sbom.digest, sbomSignature.digest].sort()]],
    );
    const left = (await store.describeImages(id, {})).items.map((image) => image.digest).sort();
    assert.deepEqual(left, [current.digest, currentSignature.digest, listedSignature.digest, sha256(bundle)].sort());
    const referrers = await client.json<{ manifests: { digest: string }[] }>(`/v2/${repositoryName}/referrers/${old.digest}`);
    assert.deepEqual(referrers.manifests.map((descriptor) => descriptor.digest), [listedSignature.digest]);

    const event = (await store.listEvents(ACCOUNT, 1000)).find((candidate) => candidate.detail.repositoryName === repositoryName);
    const imageAction = (event?.detail.lifecycleEventImageActions as { lifecycleEventImage: { digest: string }; deletedReferrers?: string[] }[])[0];
    assert.equal(imageAction?.lifecycleEventImage.digest, old.digest);
    assert.deepEqual([...(imageAction?.deletedReferrers ?? [])].sort(), [signature.digest, sbom.digest, sbomSignature.digest].sort());
    assert.deepEqual((await runLifecyclePolicies(runner)).actions, []);
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  test('referrers whose subject was deleted otherwise go in a run once past the grace period, with their own referrers; the preview lists them and those going with an expired image', async () => {
    const repositoryName = 'lc/orphans';
    const notarySignature = 'application/vnd.cncf.notary.signature';
    const layer = await client.pushBlob(repositoryName, 'layer of lc/orphans');
    const pushReferrer = async (repository: string, subject: { body: string; digest: string }, name: string): Promise<{ body: string; digest: string }> => {
      const content = await client.pushBlob(repository, `signature of ${name}`);
      const config = await client.pushBlob(repository, '{}');
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: notarySignature,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
        layers: [{ mediaType: 'application/octet-stream', ...content }],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.body) },
      });
      await putManifest(repository, sha256(body), body, OCI_MANIFEST);
      return { body, digest: sha256(body) };
    };
    const deletedSubject = await pushManifest(repositoryName, 'deleted by a user', layer);
    await putManifest(repositoryName, 'v1', deletedSubject.body, OCI_MANIFEST);
    const signature = await pushReferrer(repositoryName, deletedSubject, 'the deleted image');
    const countersignature = await pushReferrer(repositoryName, signature, 'the signature');
    const neverPushed = { body: '{"never":"pushed"}', digest: sha256('{"never":"pushed"}') };
    const abandoned = await pushReferrer(repositoryName, neverPushed, 'an image never pushed');
    const early = await pushReferrer(repositoryName, { body: '{"pushed":"later"}', digest: sha256('{"pushed":"later"}') }, 'an image pushed later');
    const listed = await pushReferrer(repositoryName, neverPushed, 'an image never pushed, listed by an index');
    const bundle = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: listed.digest, size: Buffer.byteLength(listed.body) }] });
    await putManifest(repositoryName, 'bundle', bundle, OCI_INDEX);
    const expiring = await pushManifest(repositoryName, 'expired by the policy', layer);
    await putManifest(repositoryName, 'old-1', expiring.body, OCI_MANIFEST);
    const expiringSignature = await pushReferrer(repositoryName, expiring, 'the expired image');
    const id = await repositoryId(repositoryName);
    const now = Date.now();
    for (const [digest, age] of [[signature.digest, 3 * DAY], [abandoned.digest, 2 * DAY], [listed.digest, 2 * DAY], [expiring.digest, 2 * DAY]] as const) {
      await store.db.updateTable('manifests').set({ created_at: now - age }).where('repository_id', '=', id).where('digest', '=', digest).execute();
    }
    await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }));
    // The same, in a repository without a lifecycle policy: nothing there is swept.
    const unmanaged = 'lc/orphans-unmanaged';
    const unmanagedOrphan = await pushReferrer(unmanaged, neverPushed, 'an image never pushed');
    await store.db.updateTable('manifests').set({ created_at: now - 2 * DAY }).where('digest', '=', unmanagedOrphan.digest).execute();

    const expireOld = JSON.stringify({
      rules: [{ rulePriority: 3, description: 'expire old releases', selection: { tagStatus: 'tagged', tagPrefixList: ['old'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }, action: { type: 'expire' } }],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: expireOld }));
    await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName }));
    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));
    assert.deepEqual(
      (preview.previewResults ?? []).map((result) => [result.imageDigest, result.action?.type, result.appliedRulePriority]),
      [
        [signature.digest, 'EXPIRE', undefined],
        [countersignature.digest, 'EXPIRE', undefined],
        [abandoned.digest, 'EXPIRE', undefined],
        [expiring.digest, 'EXPIRE', 3],
        [expiringSignature.digest, 'EXPIRE', 3],
      ],
    );
    assert.equal(preview.summary?.expiringImageTotalCount, 5);

    const eventsBefore = (await store.listEvents(ACCOUNT, 1000)).length;
    const ofThisRepository = <T extends { repository: string }>(results: readonly T[]): T[] => results.filter((result) => result.repository === `${ACCOUNT}/${repositoryName}`);
    const report = await runLifecyclePolicies(runner, new Date(now));
    assert.deepEqual(
      ofThisRepository(report.orphanedReferrers).map((orphan) => [orphan.repository, orphan.digest, orphan.subjectDigest, orphan.referrers, orphan.outcome]),
      [
        [`${ACCOUNT}/${repositoryName}`, signature.digest, deletedSubject.digest, [countersignature.digest], 'applied'],
        [`${ACCOUNT}/${repositoryName}`, abandoned.digest, neverPushed.digest, [], 'applied'],
      ],
    );
    assert.deepEqual(
      ofThisRepository(report.actions).map((action) => [action.digest, action.rulePriority, action.referrers, action.outcome]),
      [[expiring.digest, 3, [expiringSignature.digest], 'applied']],
    );
    const left = (await store.describeImages(id, {})).items.map((image) => image.digest).sort();
    assert.deepEqual(left, [early.digest, listed.digest, sha256(bundle)].sort(), 'a referrer pushed within the grace period and one an index lists stay');
    assert.ok(await store.getManifest((await repositoryId(unmanaged)), unmanagedOrphan.digest), 'a repository without a policy keeps its referrers');

    const events = (await store.listEvents(ACCOUNT, 1000)).slice(eventsBefore).filter((event) => event.detail.repositoryName === repositoryName);
    const imageActions = events.map((event) => (event.detail.lifecycleEventImageActions as Record<string, unknown>[])[0]);
    assert.deepEqual(imageActions.slice(0, 2), [
      {
        lifecycleEventImage: { digest: signature.digest, tagStatus: 'Untagged', tagList: [], pushedAt: now - 3 * DAY },
        action: 'expire',
        orphanedReferrerOf: deletedSubject.digest,
        deletedReferrers: [countersignature.digest],
      },
      { lifecycleEventImage: { digest: abandoned.digest, tagStatus: 'Untagged', tagList: [], pushedAt: now - 2 * DAY }, action: 'expire', orphanedReferrerOf: neverPushed.digest },
    ]);
    assert.equal(events.length, 3);
    assert.ok(events.every((event) => event.source === LIFECYCLE_EVENT_SOURCE));

    const again = await runLifecyclePolicies(runner, new Date(now));
    assert.deepEqual([ofThisRepository(again.orphanedReferrers), ofThisRepository(again.actions)], [[], []]);
    const pastGrace = await runLifecyclePolicies(runner, new Date(now + ORPHANED_REFERRER_GRACE_MS + 60_000));
    assert.deepEqual(
      ofThisRepository(pastGrace.orphanedReferrers).map((orphan) => [orphan.digest, orphan.outcome]),
      [[early.digest, 'applied']],
    );
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  test('an action another process took between the check and the act is left to it: skipped, no event', async () => {
    const repositoryName = 'lc/raced';
    const layer = await client.pushBlob(repositoryName, 'layer of lc/raced');
    const digests = new Map<string, string>();
    for (const name of ['archived-old', 'archived-new', 'expired-old', 'expired-new']) {
      const manifest = await pushManifest(repositoryName, name, layer);
      await putManifest(repositoryName, name, manifest.body, OCI_MANIFEST);
      digests.set(name, manifest.digest);
    }
    const id = await repositoryId(repositoryName);
    for (const name of ['archived-old', 'expired-old']) {
      await store.db.updateTable('manifests').set({ created_at: Date.now() - DAY }).where('repository_id', '=', id).where('digest', '=', digests.get(name) as string).execute();
    }
    const policy = JSON.stringify({
      rules: [
        { rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['archived'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'transition', targetStorageClass: 'archive' } },
        { rulePriority: 2, selection: { tagStatus: 'tagged', tagPrefixList: ['expired'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      ],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: policy }));
    const otherProcess = await openSqlMetadataStore(`sqlite:${join(berth.dataDir, 'berth.db')}`);
    try {
      const eventsBefore = (await store.listEvents(ACCOUNT, 1000)).length;
      const report = await runLifecyclePolicies({
        ...runner,
        metadata: withStoreMethods(store, {
          setStorageClass: async (repository, digest, storageClass, at, from) => {
            assert.equal(await otherProcess.setStorageClass(repository, digest, storageClass, at, from), true);
            return store.setStorageClass(repository, digest, storageClass, at, from);
          },
          deleteManifestWithReferrers: async (repository, digest, condition) => {
            assert.ok(await otherProcess.deleteManifestWithReferrers(repository, digest, condition));
            return store.deleteManifestWithReferrers(repository, digest, condition);
          },
        }),
      });
      assert.deepEqual(
        report.actions.map((action) => [action.digest, action.action, action.outcome]),
        [
          [digests.get('archived-old'), 'transition', 'skipped'],
          [digests.get('expired-old'), 'expire', 'skipped'],
        ],
      );
      assert.equal((await store.listEvents(ACCOUNT, 1000)).length, eventsBefore);
      const images = new Map((await store.describeImages(id, {})).items.map((image) => [image.digest, image.storageClass]));
      assert.equal(images.get(digests.get('archived-old') as string), 'ARCHIVE');
      assert.equal(images.has(digests.get('expired-old') as string), false);
      assert.deepEqual((await runLifecyclePolicies(runner)).actions, []);
    } finally {
      await otherProcess.close();
    }
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  test('the scheduler runs at once when started, and stopping it waits for that run', async () => {
    const repositoryName = 'lc/scheduled';
    const layer = await client.pushBlob(repositoryName, 'layer of lc/scheduled');
    const digests: string[] = [];
    for (const name of ['older', 'newer']) {
      const manifest = await pushManifest(repositoryName, name, layer);
      await putManifest(repositoryName, manifest.digest, manifest.body, OCI_MANIFEST);
      digests.push(manifest.digest);
    }
    const id = await repositoryId(repositoryName);
    await store.db.updateTable('manifests').set({ created_at: Date.now() - DAY }).where('repository_id', '=', id).where('digest', '=', digests[0] as string).execute();
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));
    const stop = startLifecycleScheduler(runner, 3600);
    await stop();
    assert.deepEqual(
      (await store.describeImages(id, {})).items.map((image) => image.digest),
      [digests[1]],
    );
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName }));
  });

  test('berth lifecycle run applies the policies once against the data directory and says what it did', async () => {
    const repositoryName = 'lc/cli';
    const layer = await client.pushBlob(repositoryName, 'layer of lc/cli');
    const digests: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const manifest = await pushManifest(repositoryName, name, layer);
      await putManifest(repositoryName, manifest.digest, manifest.body, OCI_MANIFEST);
      digests.push(manifest.digest);
    }
    const id = await repositoryId(repositoryName);
    for (const [age, digest] of digests.entries()) {
      await store.db.updateTable('manifests').set({ created_at: Date.now() - (3 - age) * DAY }).where('repository_id', '=', id).where('digest', '=', digest).execute();
    }
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: KEEP_ONE_UNTAGGED }));

    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.some((setting) => setting.env === name)));
    const lifecycleRun = () =>
      run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lifecycle', 'run', '--data-dir', berth.dataDir], { cwd: REPO_ROOT, env: { ...cleanEnv, BERTH_LOG_LEVEL: 'warn' }, timeoutMs: 60_000 });
    const first = await lifecycleRun();
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1).sort(), [`expired ${ACCOUNT}/${repositoryName}@${digests[0]} by rule 1`, `expired ${ACCOUNT}/${repositoryName}@${digests[1]} by rule 1`].sort());
    assert.match(lines.at(-1) as string, /^Evaluated \d+ repositories with a lifecycle policy; 2 actions applied\.$/);
    assert.deepEqual(
      (await store.describeImages(id, {})).items.map((image) => image.digest),
      [digests[2]],
    );
    const again = await lifecycleRun();
    assert.match(again.stdout, /; 0 actions applied\.\n$/);

    // Two processes at once: each image is archived or expired once, and recorded once.
    const racedName = 'lc/cli-concurrent';
    const racedLayer = await client.pushBlob(racedName, 'layer of lc/cli-concurrent');
    const raced = (await repositoryId(racedName));
    for (const [group, count] of [['keep', 6], ['drop', 6]] as const) {
      for (let n = 0; n < count; n++) {
        const manifest = await pushManifest(racedName, `${group}${n}`, racedLayer);
        await putManifest(racedName, `${group}${n}`, manifest.body, OCI_MANIFEST);
        await store.db.updateTable('manifests').set({ created_at: Date.now() - (n + 1) * DAY }).where('repository_id', '=', raced).where('digest', '=', manifest.digest).execute();
      }
    }
    const policy = JSON.stringify({
      rules: [
        { rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['keep'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'transition', targetStorageClass: 'archive' } },
        { rulePriority: 2, selection: { tagStatus: 'tagged', tagPrefixList: ['drop'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      ],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: racedName, lifecyclePolicyText: policy }));
    const eventsBefore = (await store.listEvents(ACCOUNT, 1000)).length;
    const runs = await Promise.all([lifecycleRun(), lifecycleRun()]);
    for (const concurrent of runs) assert.equal(concurrent.code, 0, concurrent.stderr);
    const said = runs.flatMap((concurrent) => concurrent.stdout.trim().split('\n'));
    assert.equal(said.filter((line) => line.startsWith(`archived ${ACCOUNT}/${racedName}@`)).length, 5, said.join('\n'));
    assert.equal(said.filter((line) => line.startsWith(`expired ${ACCOUNT}/${racedName}@`)).length, 5, said.join('\n'));
    const events = (await store.listEvents(ACCOUNT, 1000)).slice(eventsBefore);
    const eventDigests = events.map((event) => (event.detail.lifecycleEventImageActions as { lifecycleEventImage: { digest: string } }[])[0]?.lifecycleEventImage.digest);
    assert.equal(new Set(eventDigests).size, 10);
    assert.equal(events.length, 10);
    const left = (await store.describeImages(raced, {})).items;
    assert.deepEqual(left.map((image) => image.storageClass).sort(), ['ARCHIVE', 'ARCHIVE', 'ARCHIVE', 'ARCHIVE', 'ARCHIVE', 'STANDARD', 'STANDARD']);
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: racedName }));
  });
});

/**
 * Several Berth processes over one metadata store (and one data directory, as a deployment shares
 * them): a preview started through one is read through another, and after a restart.
 */
function previewsAcrossProcesses(backend: string, database: () => { url?: string; cleanup?: () => Promise<void> }): void {
  describe(`lifecycle policy previews are shared by the processes of a deployment (${backend})`, () => {
    const started: TestBerth[] = [];
    let cleanup: (() => Promise<void>) | undefined;
    let overrides: Record<string, string>;

    /** A process of the deployment; the first one owns the data directory. */
    const startProcess = async (): Promise<TestBerth> => {
      const first = started[0];
      const member = await startTestBerth({ ...overrides, ...(first ? { dataDir: first.dataDir } : {}) });
      started.push(member);
      return member;
    };
    /** Stops a process that does not own the data directory, removing only its unused one. */
    const stopProcess = async (member: TestBerth): Promise<void> => {
      started.splice(started.indexOf(member), 1);
      await member.close();
      await rm(member.dataDir, { recursive: true, force: true });
    };

    before(() => {
      const target = database();
      cleanup = target.cleanup;
      overrides = { rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, lifecycleIntervalSeconds: '0', ...(target.url ? { databaseUrl: target.url } : {}) };
    });
    after(async () => {
      const [owner, ...others] = started;
      for (const member of others) await stopProcess(member);
      await owner?.stop();
      await cleanup?.();
    });

    test('started through one process, read through another (pages too) and after a restart', async () => {
      const serverA = await startProcess();
      const serverB = await startProcess();
      const repositoryName = 'lc/shared-preview';
      const client = new TestClient(serverA.url);
      for (const tag of ['v1', 'v2', 'v3']) await client.pushImage(repositoryName, tag);
      const keepNewest = JSON.stringify({ rules: [{ rulePriority: 1, description: 'keep the newest image', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] });
      const ecrA = ecrClients(serverA.url, ROOT).ecr;
      const ecrB = ecrClients(serverB.url, ROOT).ecr;
      try {
        assert.equal(await sdkErrorName(ecrB.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }))), 'LifecyclePolicyPreviewNotFoundException');
        const start = await ecrA.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: keepNewest }));
        assert.equal(start.status, 'COMPLETE');

        const throughA = await ecrA.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));
        const throughB = await ecrB.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));
        assert.equal(throughB.status, 'COMPLETE');
        assert.equal(throughB.lifecyclePolicyText, keepNewest);
        assert.equal(throughB.previewResults?.length, 2);
        assert.deepEqual(throughB.previewResults, throughA.previewResults);
        assert.deepEqual(throughB.summary, { expiringImageTotalCount: 2 });
        assert.ok(throughB.previewResults?.every((result) => result.imagePushedAt instanceof Date && result.action?.type === 'EXPIRE'));

        const firstPage = await ecrA.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, maxResults: 1 }));
        const secondPage = await ecrB.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, maxResults: 1, nextToken: firstPage.nextToken }));
        assert.deepEqual([...(firstPage.previewResults ?? []), ...(secondPage.previewResults ?? [])], throughA.previewResults);
        assert.equal(secondPage.nextToken, undefined);

        // A newer preview replaces it for every process, and the older one's page tokens are refused.
        await ecrB.send(new StartLifecyclePolicyPreviewCommand({ repositoryName, lifecyclePolicyText: keepNewest }));
        assert.equal(await sdkErrorName(ecrA.send(new GetLifecyclePolicyPreviewCommand({ repositoryName, maxResults: 1, nextToken: firstPage.nextToken }))), 'InvalidParameterException');
        const latest = await ecrA.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));

        await stopProcess(serverB);
        ecrB.destroy();
        const restarted = await startProcess();
        const ecrRestarted = ecrClients(restarted.url, ROOT).ecr;
        try {
          const afterRestart = await ecrRestarted.send(new GetLifecyclePolicyPreviewCommand({ repositoryName }));
          assert.deepEqual(afterRestart.previewResults, latest.previewResults);
          assert.deepEqual(afterRestart.summary, latest.summary);
        } finally {
          ecrRestarted.destroy();
        }
      } finally {
        ecrA.destroy();
        ecrB.destroy();
      }
    });
  });
}

previewsAcrossProcesses('SQLite', () => ({}));
if (pgUnreachable === undefined) {
  previewsAcrossProcesses('PostgreSQL', () => {
    const { schema, url } = freshSchemaUrl('berth_lc_preview');
    return { url, cleanup: () => dropSchema(schema) };
  });
} else {
  reportPostgresUnavailable('lifecycle policy previews are shared by the processes of a deployment (PostgreSQL)');
}
