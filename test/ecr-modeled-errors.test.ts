import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as ecrSdk from '@aws-sdk/client-ecr';
import {
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryPolicyCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImageScanFindingsCommand,
  DescribeImageSigningStatusCommand,
  DescribeRepositoriesCommand,
  GetLifecyclePolicyPreviewCommand,
  GetRepositoryPolicyCommand,
  InitiateLayerUploadCommand,
  InvalidTagParameterException,
  LimitExceededException,
  ListTagsForResourceCommand,
  PutImageCommand,
  RegistryPolicyNotFoundException,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  RepositoryPolicyNotFoundException,
  ServerException,
  StartImageScanCommand,
  TooManyTagsException,
  UnsupportedImageTypeException,
  UploadLayerPartCommand,
  UploadNotFoundException,
} from '@aws-sdk/client-ecr';
import * as ecrPublicSdk from '@aws-sdk/client-ecr-public';
import {
  BatchCheckLayerAvailabilityCommand as PublicBatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand as PublicBatchDeleteImageCommand,
  CompleteLayerUploadCommand as PublicCompleteLayerUploadCommand,
  CreateRepositoryCommand as PublicCreateRepositoryCommand,
  DeleteRepositoryPolicyCommand as PublicDeleteRepositoryPolicyCommand,
  DescribeImagesCommand as PublicDescribeImagesCommand,
  DescribeImageTagsCommand as PublicDescribeImageTagsCommand,
  DescribeRepositoriesCommand as PublicDescribeRepositoriesCommand,
  EmptyUploadException as PublicEmptyUploadException,
  GetRepositoryPolicyCommand as PublicGetRepositoryPolicyCommand,
  ImageDigestDoesNotMatchException as PublicImageDigestDoesNotMatchException,
  ImageNotFoundException as PublicImageNotFoundException,
  InitiateLayerUploadCommand as PublicInitiateLayerUploadCommand,
  InvalidLayerException as PublicInvalidLayerException,
  InvalidLayerPartException as PublicInvalidLayerPartException,
  InvalidTagParameterException as PublicInvalidTagParameterException,
  LayerAlreadyExistsException as PublicLayerAlreadyExistsException,
  LayersNotFoundException as PublicLayersNotFoundException,
  LimitExceededException as PublicLimitExceededException,
  ListTagsForResourceCommand as PublicListTagsForResourceCommand,
  PutImageCommand as PublicPutImageCommand,
  ReferencedImagesNotFoundException as PublicReferencedImagesNotFoundException,
  RegistryNotFoundException as PublicRegistryNotFoundException,
  RepositoryNotFoundException as PublicRepositoryNotFoundException,
  RepositoryPolicyNotFoundException as PublicRepositoryPolicyNotFoundException,
  SetRepositoryPolicyCommand as PublicSetRepositoryPolicyCommand,
  TagResourceCommand as PublicTagResourceCommand,
  TooManyTagsException as PublicTooManyTagsException,
  UntagResourceCommand as PublicUntagResourceCommand,
  UploadLayerPartCommand as PublicUploadLayerPartCommand,
  UploadNotFoundException as PublicUploadNotFoundException,
} from '@aws-sdk/client-ecr-public';
import type { Shape, StructureShape } from '../src/aws/model-types.js';
import { MODELS, type AwsService } from '../src/aws/operations.js';
import { validateInput } from '../src/aws/validate.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { OCI_MANIFEST, sha256, TestClient } from './lib/client.js';
import { ecrClients } from './lib/ecr-sdk.js';

const ROOT = { accessKeyId: 'AKIAMODELEDERRORS001', secretAccessKey: 'modeled/errors/root/secret/key/for/tests0' };
const ACCOUNT = '000000000000';
const ALIAS = 'modeled-errors';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LAYER_PART_SIZE = 10 * 1024 * 1024;
const POLICY_TEXT = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr-public:DescribeImages' }] });

/** An SDK exception class: what `instanceof` checks the parsed error against. */
type ExceptionClass = abstract new (...args: never[]) => Error;

/** Awaits a call that must fail with `exception`, the modeled exception class of the SDK that made it. */
async function rejectsWith(call: Promise<unknown>, exception: ExceptionClass): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof exception, `expected ${exception.name}, got ${String(err)}`);
    return true;
  });
}

