import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImageReplicationStatusCommand,
  DescribeImageScanFindingsCommand,
  DescribeImageSigningStatusCommand,
  DescribeImagesCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  InvalidLayerPartException,
  LimitExceededException,
  ListImageReferrersCommand,
  ListImagesCommand,
  paginateDescribeImages,
  paginateListImages,
  PutImageCommand,
  StartImageScanCommand,
  UpdateImageStorageClassCommand,
  UploadLayerPartCommand,
  waitUntilImageScanComplete,
  type ECRClient,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import {
  BatchCheckLayerAvailabilityCommand as PublicBatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand as PublicBatchDeleteImageCommand,
  CompleteLayerUploadCommand as PublicCompleteLayerUploadCommand,
  DescribeImagesCommand as PublicDescribeImagesCommand,
  InitiateLayerUploadCommand as PublicInitiateLayerUploadCommand,
  paginateDescribeImages as paginatePublicDescribeImages,
  paginateDescribeImageTags,
  PutImageCommand as PublicPutImageCommand,
  UploadLayerPartCommand as PublicUploadLayerPartCommand,
} from '@aws-sdk/client-ecr-public';
import { LAYER_PART_SIZE } from '../src/http/ecr-api/layers.js';
import { PullRecorder } from '../src/registry/pull-recorder.js';
import { awsCliFor, isolatedAwsEnv } from './lib/aws-cli.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { OCI_MANIFEST, sha256, TestClient } from './lib/client.js';
import { ecrClients, sdkErrorName } from './lib/ecr-sdk.js';
import { requireClients } from './support/env.js';

const ROOT = { accessKeyId: 'AKIAECRIMAGESROOT001', secretAccessKey: 'ecr/images/root/secret/key/for/tests/0000' };
const ACCOUNT = '000000000000';
const ALIAS = 'image-tests';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface Blob {
  digest: string;
  size: number;
}

function imageManifest(config: Blob, layers: readonly Blob[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: CONFIG_TYPE, ...config },
    layers: layers.map((l) => ({ mediaType: LAYER_TYPE, ...l })),
    ...extra,
  });
}

describe('PullRecorder', () => {
  test('queues a (repository, digest) at most once per interval and writes batches on flush and close', async () => {
    const written: { repositoryId: number; digest: string; at: number }[][] = [];
    const recorder = new PullRecorder({ recordPulls: async (pulls) => void written.push([...pulls]) }, { minIntervalMs: 60_000 });
    recorder.record(1, 'sha256:a', 1_000_000);
    recorder.record(1, 'sha256:a', 1_030_000);
    recorder.record(2, 'sha256:a', 1_030_000);
    await recorder.flush();
    assert.deepEqual(written, [
      [
        { repositoryId: 1, digest: 'sha256:a', at: 1_000_000 },
        { repositoryId: 2, digest: 'sha256:a', at: 1_030_000 },
      ],
    ]);
    await recorder.flush();
    assert.equal(written.length, 1, 'nothing new, nothing written');
    recorder.record(1, 'sha256:a', 1_060_000);
    await recorder.close();
    assert.deepEqual(written[1], [{ repositoryId: 1, digest: 'sha256:a', at: 1_060_000 }]);
  });

  test('a failed write is reported, not thrown', async () => {
    const errors: unknown[] = [];
    const recorder = new PullRecorder({ recordPulls: () => Promise.reject(new Error('database down')) }, { onError: (err) => errors.push(err) });
    recorder.record(1, 'sha256:b');
    await recorder.close();
    assert.equal(errors.length, 1);
  });
});

