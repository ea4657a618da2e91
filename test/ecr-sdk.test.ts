import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import * as ecrSdk from '@aws-sdk/client-ecr';
import { DeleteRegistryPolicyCommand, GetAuthorizationTokenCommand, GetRegistryPolicyCommand, GetRepositoryPolicyCommand, PutRegistryPolicyCommand, SetRepositoryPolicyCommand } from '@aws-sdk/client-ecr';
import {
  BatchCheckLayerAvailabilityCommand as BatchCheckPublicLayerAvailabilityCommand,
  CreateRepositoryCommand as CreatePublicRepositoryCommand,
  DeleteRepositoryPolicyCommand as DeletePublicRepositoryPolicyCommand,
  DescribeRegistriesCommand,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
  GetRepositoryPolicyCommand as GetPublicRepositoryPolicyCommand,
  SetRepositoryPolicyCommand as SetPublicRepositoryPolicyCommand,
} from '@aws-sdk/client-ecr-public';
import * as ecrPublicSdk from '@aws-sdk/client-ecr-public';
import { MODELS, type AwsService } from '../src/aws/operations.js';
import { ecrHandlers } from '../src/http/ecr-api/index.js';
import type { EcrApiDeps } from '../src/http/ecr-api/call.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { TestClient } from './lib/client.js';
import { ecrClients, sdkErrorName } from './lib/ecr-sdk.js';

const ROOT = { accessKeyId: 'AKIAECRSDKROOTKEY001', secretAccessKey: 'ecr/sdk/root/secret/key/for/the/tests/000' };