/**
 * An input the operation's model refuses: its required members left out, or
 * else one member given a value that breaks the member's constraint.
 * Undefined when the input has no member to get wrong.
 */
function modelInvalidInput(service: AwsService, operation: string): Record<string, unknown> | undefined {
  const { shapes } = MODELS[service];
  const input = shapes[MODELS[service].operations[operation]?.input ?? ''] as StructureShape;
  if ((input.required ?? []).length > 0) return {};
  for (const [member, shapeName] of Object.entries(input.members)) {
    const invalid = constraintBreakingValue(shapes[shapeName] as Shape);
    if (invalid !== undefined) return { [member]: invalid };
  }
  return undefined;
}

function constraintBreakingValue(shape: Shape): unknown {
  switch (shape.type) {
    case 'string':
      return shape.enum !== undefined || shape.pattern !== undefined ? '!not valid!' : shape.max !== undefined ? 'x'.repeat(shape.max + 1) : undefined;
    case 'integer':
    case 'long':
      return shape.min !== undefined ? shape.min - 1 : undefined;
    case 'list':
      return shape.min !== undefined && shape.min > 0 ? [] : undefined;
    default:
      return undefined;
  }
}

/** Each modeled exception Berth raises, through `@aws-sdk/client-ecr` and `@aws-sdk/client-ecr-public`, for the cases no other test drives (docs/api-coverage.md). */
describe('modeled exceptions through the AWS SDKs', () => {
  let berth: TestBerth;
  let clients: ReturnType<typeof ecrClients>;
  let ecr: ecrSdk.ECRClient;
  let ecrPublic: ecrPublicSdk.ECRPUBLICClient;
  let v2: TestClient;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, publicAlias: ALIAS });
    clients = ecrClients(berth.url, ROOT);
    ({ ecr, ecrPublic } = clients);
    v2 = new TestClient(berth.url);
  });

  after(async () => {
    clients?.ecr.destroy();
    clients?.ecrPublic.destroy();
    await berth?.stop();
  });

  /** What a refused call must not have changed: the repositories of both registries and the registry settings. */
  const registryState = async (): Promise<unknown> => {
    const [repositories, publicRepositories, registry, scanning, rules, templates, exclusions] = await Promise.all([
      ecr.send(new DescribeRepositoriesCommand({})),
      ecrPublic.send(new PublicDescribeRepositoriesCommand({})),
      ecr.send(new ecrSdk.DescribeRegistryCommand({})),
      ecr.send(new ecrSdk.GetRegistryScanningConfigurationCommand({})),
      ecr.send(new ecrSdk.DescribePullThroughCacheRulesCommand({})),
      ecr.send(new ecrSdk.DescribeRepositoryCreationTemplatesCommand({})),
      ecr.send(new ecrSdk.ListPullTimeUpdateExclusionsCommand({})),
    ]);
    return [repositories.repositories, publicRepositories.repositories, registry.replicationConfiguration, scanning.scanningConfiguration, rules.pullThroughCacheRules, templates.repositoryCreationTemplates, exclusions.pullTimeUpdateExclusions];
  };

  test('a request its model refuses: InvalidParameterException from every operation that models it and has a member to get wrong', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'invalid/existing' }));
    const before = await registryState();
    const sdks: Record<AwsService, { client: { send(command: never): Promise<unknown> }; commands: Record<string, unknown>; exception: ExceptionClass }> = {
      ecr: { client: ecr, commands: ecrSdk, exception: ecrSdk.InvalidParameterException },
      'ecr-public': { client: ecrPublic, commands: ecrPublicSdk, exception: ecrPublicSdk.InvalidParameterException },
    };
    let driven = 0;
    for (const service of Object.keys(sdks) as AwsService[]) {
      const { client, commands, exception } = sdks[service];
      for (const [operation, { errors }] of Object.entries(MODELS[service].operations)) {
        if (!errors.includes('InvalidParameterException')) continue;
        const input = modelInvalidInput(service, operation);
        if (input === undefined) continue;
        assert.equal(validateInput(MODELS[service], operation, input).ok, false, `${service} ${operation}: ${JSON.stringify(input)} is refused by the model`);
        const Command = commands[`${operation}Command`] as new (input: Record<string, unknown>) => never;
        await rejectsWith(client.send(new Command(input)), exception);
        driven++;
      }
    }
    // Of the 57 + 22 operations that model it, all but the six whose input has no members: ECR's DescribeRegistry,
    // Get/DeleteRegistryPolicy, GetRegistryScanningConfiguration and GetSigningConfiguration, ECR Public's GetAuthorizationToken.
    assert.equal(driven, 57 + 22 - 6);
    assert.deepEqual(await registryState(), before);
  });

  test('RepositoryNotFoundException from the repository operations other tests drive only with a repository that exists', async () => {
    const repositoryName = 'absent/app';
    const imageId = { imageTag: 'v1' };
    const uploadId = '9a2f0c4e-0b7d-4bb3-9f0e-3a9f4ad3d2c1';
    const layerDigest = sha256('absent');
    const part = { repositoryName, uploadId, partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.from('x') };
    await rejectsWith(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [layerDigest] })), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new UploadLayerPartCommand(part)), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new GetRepositoryPolicyCommand({ repositoryName })), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName })), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new DescribeImageScanFindingsCommand({ repositoryName, imageId })), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new DescribeImageReplicationStatusCommand({ repositoryName, imageId })), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new DescribeImageSigningStatusCommand({ repositoryName, imageId })), RepositoryNotFoundException);
    await rejectsWith(ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName })), RepositoryNotFoundException);

    const resourceArn = `arn:aws:ecr-public::${ACCOUNT}:repository/${repositoryName}`;
    await rejectsWith(ecrPublic.send(new PublicBatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [layerDigest] })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [layerDigest] })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicUploadLayerPartCommand(part)), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicGetRepositoryPolicyCommand({ repositoryName })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicSetRepositoryPolicyCommand({ repositoryName, policyText: POLICY_TEXT })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicDeleteRepositoryPolicyCommand({ repositoryName })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicDescribeImageTagsCommand({ repositoryName })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicTagResourceCommand({ resourceArn, tags: [{ Key: 'team', Value: 'a' }] })), PublicRepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicUntagResourceCommand({ resourceArn, tagKeys: ['team'] })), PublicRepositoryNotFoundException);

    // Neither a policy nor a tag brought the repository into being.
    await rejectsWith(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] })), RepositoryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicDescribeRepositoriesCommand({ repositoryNames: [repositoryName] })), PublicRepositoryNotFoundException);
  });

  test('ECR and ECR Public layer uploads: UploadNotFoundException, EmptyUploadException, InvalidLayerPartException, LimitExceededException, InvalidLayerException, LayerAlreadyExistsException; a refused upload makes no layer', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'layers/private' }));
    const unknownUpload = '5c3e1a47-64a3-4f5e-8d0b-1f2e3d4c5b6a';
    const layerDigest = sha256('never uploaded');
    await rejectsWith(ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'layers/private', uploadId: unknownUpload, layerDigests: [layerDigest] })), UploadNotFoundException);
    await rejectsWith(
      ecr.send(new UploadLayerPartCommand({ repositoryName: 'layers/private', uploadId: unknownUpload, partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.from('x') })),
      UploadNotFoundException,
    );
    const privateUpload = (await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'layers/private' }))).uploadId as string;
    await rejectsWith(
      ecr.send(new UploadLayerPartCommand({ repositoryName: 'layers/private', uploadId: privateUpload, partFirstByte: 0, partLastByte: LAYER_PART_SIZE, layerPartBlob: Buffer.alloc(LAYER_PART_SIZE + 1) })),
      LimitExceededException,
    );
    // A refused part leaves the upload as it was: the first part still fits.
    await ecr.send(new UploadLayerPartCommand({ repositoryName: 'layers/private', uploadId: privateUpload, partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.from('x') }));

    const repositoryName = 'layers/public';
    await ecrPublic.send(new PublicCreateRepositoryCommand({ repositoryName }));
    const layer = randomBytes(64);
    const digest = sha256(layer);
    const available = async (): Promise<boolean> =>
      ((await ecrPublic.send(new PublicBatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [digest] }))).layers ?? []).some((l) => l.layerDigest === digest);
    const initiate = async (): Promise<string> => (await ecrPublic.send(new PublicInitiateLayerUploadCommand({ repositoryName }))).uploadId as string;
    const uploadPart = (uploadId: string, first: number, bytes: Uint8Array) =>
      ecrPublic.send(new PublicUploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: first, partLastByte: first + bytes.length - 1, layerPartBlob: bytes }));

    await rejectsWith(ecrPublic.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId: unknownUpload, layerDigests: [digest] })), PublicUploadNotFoundException);
    await rejectsWith(
      ecrPublic.send(new PublicUploadLayerPartCommand({ repositoryName, uploadId: unknownUpload, partFirstByte: 0, partLastByte: layer.length - 1, layerPartBlob: layer })),
      PublicUploadNotFoundException,
    );

    const uploadId = await initiate();
    await rejectsWith(ecrPublic.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [digest] })), PublicEmptyUploadException);
    await rejectsWith(ecrPublic.send(new PublicUploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 1, partLastByte: layer.length, layerPartBlob: layer })), PublicInvalidLayerPartException);
    await rejectsWith(ecrPublic.send(new PublicUploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: LAYER_PART_SIZE, layerPartBlob: Buffer.alloc(LAYER_PART_SIZE + 1) })), PublicLimitExceededException);
    await uploadPart(uploadId, 0, layer);
    await rejectsWith(ecrPublic.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256('other bytes')] })), PublicInvalidLayerException);
    assert.equal(await available(), false);

    const completed = await initiate();
    await uploadPart(completed, 0, layer);
    await ecrPublic.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId: completed, layerDigests: [digest] }));
    assert.equal(await available(), true);
    const again = await initiate();
    await uploadPart(again, 0, layer);
    await rejectsWith(ecrPublic.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId: again, layerDigests: [digest] })), PublicLayerAlreadyExistsException);
    await rejectsWith(uploadPart(again, layer.length, layer), PublicUploadNotFoundException);
  });

  test('ECR Public PutImage: LayersNotFoundException, ReferencedImagesNotFoundException, ImageDigestDoesNotMatchException; DescribeImages: ImageNotFoundException; no image is stored', async () => {
    const repositoryName = 'images/public';
    await ecrPublic.send(new PublicCreateRepositoryCommand({ repositoryName }));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('absent config'), size: 14 },
      layers: [],
    });
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length }] });
    await rejectsWith(ecrPublic.send(new PublicPutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' })), PublicLayersNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicPutImageCommand({ repositoryName, imageManifest: index, imageTag: 'v1' })), PublicReferencedImagesNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicPutImageCommand({ repositoryName, imageManifest: manifest, imageDigest: sha256('another manifest') })), PublicImageDigestDoesNotMatchException);
    await rejectsWith(ecrPublic.send(new PublicDescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] })), PublicImageNotFoundException);
    assert.deepEqual((await ecrPublic.send(new PublicDescribeImagesCommand({ repositoryName }))).imageDetails, []);
  });

  test('policies: RepositoryPolicyNotFoundException from DeleteRepositoryPolicy (ECR and ECR Public), RegistryPolicyNotFoundException from DeleteRegistryPolicy', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'policy/none' }));
    await ecrPublic.send(new PublicCreateRepositoryCommand({ repositoryName: 'policy/none' }));
    await rejectsWith(ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'policy/none' })), RepositoryPolicyNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicDeleteRepositoryPolicyCommand({ repositoryName: 'policy/none' })), PublicRepositoryPolicyNotFoundException);
    await rejectsWith(ecr.send(new DeleteRegistryPolicyCommand({})), RegistryPolicyNotFoundException);
    await rejectsWith(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'policy/none' })), RepositoryPolicyNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicGetRepositoryPolicyCommand({ repositoryName: 'policy/none' })), PublicRepositoryPolicyNotFoundException);
  });

  test('repository tags: CreateRepository RepositoryAlreadyExistsException, InvalidTagParameterException, TooManyTagsException (ECR); TagResource TooManyTagsException, UntagResource InvalidTagParameterException (ECR Public); the tags stay as they were', async () => {
    const tags = [{ Key: 'team', Value: 'a' }];
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tags/private', tags }));
    await rejectsWith(ecr.send(new CreateRepositoryCommand({ repositoryName: 'tags/private' })), RepositoryAlreadyExistsException);
    await rejectsWith(ecr.send(new CreateRepositoryCommand({ repositoryName: 'tags/reserved', tags: [{ Key: 'aws:reserved', Value: 'x' }] })), InvalidTagParameterException);
    const fiftyOne = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await rejectsWith(ecr.send(new CreateRepositoryCommand({ repositoryName: 'tags/many', tags: fiftyOne })), TooManyTagsException);
    const privateArn = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/tags/private`;
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: privateArn }))).tags, tags);
    await rejectsWith(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['tags/reserved', 'tags/many'] })), RepositoryNotFoundException);

    await ecrPublic.send(new PublicCreateRepositoryCommand({ repositoryName: 'tags/public', tags }));
    const resourceArn = `arn:aws:ecr-public::${ACCOUNT}:repository/tags/public`;
    await rejectsWith(ecrPublic.send(new PublicTagResourceCommand({ resourceArn, tags: fiftyOne })), PublicTooManyTagsException);
    await rejectsWith(ecrPublic.send(new PublicUntagResourceCommand({ resourceArn, tagKeys: ['aws:reserved'] })), PublicInvalidTagParameterException);
    assert.deepEqual((await ecrPublic.send(new PublicListTagsForResourceCommand({ resourceArn }))).tags, tags);
  });

  test('ECR Public: RegistryNotFoundException for an alias no registry has, from the image and layer operations that model it', async () => {
    const repositoryName = 'alias/app';
    await ecrPublic.send(new PublicCreateRepositoryCommand({ repositoryName }));
    const registryId = 'no-such-alias';
    const uploadId = '0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70';
    const layerDigest = sha256('layer');
    await rejectsWith(ecrPublic.send(new PublicBatchCheckLayerAvailabilityCommand({ registryId, repositoryName, layerDigests: [layerDigest] })), PublicRegistryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicInitiateLayerUploadCommand({ registryId, repositoryName })), PublicRegistryNotFoundException);
    await rejectsWith(
      ecrPublic.send(new PublicUploadLayerPartCommand({ registryId, repositoryName, uploadId, partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.from('x') })),
      PublicRegistryNotFoundException,
    );
    await rejectsWith(ecrPublic.send(new PublicCompleteLayerUploadCommand({ registryId, repositoryName, uploadId, layerDigests: [layerDigest] })), PublicRegistryNotFoundException);
    await rejectsWith(ecrPublic.send(new PublicPutImageCommand({ registryId, repositoryName, imageManifest: '{}', imageTag: 'v1' })), PublicRegistryNotFoundException);
    // BatchDeleteImage also takes an alias, but its model has no RegistryNotFoundException.
    await rejectsWith(ecrPublic.send(new PublicBatchDeleteImageCommand({ registryId, repositoryName, imageIds: [{ imageTag: 'v1' }] })), PublicRepositoryNotFoundException);
    assert.deepEqual((await ecrPublic.send(new PublicBatchDeleteImageCommand({ registryId: ALIAS, repositoryName, imageIds: [{ imageTag: 'v1' }] }))).failures?.[0]?.failureCode, 'ImageNotFound');
  });

  test('StartImageScan on an image index: UnsupportedImageTypeException (a scan reads an image\'s layers); the images it lists are scanned as before', async () => {
    const repositoryName = 'scan/multi';
    const child = await v2.pushImage(repositoryName, 'amd64');
    const childManifest = await v2.request(`/v2/${repositoryName}/manifests/${child}`);
    const childSize = (await childManifest.arrayBuffer()).byteLength;
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child, size: childSize, platform: { architecture: 'amd64', os: 'linux' } }] });
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: index, imageManifestMediaType: OCI_INDEX, imageTag: 'multi' }));
    await rejectsWith(ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageTag: 'multi' } })), UnsupportedImageTypeException);
    const scanned = await ecr.send(new StartImageScanCommand({ repositoryName, imageId: { imageDigest: child } }));
    assert.equal(scanned.imageScanStatus?.status, 'FAILED');
  });
  test('an unexpected failure inside Berth is ServerException (HTTP 500) that tells the client nothing of it, and creates nothing', async () => {
    const metadata = berth.registry.metadata;
    const createRepository = metadata.createRepository.bind(metadata);
    metadata.createRepository = () => Promise.reject(new Error('disk on fire at /var/lib/berth/secret-path'));
    try {
      await assert.rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'server/fault' })), (err) => {
        assert.ok(err instanceof ServerException, String(err));
        assert.equal(err.$metadata.httpStatusCode, 500);
        assert.doesNotMatch(err.message, /disk|secret-path/);
        return true;
      });
    } finally {
      metadata.createRepository = createRepository;
    }
    await rejectsWith(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['server/fault'] })), RepositoryNotFoundException);
  });
});