describe('ECR image and layer operations through the AWS SDK', () => {
  let berth: TestBerth;
  let clients: ReturnType<typeof ecrClients>;
  let ecr: ECRClient;
  let v2: TestClient;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, publicAlias: ALIAS });
    clients = ecrClients(berth.url, ROOT);
    ecr = clients.ecr;
    v2 = new TestClient(berth.url);
  });
  after(async () => {
    clients?.ecr.destroy();
    clients?.ecrPublic.destroy();
    await berth?.stop();
  });

  /** Creates an empty repository (as the first /v2/ upload does). */
  const emptyRepository = async (name: string): Promise<void> => {
    assert.equal((await berth.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' })).status, 202);
  };

  /** Uploads a layer through the layer API, in parts of `partSize`. */
  const uploadLayer = async (repositoryName: string, bytes: Buffer, partSize = LAYER_PART_SIZE): Promise<Blob> => {
    const { uploadId, partSize: announced } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    assert.equal(announced, LAYER_PART_SIZE);
    for (let first = 0; first < bytes.length; first += partSize) {
      const part = bytes.subarray(first, first + partSize);
      const { lastByteReceived } = await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: first, partLastByte: first + part.length - 1, layerPartBlob: part }));
      assert.equal(lastByteReceived, first + part.length - 1);
    }
    const digest = sha256(bytes);
    const { layerDigest } = await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [digest] }));
    assert.equal(layerDigest, digest);
    return { digest, size: bytes.length };
  };

  test('a layer uploaded through the API in parts is pulled through /v2/, and an image put with PutImage is served by /v2/', async () => {
    await emptyRepository('api/pushed');
    const layerBytes = randomBytes(LAYER_PART_SIZE + 1000);
    const layer = await uploadLayer('api/pushed', layerBytes);
    const config = await uploadLayer('api/pushed', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' })));
    const blobResponse = await berth.request(`/v2/api/pushed/blobs/${layer.digest}`);
    assert.equal(blobResponse.status, 200);
    assert.deepEqual(Buffer.from(await blobResponse.arrayBuffer()), layerBytes);

    const manifest = imageManifest(config, [layer]);
    const { image } = await ecr.send(new PutImageCommand({ repositoryName: 'api/pushed', imageManifest: manifest, imageTag: 'v1' }));
    assert.deepEqual(image?.imageId, { imageDigest: sha256(manifest), imageTag: 'v1' });
    assert.equal(image?.registryId, ACCOUNT);
    assert.equal(image?.imageManifestMediaType, OCI_MANIFEST);
    const pulled = await berth.request('/v2/api/pushed/manifests/v1');
    assert.equal(pulled.status, 200);
    assert.equal(await pulled.text(), manifest);

    // The same manifest under a new tag is fine; under the same tag it is "already pushed".
    await ecr.send(new PutImageCommand({ repositoryName: 'api/pushed', imageManifest: manifest, imageTag: 'v2' }));
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/pushed', imageManifest: manifest, imageTag: 'v1' }))), 'ImageAlreadyExistsException');
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/pushed', imageManifest: manifest }))), 'ImageAlreadyExistsException');
    // By digest: the digest must be the manifest's.
    const untagged = imageManifest(config, [layer], { annotations: { note: 'untagged' } });
    assert.equal(
      await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/pushed', imageManifest: untagged, imageDigest: `sha256:${'0'.repeat(64)}` }))),
      'ImageDigestDoesNotMatchException',
    );
    const { image: byDigest } = await ecr.send(new PutImageCommand({ repositoryName: 'api/pushed', imageManifest: untagged, imageDigest: sha256(untagged) }));
    assert.deepEqual(byDigest?.imageId, { imageDigest: sha256(untagged) });
  });

  test('PutImage: modeled exceptions, and nothing is stored by a refused put', async () => {
    await emptyRepository('api/put-errors');
    const config = await v2.pushBlob('api/put-errors', '{"os":"linux"}');
    const missing = { digest: sha256(randomBytes(16)), size: 16 };
    const manifest = imageManifest(config, [missing]);
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/none', imageManifest: manifest, imageTag: 'x' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/put-errors', imageManifest: manifest, imageTag: 'x' }))), 'LayersNotFoundException');
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length }] });
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/put-errors', imageManifest: index, imageTag: 'x' }))), 'ReferencedImagesNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/put-errors', imageManifest: '{"schemaVersion":1}', imageTag: 'x' }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/put-errors', imageManifest: imageManifest(config, []), imageTag: 'bad tag' }))), 'InvalidParameterException');
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: 'api/put-errors' }))).imageIds, []);
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/none-created', imageManifest: imageManifest(config, []), imageTag: 'x' }))), 'RepositoryNotFoundException');
    assert.equal((await berth.request('/v2/api/none-created/tags/list')).status, 404, 'PutImage does not create repositories');
  });

  test('PutImage on an immutable tag: ImageTagAlreadyExistsException', async () => {
    const first = await v2.pushImage('api/immutable', 'release');
    const repository = await berth.registry.metadata.getRepository(`${ACCOUNT}/api/immutable`);
    assert.ok(repository);
    await berth.registry.metadata.updateRepositorySettings(repository.id, { imageTagMutability: 'IMMUTABLE' });
    const config = await v2.pushBlob('api/immutable', '{"os":"linux","variant":"other"}');
    assert.equal(
      await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/immutable', imageManifest: imageManifest(config, []), imageTag: 'release' }))),
      'ImageTagAlreadyExistsException',
    );
    const { images } = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/immutable', imageIds: [{ imageTag: 'release' }] }));
    assert.equal(images?.[0]?.imageId?.imageDigest, first);
  });

  test('PutImage takes manifests up to ECR\'s 4 MiB, whose JSON request is larger than the 1 MiB of other operations; a larger one is InvalidParameterException', async () => {
    const config = await v2.pushBlob('api/large-manifest', '{"os":"linux"}');
    // Quotes in an annotation are escaped twice (in the manifest, then in the request): the body is near 8 MiB for a manifest under 4 MiB.
    const sized = (length: number): string => {
      const room = length - imageManifest(config, [], { annotations: { filler: '' } }).length;
      const manifest = imageManifest(config, [], { annotations: { filler: '"'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2) } });
      assert.equal(manifest.length, length);
      return manifest;
    };
    const large = sized(4 * 1024 * 1024 - 100);
    const { image } = await ecr.send(new PutImageCommand({ repositoryName: 'api/large-manifest', imageManifest: large, imageTag: 'large' }));
    assert.equal(image?.imageId?.imageDigest, sha256(Buffer.from(large)));
    assert.equal(await (await v2.request('/v2/api/large-manifest/manifests/large')).text(), large);
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/large-manifest', imageManifest: sized(4 * 1024 * 1024 + 1), imageTag: 'too-large' }))), 'InvalidParameterException');
    const { imageIds } = await ecr.send(new ListImagesCommand({ repositoryName: 'api/large-manifest' }));
    assert.deepEqual(imageIds?.map((id) => id.imageTag), ['large']);
  });

  test('PutImage: LimitExceededException beyond 1000 tags on one image', async () => {
    const digest = await v2.pushImage('api/many-tags', 't0');
    const manifest = await (await v2.request(`/v2/api/many-tags/manifests/${digest}`)).text();
    for (let i = 1; i < 1000; i++) await berth.registry.putManifest(`${ACCOUNT}/api/many-tags`, `t${i}`, Buffer.from(manifest), OCI_MANIFEST);
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/many-tags', imageManifest: manifest, imageTag: 'one-more' }))), 'LimitExceededException');
    assert.equal(await sdkErrorName(ecr.send(new PutImageCommand({ repositoryName: 'api/many-tags', imageManifest: manifest, imageTag: 't999' }))), 'ImageAlreadyExistsException');
  });

  test('the layer API: availability of /v2/ blobs, and its modeled exceptions', async () => {
    await emptyRepository('api/layers');
    const pushed = await v2.pushBlob('api/layers', randomBytes(300));
    const absent = sha256(randomBytes(8));
    const { layers, failures } = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'api/layers', layerDigests: [pushed.digest, absent, 'not-a-digest'] }));
    assert.deepEqual(layers, [{ layerDigest: pushed.digest, layerAvailability: 'AVAILABLE', layerSize: 300 }]);
    assert.deepEqual(failures, [
      { layerDigest: absent, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' },
      { layerDigest: 'not-a-digest', failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' },
    ]);
    assert.equal(await sdkErrorName(ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName: 'api/none', layerDigests: [absent] }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'api/none' }))), 'RepositoryNotFoundException');

    const part = (uploadId: string | undefined, first: number, bytes: Buffer) =>
      ecr.send(new UploadLayerPartCommand({ repositoryName: 'api/layers', uploadId, partFirstByte: first, partLastByte: first + bytes.length - 1, layerPartBlob: bytes }));
    assert.equal(await sdkErrorName(part(randomUUID(), 0, Buffer.from('x'))), 'UploadNotFoundException');
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'api/layers' }));
    assert.equal(await sdkErrorName(ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'api/layers', uploadId, layerDigests: [absent] }))), 'EmptyUploadException');
    await part(uploadId, 0, Buffer.from('hello '));
    // The exception's modeled members reach the SDK's exception object.
    await assert.rejects(part(uploadId, 10, Buffer.from('gap')), (err) => {
      assert.ok(err instanceof InvalidLayerPartException);
      assert.deepEqual(
        { registryId: err.registryId, repositoryName: err.repositoryName, uploadId: err.uploadId, lastValidByteReceived: err.lastValidByteReceived },
        { registryId: ACCOUNT, repositoryName: 'api/layers', uploadId, lastValidByteReceived: 5 },
      );
      return true;
    });
    assert.equal(
      await sdkErrorName(ecr.send(new UploadLayerPartCommand({ repositoryName: 'api/layers', uploadId, partFirstByte: 6, partLastByte: 20, layerPartBlob: Buffer.from('short') }))),
      'InvalidLayerPartException',
    );
    await part(uploadId, 6, Buffer.from('world'));
    assert.equal(await sdkErrorName(ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'api/layers', uploadId, layerDigests: [absent] }))), 'InvalidLayerException');
    assert.equal(await sdkErrorName(part(uploadId, 11, Buffer.from('!'))), 'UploadNotFoundException', 'a failed completion ends the upload');

    const { uploadId: again } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'api/layers' }));
    await assert.rejects(part(again, 3, Buffer.from('x')), (err) => {
      assert.ok(err instanceof InvalidLayerPartException);
      assert.equal(err.uploadId, again);
      assert.equal(err.lastValidByteReceived, undefined, 'nothing received yet: no valid byte to name');
      return true;
    });
    await ecr.send(new UploadLayerPartCommand({ repositoryName: 'api/layers', uploadId: again, partFirstByte: 0, partLastByte: 299, layerPartBlob: randomBytes(300) }));
    assert.equal(await sdkErrorName(ecr.send(new CompleteLayerUploadCommand({ repositoryName: 'api/layers', uploadId: again, layerDigests: [pushed.digest] }))), 'LayerAlreadyExistsException');
  });

  test('UploadLayerPart: parts up to the 10 MiB InitiateLayerUpload announces; a larger one is LimitExceededException and changes nothing', async () => {
    await emptyRepository('api/big-parts');
    const repositoryName = 'api/big-parts';
    const { uploadId, partSize } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    assert.equal(partSize, 10 * 1024 * 1024);
    const send = (first: number, bytes: Buffer) =>
      ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: first, partLastByte: first + bytes.length - 1, layerPartBlob: bytes }));
    const head = randomBytes(3 * 1024 * 1024);
    assert.equal((await send(0, head)).lastByteReceived, head.length - 1);

    const tooLarge = async (bytes: Buffer): Promise<void> => {
      await assert.rejects(send(head.length, bytes), (err) => {
        assert.ok(err instanceof LimitExceededException, String(err));
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.match(err.message, /a layer part may be at most 10485760 bytes/);
        return true;
      });
    };
    // One byte over the largest part: read whole, refused before anything is written.
    await tooLarge(randomBytes(partSize + 1));
    // Over the 20 MiB request limit: refused by its Content-Length, before it is read.
    await tooLarge(randomBytes(16 * 1024 * 1024));
    // Without a Content-Length, it is measured as it arrives; the rest is read and dropped, so the client gets the answer.
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    const chunked = await fetch(berth.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.UploadLayerPart', 'content-type': 'application/x-amz-json-1.1' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 24; i++) controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 400);
    assert.equal(((await chunked.json()) as { __type: string }).__type, 'LimitExceededException');

    const tail = randomBytes(partSize);
    assert.equal((await send(head.length, tail)).lastByteReceived, head.length + tail.length - 1, 'the refused parts left the upload where it was');
    const digest = sha256(Buffer.concat([head, tail]));
    assert.equal((await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [digest] }))).layerDigest, digest);
    const blob = await berth.request(`/v2/${repositoryName}/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), Buffer.concat([head, tail]));

    // Every other operation still reads at most 1 MiB.
    assert.equal(await sdkErrorName(ecr.send(new CreateRepositoryCommand({ repositoryName: 'a'.repeat(1024 * 1024) }))), 'SerializationException');
  });

  test('BatchGetImage reads /v2/-pushed images by tag and digest, with ECR\'s failure codes', async () => {
    const digest = await v2.pushImage('api/get', 'v1');
    await v2.request(`/v2/api/get/manifests/v1-alias`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: await (await v2.request('/v2/api/get/manifests/v1')).text() });
    const byTag = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/get', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(byTag.images?.length, 1);
    assert.deepEqual(byTag.images?.[0]?.imageId, { imageDigest: digest, imageTag: 'v1' });
    assert.equal(sha256(byTag.images?.[0]?.imageManifest ?? ''), digest);
    const byDigest = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/get', imageIds: [{ imageDigest: digest }] }));
    assert.deepEqual(byDigest.images?.map((i) => i.imageId?.imageTag).sort(), ['v1', 'v1-alias'], 'a digest stands for the image under each tag');
    const both = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/get', imageIds: [{ imageDigest: digest, imageTag: 'v1' }] }));
    assert.equal(both.images?.length, 1);

    const other = `sha256:${'a'.repeat(64)}`;
    const ids: ImageIdentifier[] = [{ imageTag: 'nope' }, { imageDigest: 'invalid_digest' }, { imageTag: 'v1', imageDigest: other }, {}, { imageTag: 'nope', imageDigest: other }];
    const { images, failures } = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/get', imageIds: ids }));
    assert.deepEqual(images, []);
    assert.deepEqual(failures, [
      { imageId: { imageTag: 'nope' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      { imageId: { imageDigest: 'invalid_digest' }, failureCode: 'InvalidImageDigest', failureReason: "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'" },
      { imageId: { imageTag: 'v1', imageDigest: other }, failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid request parameters: given tag does not map to the given digest' },
      { imageId: {}, failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' },
      { imageId: { imageTag: 'nope', imageDigest: other }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
    ]);
    const excluded = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/get', imageIds: [{ imageTag: 'v1' }], acceptedMediaTypes: ['application/vnd.docker.distribution.manifest.v2+json'] }));
    assert.equal(excluded.failures?.[0]?.failureCode, 'ImageNotFound');
    const accepted = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/get', imageIds: [{ imageTag: 'v1' }], acceptedMediaTypes: [OCI_MANIFEST] }));
    assert.equal(accepted.images?.length, 1);
    assert.equal(await sdkErrorName(ecr.send(new BatchGetImageCommand({ repositoryName: 'api/none', imageIds: [{ imageTag: 'v1' }] }))), 'RepositoryNotFoundException');
  });

  test('ListImages and DescribeImages: filters, sizes, pull times, pages and the SDK paginators', async () => {
    const tagged: string[] = [];
    for (let i = 0; i < 5; i++) tagged.push(await v2.pushImage('api/list', `t${i}`, 100 + i));
    const untaggedConfig = await v2.pushBlob('api/list', '{"os":"linux","n":"untagged"}');
    const untaggedManifest = imageManifest(untaggedConfig, []);
    await ecr.send(new PutImageCommand({ repositoryName: 'api/list', imageManifest: untaggedManifest, imageDigest: sha256(untaggedManifest) }));

    const listed: ImageIdentifier[] = [];
    let pages = 0;
    for await (const page of paginateListImages({ client: ecr, pageSize: 2 }, { repositoryName: 'api/list' })) {
      pages++;
      listed.push(...(page.imageIds ?? []));
    }
    assert.equal(pages, 3);
    assert.equal(listed.length, 6);
    assert.deepEqual(listed.filter((i) => i.imageTag === undefined), [{ imageDigest: sha256(untaggedManifest) }]);
    const untaggedOnly = await ecr.send(new ListImagesCommand({ repositoryName: 'api/list', filter: { tagStatus: 'UNTAGGED' } }));
    assert.deepEqual(untaggedOnly.imageIds, [{ imageDigest: sha256(untaggedManifest) }]);
    assert.equal((await ecr.send(new ListImagesCommand({ repositoryName: 'api/list', filter: { tagStatus: 'TAGGED' } }))).imageIds?.length, 5);
    const first = await ecr.send(new ListImagesCommand({ repositoryName: 'api/list', maxResults: 1 }));
    assert.equal(
      await sdkErrorName(ecr.send(new ListImagesCommand({ repositoryName: 'api/list', nextToken: first.nextToken, filter: { tagStatus: 'TAGGED' } }))),
      'InvalidParameterException',
      'a token from another listing is refused',
    );
    assert.equal(await sdkErrorName(ecr.send(new ListImagesCommand({ repositoryName: 'api/none' }))), 'RepositoryNotFoundException');

    const details = [];
    for await (const page of paginateDescribeImages({ client: ecr, pageSize: 4 }, { repositoryName: 'api/list' })) details.push(...(page.imageDetails ?? []));
    assert.equal(details.length, 6);
    const t2 = details.find((d) => d.imageTags?.includes('t2'));
    assert.ok(t2);
    assert.equal(t2.imageDigest, tagged[2]);
    assert.equal(t2.registryId, ACCOUNT);
    assert.equal(t2.repositoryName, 'api/list');
    assert.equal(t2.imageManifestMediaType, OCI_MANIFEST);
    assert.equal(t2.artifactMediaType, CONFIG_TYPE);
    assert.equal(t2.imageStatus, 'ACTIVE');
    assert.ok(t2.imagePushedAt instanceof Date && Math.abs(t2.imagePushedAt.getTime() - Date.now()) < 60_000);
    assert.equal(t2.lastRecordedPullTime, undefined);
    assert.ok((t2.imageSizeInBytes ?? 0) > 102, 'config and layer sizes');
    assert.equal(details.find((d) => d.imageDigest === sha256(untaggedManifest))?.imageTags, undefined);
    const onlyUntagged = await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/list', filter: { tagStatus: 'UNTAGGED' } }));
    assert.deepEqual(onlyUntagged.imageDetails?.map((d) => d.imageDigest), [sha256(untaggedManifest)]);

    const byId = await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/list', imageIds: [{ imageTag: 't1' }, { imageDigest: tagged[1] }] }));
    assert.deepEqual(byId.imageDetails?.map((d) => d.imageDigest), [tagged[1]]);
    assert.equal(await sdkErrorName(ecr.send(new DescribeImagesCommand({ repositoryName: 'api/list', imageIds: [{ imageTag: 'missing' }] }))), 'ImageNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new DescribeImagesCommand({ repositoryName: 'api/none' }))), 'RepositoryNotFoundException');

    // A /v2/ pull (and a BatchGetImage) shows as lastRecordedPullTime once the recorder flushes.
    assert.equal((await berth.request('/v2/api/list/manifests/t2')).status, 200);
    const deadline = Date.now() + 15_000;
    let pulledAt: Date | undefined;
    while (!pulledAt && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      pulledAt = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/list', imageIds: [{ imageTag: 't2' }] }))).imageDetails?.[0]?.lastRecordedPullTime;
    }
    assert.ok(pulledAt instanceof Date && Math.abs(pulledAt.getTime() - Date.now()) < 60_000);
  });

  test('DescribeImages: an index\'s size is its largest image\'s', async () => {
    const small = await v2.pushImage('api/index', 'small', 100);
    const large = await v2.pushImage('api/index', 'large', 5000);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [small, large].map((digest) => ({ mediaType: OCI_MANIFEST, digest, size: 300 })),
    });
    await ecr.send(new PutImageCommand({ repositoryName: 'api/index', imageManifest: index, imageTag: 'multi' }));
    const { imageDetails } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/index', imageIds: [{ imageTag: 'multi' }, { imageTag: 'large' }] }));
    const sizes = new Map(imageDetails?.map((d) => [d.imageDigest, d.imageSizeInBytes]));
    assert.equal(sizes.get(sha256(index)), sizes.get(large));
  });

  test('BatchDeleteImage: a tag untags (and deletes the image with its last tag), a digest deletes the image and every tag', async () => {
    const digest = await v2.pushImage('api/delete', 'a');
    const body = await (await v2.request('/v2/api/delete/manifests/a')).text();
    await v2.request('/v2/api/delete/manifests/b', { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
    const untag = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'api/delete', imageIds: [{ imageTag: 'b' }] }));
    assert.deepEqual(untag, { $metadata: untag.$metadata, imageIds: [{ imageDigest: digest, imageTag: 'b' }], failures: [] });
    assert.equal((await berth.request(`/v2/api/delete/manifests/${digest}`)).status, 200, 'the image keeps its other tag');
    const last = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'api/delete', imageIds: [{ imageTag: 'a' }] }));
    assert.deepEqual(last.imageIds, [{ imageDigest: digest, imageTag: 'a' }]);
    assert.equal((await berth.request(`/v2/api/delete/manifests/${digest}`)).status, 404, 'removing the last tag deletes the image');

    const second = await v2.pushImage('api/delete', 'x');
    const secondBody = await (await v2.request('/v2/api/delete/manifests/x')).text();
    await v2.request('/v2/api/delete/manifests/y', { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: secondBody });
    const { imageIds, failures } = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'api/delete', imageIds: [{ imageDigest: second }, { imageTag: 'y' }, { imageTag: 'gone' }, { imageDigest: 'bad' }] }),
    );
    assert.deepEqual(imageIds, [
      { imageDigest: second, imageTag: 'x' },
      { imageDigest: second, imageTag: 'y' },
    ]);
    assert.deepEqual(
      failures?.map((f) => f.failureCode),
      ['ImageNotFound', 'InvalidImageDigest'],
    );
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: 'api/delete' }))).imageIds, []);
    assert.equal(await sdkErrorName(ecr.send(new BatchDeleteImageCommand({ repositoryName: 'api/none', imageIds: [{ imageTag: 'a' }] }))), 'RepositoryNotFoundException');
  });

  test('BatchDeleteImage: an image an index lists is kept unless the index goes too', async () => {
    const child = await v2.pushImage('api/delete-index', 'child');
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child, size: 300 }] });
    await ecr.send(new PutImageCommand({ repositoryName: 'api/delete-index', imageManifest: index, imageTag: 'multi' }));
    const refused = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'api/delete-index', imageIds: [{ imageDigest: child }] }));
    assert.deepEqual(refused.imageIds, []);
    assert.equal(refused.failures?.[0]?.failureCode, 'ImageReferencedByManifestList');
    const together = await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'api/delete-index', imageIds: [{ imageDigest: child }, { imageDigest: sha256(index) }] }));
    assert.deepEqual(together.failures, []);
    assert.equal(together.imageIds?.length, 2);
  });

  test('ListImageReferrers: a subject\'s referrers, filtered by artifact type, paged', async () => {
    const subject = await v2.pushImage('api/referrers', 'app');
    const emptyConfig = await v2.pushBlob('api/referrers', '{}');
    const referrers: string[] = [];
    for (const [i, artifactType] of ['application/vnd.example.sbom', 'application/vnd.example.signature', 'application/vnd.example.sbom'].entries()) {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...emptyConfig },
        layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: subject, size: 300 },
        annotations: { n: String(i) },
      });
      assert.equal((await v2.request(`/v2/api/referrers/manifests/${sha256(body)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body })).status, 201);
      referrers.push(sha256(body));
    }
    const all = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'api/referrers', subjectId: { imageDigest: subject } }));
    assert.equal(all.referrers?.length, 3);
    assert.equal(all.referrers?.[0]?.artifactStatus, 'ACTIVE');
    assert.deepEqual(all.referrers?.find((r) => r.artifactType === 'application/vnd.example.signature')?.annotations, { n: '1' });
    const sboms = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'api/referrers', subjectId: { imageDigest: subject }, filter: { artifactTypes: ['application/vnd.example.sbom'] } }));
    assert.equal(sboms.referrers?.length, 2);
    const page1 = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'api/referrers', subjectId: { imageDigest: subject }, maxResults: 2 }));
    assert.equal(page1.referrers?.length, 2);
    assert.ok(page1.nextToken);
    const page2 = await ecr.send(new ListImageReferrersCommand({ repositoryName: 'api/referrers', subjectId: { imageDigest: subject }, maxResults: 2, nextToken: page1.nextToken }));
    assert.equal(page2.referrers?.length, 1);
    assert.equal(page2.nextToken, undefined);
    assert.deepEqual(new Set([...(page1.referrers ?? []), ...(page2.referrers ?? [])].map((r) => r.digest)), new Set(referrers));
    assert.equal(await sdkErrorName(ecr.send(new ListImageReferrersCommand({ repositoryName: 'api/none', subjectId: { imageDigest: subject } }))), 'RepositoryNotFoundException');
  });

  test('GetDownloadUrlForLayer: a URL that works without credentials, refuses tampering and expires', async () => {
    const manifestDigest = await v2.pushImage('api/download', 'v1', 2048);
    const manifest = JSON.parse(await (await v2.request(`/v2/api/download/manifests/${manifestDigest}`)).text()) as { layers: Blob[] };
    const layer = manifest.layers[0] as Blob;
    const { downloadUrl, layerDigest } = await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'api/download', layerDigest: layer.digest }));
    assert.equal(layerDigest, layer.digest);
    assert.ok(downloadUrl);
    const downloaded = await fetch(downloadUrl);
    assert.equal(downloaded.status, 200);
    assert.equal(sha256(Buffer.from(await downloaded.arrayBuffer())), layer.digest);
    const tampered = downloadUrl.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await fetch(tampered)).status, 403);
    const now = Date.now();
    mock.method(Date, 'now', () => now + 3601_000);
    try {
      assert.equal((await fetch(downloadUrl)).status, 403, 'refused after expiry');
    } finally {
      mock.restoreAll();
    }

    assert.equal(await sdkErrorName(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'api/download', layerDigest: sha256('absent') }))), 'LayersNotFoundException');
    const loose = await v2.pushBlob('api/download', randomBytes(64));
    assert.equal(await sdkErrorName(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'api/download', layerDigest: loose.digest }))), 'LayerInaccessibleException');
    assert.equal(await sdkErrorName(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName: 'api/none', layerDigest: loose.digest }))), 'RepositoryNotFoundException');
  });

  test('UpdateImageStorageClass: an archived image is listed as ARCHIVED and cannot be pulled until restored', async () => {
    const digest = await v2.pushImage('api/archive', 'v1');
    const archived = await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'api/archive', imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }));
    assert.equal(archived.imageStatus, 'ARCHIVED');
    assert.deepEqual(archived.imageId, { imageDigest: digest, imageTag: 'v1' });
    assert.equal((await berth.request('/v2/api/archive/manifests/v1')).status, 404);
    const get = await ecr.send(new BatchGetImageCommand({ repositoryName: 'api/archive', imageIds: [{ imageTag: 'v1' }] }));
    assert.equal(get.failures?.[0]?.failureCode, 'ImageNotFound');
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: 'api/archive' }))).imageIds, [], 'only ACTIVE images by default');
    assert.deepEqual((await ecr.send(new ListImagesCommand({ repositoryName: 'api/archive', filter: { imageStatus: 'ARCHIVED' } }))).imageIds, [{ imageDigest: digest, imageTag: 'v1' }]);
    const described = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/archive', filter: { imageStatus: 'ANY' } }))).imageDetails?.[0];
    assert.equal(described?.imageStatus, 'ARCHIVED');
    assert.ok(described?.lastArchivedAt instanceof Date);
    assert.equal(await sdkErrorName(ecr.send(new StartImageScanCommand({ repositoryName: 'api/archive', imageId: { imageTag: 'v1' } }))), 'ImageArchivedException');

    const restored = await ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'api/archive', imageId: { imageDigest: digest }, targetStorageClass: 'STANDARD' }));
    assert.equal(restored.imageStatus, 'ACTIVE');
    assert.equal((await berth.request('/v2/api/archive/manifests/v1')).status, 200);
    assert.ok((await ecr.send(new DescribeImagesCommand({ repositoryName: 'api/archive' }))).imageDetails?.[0]?.lastActivatedAt instanceof Date);
    assert.equal(
      await sdkErrorName(ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'api/archive', imageId: { imageTag: 'nope' }, targetStorageClass: 'ARCHIVE' }))),
      'ImageNotFoundException',
    );
    assert.equal(
      await sdkErrorName(ecr.send(new UpdateImageStorageClassCommand({ repositoryName: 'api/none', imageId: { imageTag: 'v1' }, targetStorageClass: 'ARCHIVE' }))),
      'RepositoryNotFoundException',
    );
  });

  test('scanning, replication and signing status: honest answers while those features are not built', async () => {
    const digest = await v2.pushImage('api/status', 'v1');
    const scan = await ecr.send(new StartImageScanCommand({ repositoryName: 'api/status', imageId: { imageTag: 'v1' } }));
    assert.equal(scan.imageScanStatus?.status, 'FAILED');
    assert.deepEqual(scan.imageId, { imageDigest: digest, imageTag: 'v1' });
    assert.equal(await sdkErrorName(ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: 'api/status', imageId: { imageTag: 'v1' } }))), 'ScanNotFoundException');
    // As against ECR: the JavaScript SDK's waiter has no acceptor for an error, so it retries through
    // ScanNotFoundException until its time limit (botocore's fails at once: see the AWS CLI test below).
    await assert.rejects(
      waitUntilImageScanComplete({ client: ecr, maxWaitTime: 2, minDelay: 1, maxDelay: 1 }, { repositoryName: 'api/status', imageId: { imageTag: 'v1' } }),
      (err) => {
        assert.ok(err instanceof Error && err.name === 'TimeoutError', String(err));
        const observed = Object.keys((JSON.parse(err.message) as { observedResponses: Record<string, number> }).observedResponses);
        assert.ok(observed.length > 0 && observed.every((response) => response.startsWith('400: Image scan does not exist for the image')), observed.join('; '));
        return true;
      },
    );
    const replication = await ecr.send(new DescribeImageReplicationStatusCommand({ repositoryName: 'api/status', imageId: { imageDigest: digest } }));
    assert.deepEqual(replication.replicationStatuses, []);
    const signing = await ecr.send(new DescribeImageSigningStatusCommand({ repositoryName: 'api/status', imageId: { imageTag: 'v1' } }));
    assert.deepEqual(signing.signingStatuses, []);
    assert.equal(signing.registryId, ACCOUNT);
    for (const command of [
      new StartImageScanCommand({ repositoryName: 'api/status', imageId: { imageTag: 'nope' } }),
      new DescribeImageScanFindingsCommand({ repositoryName: 'api/status', imageId: { imageTag: 'nope' } }),
      new DescribeImageReplicationStatusCommand({ repositoryName: 'api/status', imageId: { imageTag: 'nope' } }),
      new DescribeImageSigningStatusCommand({ repositoryName: 'api/status', imageId: { imageTag: 'nope' } }),
    ]) {
      assert.equal(await sdkErrorName(ecr.send(command as StartImageScanCommand)), 'ImageNotFoundException');
    }
    assert.equal(await sdkErrorName(ecr.send(new StartImageScanCommand({ repositoryName: 'api/none', imageId: { imageTag: 'v1' } }))), 'RepositoryNotFoundException');
  });

  test('aws ecr wait image-scan-complete: ScanNotFoundException for an image never scanned ends the wait at once, as with ECR', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    await v2.pushImage('api/never-scanned', 'v1');
    const scratch = await mkdtemp(join(tmpdir(), 'berth-scan-wait-'));
    try {
      const { aws } = awsCliFor(berth.url, await isolatedAwsEnv(scratch));
      const started = Date.now();
      const key = { AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey };
      const result = await aws(key, ['ecr', 'wait', 'image-scan-complete', '--repository-name', 'api/never-scanned', '--image-id', 'imageTag=v1'], false);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /Waiter ImageScanComplete failed: An error occurred \(ScanNotFoundException\)/);
      assert.ok(Date.now() - started < 5_000, 'one attempt only (the waiter waits 5 s between attempts)');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  test('ECR Public: layers, PutImage, DescribeImages, DescribeImageTags and BatchDeleteImage in the public registry', async () => {
    const publicClient = clients.ecrPublic;
    const seeded = await v2.pushImage(`public/${ALIAS}/shared/app`, 'seed');
    const repositoryName = 'shared/app';
    const bytes = randomBytes(700);
    const { uploadId } = await publicClient.send(new PublicInitiateLayerUploadCommand({ repositoryName }));
    await publicClient.send(new PublicUploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: 699, layerPartBlob: bytes }));
    const layer = { digest: sha256(bytes), size: 700 };
    assert.equal((await publicClient.send(new PublicCompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [layer.digest] }))).layerDigest, layer.digest);
    const availability = await publicClient.send(new PublicBatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [layer.digest] }));
    assert.equal(availability.layers?.[0]?.layerAvailability, 'AVAILABLE');
    const config = await v2.pushBlob(`public/${ALIAS}/shared/app`, '{"os":"linux","public":true}');
    const manifest = imageManifest(config, [layer]);
    const { image } = await publicClient.send(new PublicPutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' }));
    assert.deepEqual(image?.imageId, { imageDigest: sha256(manifest), imageTag: 'v1' });
    // Anyone may pull from a public registry.
    assert.equal((await berth.request(`/v2/public/${ALIAS}/shared/app/manifests/v1`, { anonymous: true })).status, 200);
    assert.equal((await berth.request(`/v2/${repositoryName}/manifests/v1`)).status, 404, 'the private registry holds no such image');

    const { imageDetails } = await publicClient.send(new PublicDescribeImagesCommand({ repositoryName }));
    assert.deepEqual(imageDetails?.map((d) => d.imageDigest).sort(), [seeded, sha256(manifest)].sort());
    const paged = [];
    for await (const page of paginatePublicDescribeImages({ client: publicClient, pageSize: 1 }, { repositoryName })) paged.push(...(page.imageDetails ?? []));
    assert.deepEqual(paged.map((d) => d.imageDigest), imageDetails?.map((d) => d.imageDigest));
    const tags = [];
    for await (const page of paginateDescribeImageTags({ client: publicClient, pageSize: 1 }, { repositoryName })) tags.push(...(page.imageTagDetails ?? []));
    assert.deepEqual(tags.map((t) => t.imageTag), ['seed', 'v1']);
    assert.equal(tags[1]?.imageDetail?.imageDigest, sha256(manifest));
    assert.ok(tags[1]?.createdAt instanceof Date);
    assert.equal(await sdkErrorName(publicClient.send(new PublicPutImageCommand({ repositoryName, imageManifest: manifest, imageTag: 'v1' }))), 'ImageAlreadyExistsException');

    const deleted = await publicClient.send(new PublicBatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] }));
    assert.deepEqual(deleted.imageIds, [{ imageDigest: sha256(manifest), imageTag: 'v1' }]);
    assert.equal(await sdkErrorName(publicClient.send(new PublicDescribeImagesCommand({ repositoryName: 'shared/none' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(publicClient.send(new PublicInitiateLayerUploadCommand({ repositoryName: 'shared/none' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(publicClient.send(new PublicPutImageCommand({ repositoryName: 'shared/none', imageManifest: manifest, imageTag: 'v1' }))), 'RepositoryNotFoundException');
    assert.equal(await sdkErrorName(publicClient.send(new PublicBatchDeleteImageCommand({ repositoryName: 'shared/none', imageIds: [{ imageTag: 'v1' }] }))), 'RepositoryNotFoundException');
  });
});
