import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
import { MODELS, type AwsService } from '../src/aws/operations.js';
import { ecrHandlers } from '../src/http/ecr-api/index.js';
import type { EcrApiDeps } from '../src/http/ecr-api/call.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
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
    assert.equal(await sdkErrorName(clients.ecrPublic.send(new BatchCheckPublicLayerAvailabilityCommand({ registryId: 'no-such-alias', repositoryName: 'sdk/public', layerDigests }))), 'RepositoryNotFoundException');
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
});
