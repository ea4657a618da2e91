import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BatchGetRepositoryScanningConfigurationCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteRepositoryCommand,
  DeleteRepositoryCreationTemplateCommand,
  DescribeRepositoriesCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutRegistryScanningConfigurationCommand,
  TagResourceCommand,
  UntagResourceCommand,
  paginateDescribeRepositories,
  type CreateRepositoryCommandInput,
  type ECRClient,
  type Repository,
  type Tag,
} from '@aws-sdk/client-ecr';
import {
  CreateRepositoryCommand as CreatePublicRepositoryCommand,
  DeleteRepositoryCommand as DeletePublicRepositoryCommand,
  DescribeRepositoriesCommand as DescribePublicRepositoriesCommand,
  GetRepositoryCatalogDataCommand,
  ListTagsForResourceCommand as ListPublicTagsCommand,
  PutRepositoryCatalogDataCommand,
  TagResourceCommand as TagPublicResourceCommand,
  UntagResourceCommand as UntagPublicResourceCommand,
  type ECRPUBLICClient,
} from '@aws-sdk/client-ecr-public';
import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { OCI_MANIFEST, TestClient } from './lib/client.js';
import { ecrClients, sdkErrorName, type Credentials } from './lib/ecr-sdk.js';

const ROOT = { accessKeyId: 'AKIAREPOSITORIESROOT1', secretAccessKey: 'repositories/root/secret/key/for/the/tests' };
const ACCOUNT = '000000000000';
const ALIAS = 'repo-tests';
const ARN = (name: string): string => `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`;
const KMS_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const PUBLIC_ARN = (name: string): string => `arn:aws:ecr-public::${ACCOUNT}:repository/${name}`;