/** The ECR control plane through `@aws-sdk/client-ecr` and `@aws-sdk/client-ecr-public`: the SDKs' serializers, signing and error parsing. */
describe('ECR API through the AWS SDK for JavaScript', () => {
  let berth: TestBerth;
  let clients: ReturnType<typeof ecrClients>;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, publicAlias: 'sdk-tests' });
    clients = ecrClients(berth.url, ROOT);
  });
  after(async () => {
    clients?.ecr.destroy();
    clients?.ecrPublic.destroy();
    await berth?.stop();
  });

  test('GetAuthorizationToken: a Date expiresAt 12 h ahead and a password /v2/ accepts', async () => {
    const { authorizationData } = await clients.ecr.send(new GetAuthorizationTokenCommand({}));
    const data = authorizationData?.[0];
    assert.ok(data?.expiresAt instanceof Date);
    assert.ok(Math.abs(data.expiresAt.getTime() - Date.now() - 12 * 3600_000) < 60_000);
    assert.equal((await berth.request('/v2/', { headers: { authorization: `Basic ${data.authorizationToken}` } })).status, 200);
    const publicToken = await clients.ecrPublic.send(new GetPublicAuthorizationTokenCommand({}));
    assert.ok(publicToken.authorizationData?.expiresAt instanceof Date);
  });

  test('repository and registry policies; modeled exceptions arrive as the SDK\'s classes', async () => {
    await berth.request('/v2/sdk/app/blobs/uploads/', { method: 'POST' });
    const policyText = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr:ListImages' }] });
    assert.equal(await sdkErrorName(clients.ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'sdk/app' }))), 'RepositoryPolicyNotFoundException');
    await clients.ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'sdk/app', policyText }));
    assert.equal((await clients.ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'sdk/app' }))).policyText, policyText);
    assert.equal(await sdkErrorName(clients.ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'sdk/none', policyText }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(clients.ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'Bad Name', policyText }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(clients.ecr.send(new GetRegistryPolicyCommand({}))), 'RegistryPolicyNotFoundException');
    const registryPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'ecr:ReplicateImage', Resource: '*' }] });
    assert.equal((await clients.ecr.send(new PutRegistryPolicyCommand({ policyText: registryPolicy }))).policyText, registryPolicy);
    assert.equal((await clients.ecr.send(new DeleteRegistryPolicyCommand({}))).policyText, registryPolicy);
  });

  test('ECR Public repository policies: set, read, delete, then RepositoryPolicyNotFoundException', async () => {
    await clients.ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'sdk/public' }));
    const policyText = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr-public:DescribeImages' }] });
    await clients.ecrPublic.send(new SetPublicRepositoryPolicyCommand({ repositoryName: 'sdk/public', policyText }));
    assert.equal((await clients.ecrPublic.send(new GetPublicRepositoryPolicyCommand({ repositoryName: 'sdk/public' }))).policyText, policyText);
    assert.equal((await clients.ecrPublic.send(new DeletePublicRepositoryPolicyCommand({ repositoryName: 'sdk/public' }))).policyText, policyText);
    assert.equal(await sdkErrorName(clients.ecrPublic.send(new GetPublicRepositoryPolicyCommand({ repositoryName: 'sdk/public' }))), 'RepositoryPolicyNotFoundException');
    // The image and layer operations of ECR Public also name a registry by its alias.
    const layerDigests = [`sha256:${'a'.repeat(64)}`];
    const byAlias = await clients.ecrPublic.send(new BatchCheckPublicLayerAvailabilityCommand({ registryId: 'sdk-tests', repositoryName: 'sdk/public', layerDigests }));
    assert.equal(byAlias.failures?.[0]?.failureCode, 'MissingLayerDigest');
    assert.equal(await sdkErrorName(clients.ecrPublic.send(new BatchCheckPublicLayerAvailabilityCommand({ registryId: 'no-such-alias', repositoryName: 'sdk/public', layerDigests }))), 'RegistryNotFoundException');
  });

  test('every operation of both models has a handler (docs/api-coverage.md lists them with their tests)', () => {
    const handlers = ecrHandlers({} as EcrApiDeps);
    for (const service of Object.keys(MODELS) as AwsService[]) {
      const missing = Object.keys(MODELS[service].operations).filter((operation) => !handlers[service][operation]);
      assert.deepEqual(missing, [], `${service} operations without a handler`);
    }
  });

  test('ECR Public DescribeRegistries names the alias and the URI to pull from', async () => {
    const { registries } = await clients.ecrPublic.send(new DescribeRegistriesCommand({}));
    assert.equal(registries?.[0]?.aliases?.[0]?.name, 'sdk-tests');
    assert.equal(registries?.[0]?.registryUri, `${new URL(berth.url).host}/public/sdk-tests`);
  });
  test('ECR Public paginators: DescribeRepositories across pages, DescribeRegistries', async () => {
    const names = ['sdk/paged-1', 'sdk/paged-2', 'sdk/paged-3'];
    for (const repositoryName of names) await clients.ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName }));
    const pages: string[][] = [];
    for await (const page of ecrPublicSdk.paginateDescribeRepositories({ client: clients.ecrPublic, pageSize: 1 }, {})) pages.push((page.repositories ?? []).map((r) => r.repositoryName ?? ''));
    assert.ok(pages.length >= names.length && pages.every((page) => page.length === 1), JSON.stringify(pages));
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, 'no repository on two pages');
    for (const name of names) assert.ok(seen.includes(name), `${name} in ${seen.join(', ')}`);
    const registries: string[] = [];
    for await (const page of ecrPublicSdk.paginateDescribeRegistries({ client: clients.ecrPublic, pageSize: 1 }, {})) registries.push(...(page.registries ?? []).map((r) => r.aliases?.[0]?.name ?? ''));
    assert.deepEqual(registries, ['sdk-tests']);
  });

  test('the DescribeImageScanFindings paginator stops at ScanNotFoundException for an image never scanned, as against ECR', async () => {
    const imageDigest = await new TestClient(berth.url).pushImage('sdk/scanned', 'v1');
    const pages = ecrSdk.paginateDescribeImageScanFindings({ client: clients.ecr, pageSize: 10 }, { repositoryName: 'sdk/scanned', imageId: { imageDigest } });
    await assert.rejects(async () => {
      for await (const page of pages) assert.fail(`a page of findings: ${JSON.stringify(page)}`);
    }, ecrSdk.ScanNotFoundException);
  });

  test('every paginator and waiter the SDKs ship for an operation Berth serves is driven by a test', async () => {
    // Which test file drives each, under the name it imports it by.
    const drivenIn: Record<string, { file: string; as?: string }> = {
      'ecr.paginateDescribeImageScanFindings': { file: 'ecr-sdk.test.ts' },
      'ecr.paginateDescribeImages': { file: 'ecr-images.test.ts' },
      'ecr.paginateDescribePullThroughCacheRules': { file: 'ecr-registry-settings.test.ts' },
      'ecr.paginateDescribeRepositories': { file: 'ecr-repositories.test.ts' },
      'ecr.paginateDescribeRepositoryCreationTemplates': { file: 'ecr-registry-settings.test.ts' },
      'ecr.paginateGetLifecyclePolicyPreview': { file: 'ecr-lifecycle.test.ts' },
      'ecr.paginateListImages': { file: 'ecr-images.test.ts' },
      'ecr.waitUntilImageScanComplete': { file: 'ecr-images.test.ts' },
      'ecr.waitUntilLifecyclePolicyPreviewComplete': { file: 'ecr-lifecycle.test.ts' },
      'ecr-public.paginateDescribeImageTags': { file: 'ecr-images.test.ts' },
      'ecr-public.paginateDescribeImages': { file: 'ecr-images.test.ts', as: 'paginatePublicDescribeImages' },
      'ecr-public.paginateDescribeRegistries': { file: 'ecr-sdk.test.ts' },
      'ecr-public.paginateDescribeRepositories': { file: 'ecr-sdk.test.ts' },
    };
    const shipped: string[] = [];
    for (const [service, sdk] of [['ecr', ecrSdk], ['ecr-public', ecrPublicSdk]] as const) {
      for (const name of Object.keys(sdk).filter((key) => /^(paginate|waitUntil)[A-Z]/.test(key))) {
        const operation = name.replace(/^paginate/, '');
        // Waiters poll an operation of the model; a paginator newer than the model's operations (the SDK may be ahead of botocore) is left out.
        if (name.startsWith('paginate') && !Object.hasOwn(MODELS[service].operations, operation)) continue;
        shipped.push(`${service}.${name}`);
      }
    }
    assert.deepEqual(shipped.sort(), Object.keys(drivenIn).sort());
    for (const [key, { file, as }] of Object.entries(drivenIn)) {
      const text = await readFile(new URL(file, import.meta.url), 'utf8');
      const name = as ?? key.slice(key.indexOf('.') + 1);
      assert.ok(new RegExp(`\\b${name}\\(`).test(text), `${key} is called in test/${file}`);
    }
  });
});