/** Every repository operation of ECR and ECR Public through the AWS SDK for JavaScript, with docker's side over /v2/. */
describe('ECR and ECR Public repositories through the AWS SDK', () => {
  let berth: TestBerth;
  let clients: ReturnType<typeof ecrClients>;
  let ecr: ECRClient;
  let ecrPublic: ECRPUBLICClient;
  let v2: TestClient;
  let host: string;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, publicAlias: ALIAS });
    clients = ecrClients(berth.url, ROOT);
    ecr = clients.ecr;
    ecrPublic = clients.ecrPublic;
    v2 = new TestClient(berth.url);
    host = new URL(berth.url).host;
  });
  after(async () => {
    clients?.ecr.destroy();
    clients?.ecrPublic.destroy();
    await berth?.stop();
  });

  const describeOne = async (repositoryName: string): Promise<Repository> => {
    const { repositories } = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
    assert.equal(repositories?.length, 1);
    return repositories[0] as Repository;
  };
  const notCreated = async (repositoryName: string): Promise<void> => {
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }))), 'RepositoryNotFoundException');
  };
  /** The `/v2/` path of a repository URI (what follows the host). */
  const v2Path = (repositoryUri: string | undefined): string => {
    assert.ok(repositoryUri !== undefined && repositoryUri.startsWith(`${host}/`), repositoryUri);
    return repositoryUri.slice(`${host}/`.length);
  };

  test('CreateRepository with the defaults, shown alike by DescribeRepositories; RepositoryAlreadyExistsException; bad names', async () => {
    const before = Date.now();
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team-a/web' }));
    assert.deepEqual({ ...repository, createdAt: undefined }, {
      repositoryArn: ARN('team-a/web'),
      registryId: ACCOUNT,
      repositoryName: 'team-a/web',
      repositoryUri: `${host}/${ACCOUNT}/team-a/web`,
      createdAt: undefined,
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });
    assert.ok(repository?.createdAt instanceof Date);
    assert.ok(Math.abs(repository.createdAt.getTime() - before) < 60_000);
    assert.deepEqual(await describeOne('team-a/web'), repository);

    const exists = ecr.send(new CreateRepositoryCommand({ repositoryName: 'team-a/web', imageTagMutability: 'IMMUTABLE' }));
    assert.equal(await sdkErrorName(exists), 'RepositoryAlreadyExistsException');
    assert.equal((await describeOne('team-a/web')).imageTagMutability, 'MUTABLE');

    for (const repositoryName of ['Team-A', 'a', 'team-a//web', 'web-', `${'a'.repeat(257)}`]) {
      assert.equal(await sdkErrorName(ecr.send(new CreateRepositoryCommand({ repositoryName }))), 'InvalidParameterException', repositoryName);
    }
    assert.equal(await sdkErrorName(ecr.send(new CreateRepositoryCommand({ repositoryName: 'other', registryId: '12345' }))), 'InvalidParameterException');
  });

  test('CreateRepository with every setting: tag mutability with exclusions, scan on push, KMS encryption kept as given, tags', async () => {
    const { repository } = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'team-a/api',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [
          { filterType: 'WILDCARD', filter: 'latest' },
          { filterType: 'WILDCARD', filter: 'dev-*' },
        ],
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS_DSSE', kmsKey: 'alias/berth-tests' },
        tags: [
          { Key: 'team', Value: 'a' },
          { Key: 'cost center', Value: '' },
        ],
      }),
    );
    assert.equal(repository?.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
    assert.deepEqual(repository.imageTagMutabilityExclusionFilters, [
      { filterType: 'WILDCARD', filter: 'latest' },
      { filterType: 'WILDCARD', filter: 'dev-*' },
    ]);
    assert.deepEqual(repository.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repository.encryptionConfiguration, { encryptionType: 'KMS_DSSE', kmsKey: 'alias/berth-tests' });
    assert.deepEqual(await describeOne('team-a/api'), repository);
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: ARN('team-a/api') }))).tags, [
      { Key: 'team', Value: 'a' },
      { Key: 'cost center', Value: '' },
    ]);
    const kms = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team-a/kms', encryptionConfiguration: { encryptionType: 'KMS' } }));
    assert.deepEqual(kms.repository?.encryptionConfiguration, { encryptionType: 'KMS' });
  });

  test('CreateRepository refuses bad settings and tags with the modeled exceptions and creates nothing', async () => {
    const refused: [string, CreateRepositoryCommandInput & { repositoryName: string }][] = [
      ['InvalidParameterException', { repositoryName: 'bad/1', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }],
      ['InvalidParameterException', { repositoryName: 'bad/2', imageTagMutability: 'MUTABLE_WITH_EXCLUSION' }],
      ['InvalidParameterException', { repositoryName: 'bad/3', imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] }],
      ['InvalidParameterException', { repositoryName: 'bad/4', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] }],
      [
        'InvalidParameterException',
        {
          repositoryName: 'bad/5',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: Array.from({ length: 6 }, (_, i) => ({ filterType: 'WILDCARD' as const, filter: `f${i}` })),
        },
      ],
      ['InvalidParameterException', { repositoryName: 'bad/6', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'a b' }] }],
      [
        'InvalidParameterException',
        {
          repositoryName: 'bad/7',
          imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          imageTagMutabilityExclusionFilters: [
            { filterType: 'WILDCARD', filter: 'x' },
            { filterType: 'WILDCARD', filter: 'x' },
          ],
        },
      ],
      ['InvalidParameterException', { repositoryName: 'bad/8', encryptionConfiguration: { encryptionType: 'AES256', kmsKey: 'alias/x' } }],
      ['InvalidTagParameterException', { repositoryName: 'bad/9', tags: [{ Key: 'aws:reserved', Value: 'x' }] }],
      ['InvalidTagParameterException', { repositoryName: 'bad/10', tags: [{ Key: 'k'.repeat(129), Value: 'x' }] }],
      ['InvalidTagParameterException', { repositoryName: 'bad/11', tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }],
      ['InvalidTagParameterException', { repositoryName: 'bad/12', tags: [{ Key: '', Value: 'x' }] }],
      ['InvalidTagParameterException', { repositoryName: 'bad/13', tags: [{ Key: 'semi;colon', Value: 'x' }] }],
      [
        'InvalidTagParameterException',
        {
          repositoryName: 'bad/14',
          tags: [
            { Key: 'twice', Value: '1' },
            { Key: 'twice', Value: '2' },
          ],
        },
      ],
      ['TooManyTagsException', { repositoryName: 'bad/15', tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }],
    ];
    for (const [expected, input] of refused) {
      assert.equal(await sdkErrorName(ecr.send(new CreateRepositoryCommand(input))), expected, input.repositoryName);
      await notCreated(input.repositoryName);
    }
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tags/fifty', tags: fifty }));
    assert.equal((await ecr.send(new ListTagsForResourceCommand({ resourceArn: ARN('tags/fifty') }))).tags?.length, 50);
  });

  test('the repositoryUri is what docker pushes to and pulls from; tag immutability holds on /v2/', async () => {
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'docker/app', imageTagMutability: 'IMMUTABLE' }));
    const path = v2Path(repository?.repositoryUri);
    assert.equal(path, `${ACCOUNT}/docker/app`);
    const digest = await v2.pushImage(path, 'v1');
    const pulled = await v2.request(`/v2/${path}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(pulled.status, 200);
    assert.equal(pulled.headers.get('docker-content-digest'), digest);
    await assert.rejects(v2.pushImage(path, 'v1'), /manifest push 400/);
  });

  test('a /v2/ push to a missing repository creates it with the default settings, and DescribeRepositories shows it', async () => {
    await notCreated('pushed/by-docker');
    await v2.pushImage(`${ACCOUNT}/pushed/by-docker`, 'latest');
    const repository = await describeOne('pushed/by-docker');
    assert.equal(repository.repositoryUri, `${host}/${ACCOUNT}/pushed/by-docker`);
    assert.equal(repository.imageTagMutability, 'MUTABLE');
    assert.deepEqual(repository.encryptionConfiguration, { encryptionType: 'AES256' });
    const { repositories } = await ecr.send(new DescribeRepositoriesCommand({}));
    assert.ok(repositories?.some((r) => r.repositoryName === 'pushed/by-docker'));
  });

  test('a repository a CREATE_ON_PUSH creation template made on push is described with the template\'s settings and tags', async () => {
    await ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'templated',
        appliedFor: ['CREATE_ON_PUSH'],
        imageTagMutability: 'IMMUTABLE',
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: KMS_KEY },
        resourceTags: [{ Key: 'made-by', Value: 'template' }],
      }),
    );
    await v2.pushImage(`${ACCOUNT}/templated/app`, 'v1');
    const repository = await describeOne('templated/app');
    assert.equal(repository.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(repository.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: KMS_KEY });
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: ARN('templated/app') }))).tags, [{ Key: 'made-by', Value: 'template' }]);
    await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'templated' }));
  });

  test('DescribeRepositories pages in name order with maxResults/nextToken and the SDK paginator; names and pages do not mix', async () => {
    for (let i = 0; i < 7; i += 1) await ecr.send(new CreateRepositoryCommand({ repositoryName: `paged/r${i}` }));
    const all: string[] = [];
    for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: 3 }, {})) {
      assert.ok((page.repositories?.length ?? 0) <= 3);
      all.push(...(page.repositories ?? []).map((r) => r.repositoryName as string));
    }
    assert.deepEqual(all, [...all].sort());
    assert.deepEqual(
      all.filter((name) => name.startsWith('paged/')),
      Array.from({ length: 7 }, (_, i) => `paged/r${i}`),
    );
    const unpaged = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories?.map((r) => r.repositoryName);
    assert.deepEqual(unpaged, all);

    const first = await ecr.send(new DescribeRepositoriesCommand({ maxResults: all.length - 1 }));
    assert.equal(first.repositories?.length, all.length - 1);
    assert.ok(first.nextToken);
    const last = await ecr.send(new DescribeRepositoriesCommand({ maxResults: all.length - 1, nextToken: first.nextToken }));
    assert.deepEqual(last.repositories?.map((r) => r.repositoryName), [all.at(-1)]);
    assert.equal(last.nextToken, undefined);
    assert.equal((await ecr.send(new DescribeRepositoriesCommand({ maxResults: all.length }))).nextToken, undefined);

    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['paged/r0'], maxResults: 2 }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['paged/r0'], nextToken: first.nextToken }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ nextToken: `${first.nextToken}x` }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ maxResults: 1001 }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [] }))), 'InvalidParameterException');

    const named = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['paged/r3', 'paged/r1', 'paged/r3'] }));
    assert.deepEqual(named.repositories?.map((r) => r.repositoryName), ['paged/r3', 'paged/r1']);
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['paged/r1', 'paged/none'] }))), 'RepositoryNotFoundException');
  });

  test('DeleteRepository: RepositoryNotEmptyException without force, the deleted repository with it; gone for /v2/ too', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'delete/empty' }));
    const deleted = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'delete/empty' }));
    assert.equal(deleted.repository?.repositoryName, 'delete/empty');
    assert.equal(deleted.repository.repositoryArn, ARN('delete/empty'));
    await notCreated('delete/empty');

    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'delete/full', imageTagMutability: 'IMMUTABLE' }));
    await v2.pushImage(`${ACCOUNT}/delete/full`, 'v1');
    assert.equal(await sdkErrorName(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'delete/full' }))), 'RepositoryNotEmptyException');
    assert.equal((await v2.request(`/v2/${ACCOUNT}/delete/full/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status, 200);
    const forced = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'delete/full', force: true }));
    assert.deepEqual(forced.repository, repository);
    assert.equal((await v2.request(`/v2/${ACCOUNT}/delete/full/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status, 404);
    assert.equal(await sdkErrorName(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'delete/full' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'Delete' }))), 'InvalidParameterException');
  });

  test('TagResource, UntagResource, ListTagsForResource by repository ARN: values replaced, 50 at most, reserved keys refused', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tagged/app', tags: [{ Key: 'team', Value: 'a' }] }));
    const resourceArn = ARN('tagged/app');
    const tags = async (): Promise<Tag[] | undefined> => (await ecr.send(new ListTagsForResourceCommand({ resourceArn }))).tags;
    await ecr.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'team', Value: 'b' }, { Key: 'env', Value: 'prod' }] }));
    assert.deepEqual(await tags(), [
      { Key: 'team', Value: 'b' },
      { Key: 'env', Value: 'prod' },
    ]);
    await ecr.send(new UntagResourceCommand({ resourceArn, tagKeys: ['team', 'not-there'] }));
    assert.deepEqual(await tags(), [{ Key: 'env', Value: 'prod' }]);

    const many = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await ecr.send(new TagResourceCommand({ resourceArn, tags: many }));
    assert.equal((await tags())?.length, 50);
    assert.equal(await sdkErrorName(ecr.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'one-too-many', Value: 'v' }] }))), 'TooManyTagsException');
    await ecr.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'k0', Value: 'replaced' }] }));
    assert.equal((await tags())?.length, 50);
    assert.equal(await sdkErrorName(ecr.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'aws:x', Value: 'v' }] }))), 'InvalidTagParameterException');
    assert.equal(await sdkErrorName(ecr.send(new UntagResourceCommand({ resourceArn, tagKeys: ['aws:x'] }))), 'InvalidTagParameterException');
    assert.equal(await sdkErrorName(ecr.send(new UntagResourceCommand({ resourceArn, tagKeys: [''] }))), 'InvalidTagParameterException');
    assert.equal((await tags())?.find((tag) => tag.Key === 'k0')?.Value, 'replaced');

    for (const bad of ['not-an-arn', `arn:aws:ecr:us-east-1:${ACCOUNT}:registry/x`, PUBLIC_ARN('tagged/app'), `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/Bad`]) {
      assert.equal(await sdkErrorName(ecr.send(new ListTagsForResourceCommand({ resourceArn: bad }))), 'InvalidParameterException', bad);
      assert.equal(await sdkErrorName(ecr.send(new TagResourceCommand({ resourceArn: bad, tags: [] }))), 'InvalidParameterException', bad);
    }
    assert.equal(await sdkErrorName(ecr.send(new ListTagsForResourceCommand({ resourceArn: ARN('tagged/none') }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new TagResourceCommand({ resourceArn: ARN('tagged/none'), tags: [{ Key: 'a', Value: 'b' }] }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new UntagResourceCommand({ resourceArn: ARN('tagged/none'), tagKeys: ['a'] }))), 'RepositoryNotFoundException');
  });

  test('PutImageTagMutability: echoed, shown by DescribeRepositories, enforced on the next /v2/ push', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'mutability/app' }));
    const path = `${ACCOUNT}/mutability/app`;
    await v2.pushImage(path, 'release-1');
    await v2.pushImage(path, 'latest');
    const put = await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'mutability/app',
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      }),
    );
    assert.deepEqual(
      { ...put, $metadata: undefined },
      {
        $metadata: undefined,
        registryId: ACCOUNT,
        repositoryName: 'mutability/app',
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      },
    );
    assert.deepEqual((await describeOne('mutability/app')).imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'release-*' }]);
    await v2.pushImage(path, 'latest');
    await assert.rejects(v2.pushImage(path, 'release-1'), /manifest push 400/);

    const back = await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'mutability/app', imageTagMutability: 'MUTABLE' }));
    assert.equal(back.imageTagMutabilityExclusionFilters, undefined);
    assert.equal((await describeOne('mutability/app')).imageTagMutabilityExclusionFilters, undefined);
    await v2.pushImage(path, 'release-1');

    assert.equal(await sdkErrorName(ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'mutability/app', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }))), 'InvalidParameterException');
    assert.equal((await describeOne('mutability/app')).imageTagMutability, 'MUTABLE');
    assert.equal(await sdkErrorName(ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'mutability/none', imageTagMutability: 'IMMUTABLE' }))), 'RepositoryNotFoundException');
  });

  test('PutImageScanningConfiguration and BatchGetRepositoryScanningConfiguration: scan on push, registry rules first, failures for missing repositories', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scan/push' }));
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scan/manual' }));
    const put = await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'scan/push', imageScanningConfiguration: { scanOnPush: true } }));
    assert.deepEqual(put.imageScanningConfiguration, { scanOnPush: true });
    assert.equal(put.registryId, ACCOUNT);
    assert.deepEqual((await describeOne('scan/push')).imageScanningConfiguration, { scanOnPush: true });
    assert.equal(
      await sdkErrorName(ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'scan/none', imageScanningConfiguration: { scanOnPush: true } }))),
      'RepositoryNotFoundException',
    );

    const batch = await ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['scan/push', 'scan/manual', 'scan/none'] }));
    assert.deepEqual(batch.scanningConfigurations, [
      { repositoryArn: ARN('scan/push'), repositoryName: 'scan/push', scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: [] },
      { repositoryArn: ARN('scan/manual'), repositoryName: 'scan/manual', scanOnPush: false, scanFrequency: 'MANUAL', appliedScanFilters: [] },
    ]);
    assert.deepEqual(batch.failures, [
      { repositoryName: 'scan/none', failureCode: 'REPOSITORY_NOT_FOUND', failureReason: `The repository with name 'scan/none' does not exist in the registry with id '${ACCOUNT}'` },
    ]);

    await ecr.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: 'ENHANCED',
        rules: [
          { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'scan/*', filterType: 'WILDCARD' }] },
          { scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*manual', filterType: 'WILDCARD' }, { filter: 'other', filterType: 'WILDCARD' }] },
        ],
      }),
    );
    const ruled = await ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['scan/manual', 'scan/push'] }));
    assert.deepEqual(ruled.scanningConfigurations, [
      { repositoryArn: ARN('scan/manual'), repositoryName: 'scan/manual', scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN', appliedScanFilters: [{ filter: '*manual', filterType: 'WILDCARD' }] },
      { repositoryArn: ARN('scan/push'), repositoryName: 'scan/push', scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: [{ filter: 'scan/*', filterType: 'WILDCARD' }] },
    ]);
    assert.deepEqual(ruled.failures, []);
    await ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [] }));

    const tooMany = Array.from({ length: 26 }, (_, i) => `scan/r${i}`);
    assert.equal(await sdkErrorName(ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: tooMany }))), 'InvalidParameterException');
  });

  test('an IAM user sees only the repositories it may describe; naming another is AccessDeniedException', async () => {
    const user = await createUserWithPolicy(berth.url, 'team-a-reader', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['ecr:DescribeRepositories', 'ecr:BatchGetRepositoryScanningConfiguration'], Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team-a/*` },
        { Effect: 'Allow', Action: 'ecr:ListTagsForResource', Resource: ARN('team-a/api') },
      ],
    });
    const restricted = ecrClients(berth.url, user);
    try {
      const seen: string[] = [];
      for await (const page of paginateDescribeRepositories({ client: restricted.ecr, pageSize: 1 }, {})) seen.push(...(page.repositories ?? []).map((r) => r.repositoryName as string));
      assert.deepEqual(seen, ['team-a/api', 'team-a/kms', 'team-a/web']);
      assert.equal((await restricted.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team-a/web'] }))).repositories?.length, 1);
      assert.equal(await sdkErrorName(restricted.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team-a/web', 'paged/r1'] }))), 'AccessDeniedException');
      assert.equal(await sdkErrorName(restricted.ecr.send(new BatchGetRepositoryScanningConfigurationCommand({ repositoryNames: ['scan/push'] }))), 'AccessDeniedException');
      assert.equal((await restricted.ecr.send(new ListTagsForResourceCommand({ resourceArn: ARN('team-a/api') }))).tags?.length, 2);
      assert.equal(await sdkErrorName(restricted.ecr.send(new ListTagsForResourceCommand({ resourceArn: ARN('tagged/app') }))), 'AccessDeniedException');
      assert.equal(await sdkErrorName(restricted.ecr.send(new CreateRepositoryCommand({ repositoryName: 'team-a/new' }))), 'AccessDeniedException');
      await notCreated('team-a/new');
    } finally {
      restricted.ecr.destroy();
      restricted.ecrPublic.destroy();
    }
  });

  test('ECR Public: CreateRepository with catalog data and tags, a public URI docker pulls from, DescribeRepositories of the public registry only', async () => {
    const logo = Buffer.from('\x89PNG\r\n\x1a\nnot really a png');
    const created = await ecrPublic.send(
      new CreatePublicRepositoryCommand({
        repositoryName: 'tools/cli',
        catalogData: { description: 'The CLI', architectures: ['x86-64', 'ARM 64'], operatingSystems: ['Linux'], logoImageBlob: logo, aboutText: '# About', usageText: '`docker run`' },
        tags: [{ Key: 'team', Value: 'tools' }],
      }),
    );
    assert.deepEqual({ ...created.repository, createdAt: undefined }, {
      repositoryArn: PUBLIC_ARN('tools/cli'),
      registryId: ACCOUNT,
      repositoryName: 'tools/cli',
      repositoryUri: `${host}/public/${ALIAS}/tools/cli`,
      createdAt: undefined,
    });
    assert.ok(created.repository?.createdAt instanceof Date);
    assert.deepEqual(created.catalogData, {
      description: 'The CLI',
      architectures: ['x86-64', 'ARM 64'],
      operatingSystems: ['Linux'],
      logoUrl: `${berth.url}/public-repository-logos/${ACCOUNT}/tools/cli`,
      aboutText: '# About',
      usageText: '`docker run`',
      marketplaceCertified: false,
    });
    assert.equal(await sdkErrorName(ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'tools/cli' }))), 'RepositoryAlreadyExistsException');
    assert.equal(await sdkErrorName(ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'tools/bad', tags: [{ Key: 'aws:x', Value: 'y' }] }))), 'InvalidTagParameterException');
    assert.equal(
      await sdkErrorName(ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'tools/bad', tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}` })) }))),
      'TooManyTagsException',
    );
    assert.equal(await sdkErrorName(ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'tools/bad', catalogData: { description: 'd'.repeat(1025) } }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'a'.repeat(206) }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecrPublic.send(new DescribePublicRepositoriesCommand({ repositoryNames: ['tools/bad'] }))), 'RepositoryNotFoundException');

    const path = v2Path(created.repository?.repositoryUri);
    const digest = await v2.pushImage(path, '1.0');
    const pulled = await v2.request(`/v2/${path}/manifests/1.0`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(pulled.headers.get('docker-content-digest'), digest);

    await ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'tools/other' }));
    const described = await ecrPublic.send(new DescribePublicRepositoriesCommand({}));
    assert.deepEqual(described.repositories?.map((r) => r.repositoryName), ['tools/cli', 'tools/other']);
    assert.deepEqual(described.repositories?.[0], created.repository);
    const paged = await ecrPublic.send(new DescribePublicRepositoriesCommand({ maxResults: 1 }));
    assert.equal(paged.repositories?.length, 1);
    assert.equal((await ecrPublic.send(new DescribePublicRepositoriesCommand({ maxResults: 1, nextToken: paged.nextToken }))).repositories?.[0]?.repositoryName, 'tools/other');
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ nextToken: paged.nextToken }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['tools/cli'] }))), 'RepositoryNotFoundException');
    assert.ok(!(await ecr.send(new DescribeRepositoriesCommand({}))).repositories?.some((r) => r.repositoryName?.startsWith('tools/')));
  });

  test('ECR Public catalog data: empty until put, replaced whole by PutRepositoryCatalogData; RepositoryNotFoundException', async () => {
    await ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'catalog/app' }));
    assert.deepEqual((await ecrPublic.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'catalog/app' }))).catalogData, { marketplaceCertified: false });
    const put = await ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'catalog/app', catalogData: { description: 'first', logoImageBlob: Buffer.from('logo') } }));
    assert.deepEqual(put.catalogData, { description: 'first', logoUrl: `${berth.url}/public-repository-logos/${ACCOUNT}/catalog/app`, marketplaceCertified: false });
    await ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'catalog/app', catalogData: { usageText: 'second' } }));
    assert.deepEqual((await ecrPublic.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'catalog/app' }))).catalogData, { usageText: 'second', marketplaceCertified: false });
    assert.equal(await sdkErrorName(ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'catalog/app', catalogData: { architectures: [''] } }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecrPublic.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'catalog/none' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'catalog/none', catalogData: {} }))), 'RepositoryNotFoundException');
  });

  test('ECR Public tags by ECR Public ARN, and DeleteRepository with and without force', async () => {
    const resourceArn = PUBLIC_ARN('tools/cli');
    await ecrPublic.send(new TagPublicResourceCommand({ resourceArn, tags: [{ Key: 'env', Value: 'prod' }, { Key: 'no-value' }] }));
    assert.deepEqual((await ecrPublic.send(new ListPublicTagsCommand({ resourceArn }))).tags, [
      { Key: 'team', Value: 'tools' },
      { Key: 'env', Value: 'prod' },
      { Key: 'no-value', Value: '' },
    ]);
    await ecrPublic.send(new UntagPublicResourceCommand({ resourceArn, tagKeys: ['team', 'no-value'] }));
    assert.deepEqual((await ecrPublic.send(new ListPublicTagsCommand({ resourceArn }))).tags, [{ Key: 'env', Value: 'prod' }]);
    assert.equal(await sdkErrorName(ecrPublic.send(new TagPublicResourceCommand({ resourceArn, tags: [{ Value: 'no key' }] }))), 'InvalidTagParameterException');
    assert.equal(await sdkErrorName(ecrPublic.send(new ListPublicTagsCommand({ resourceArn: ARN('tools/cli') }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecrPublic.send(new ListPublicTagsCommand({ resourceArn: PUBLIC_ARN('tools/none') }))), 'RepositoryNotFoundException');

    assert.equal(await sdkErrorName(ecrPublic.send(new DeletePublicRepositoryCommand({ repositoryName: 'tools/cli' }))), 'RepositoryNotEmptyException');
    const deleted = await ecrPublic.send(new DeletePublicRepositoryCommand({ repositoryName: 'tools/cli', force: true }));
    assert.equal(deleted.repository?.repositoryUri, `${host}/public/${ALIAS}/tools/cli`);
    assert.equal((await v2.request(`/v2/public/${ALIAS}/tools/cli/manifests/1.0`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status, 404);
    assert.equal(await sdkErrorName(ecrPublic.send(new DeletePublicRepositoryCommand({ repositoryName: 'tools/cli' }))), 'RepositoryNotFoundException');
    assert.equal((await ecrPublic.send(new DeletePublicRepositoryCommand({ repositoryName: 'tools/other' }))).repository?.repositoryName, 'tools/other');
  });
});

/** Creates an IAM user with one inline policy and an access key, over IAM's Query API signed as the root user. */
async function createUserWithPolicy(url: string, userName: string, policy: object): Promise<Credentials> {
  const iam = async (params: Record<string, string>): Promise<string> => {
    const endpoint = new URL(url);
    const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
    const signer = new SignatureV4({ credentials: ROOT, region: 'us-east-1', service: 'iam', sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
    const request = new HttpRequest({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: Number(endpoint.port),
      path: '/',
      headers: { host: endpoint.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const signed = await signer.sign(request);
    const response = await fetch(`${url}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return text;
  };
  await iam({ Action: 'CreateUser', UserName: userName });
  await iam({ Action: 'PutUserPolicy', UserName: userName, PolicyName: 'repositories', PolicyDocument: JSON.stringify(policy) });
  const created = await iam({ Action: 'CreateAccessKey', UserName: userName });
  const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(created)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(created)?.[1];
  assert.ok(accessKeyId && secretAccessKey, created);
  return { accessKeyId, secretAccessKey };
}
