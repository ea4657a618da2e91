import { digestOf } from '../../digest.js';
import { isRegistryError } from '../../errors.js';
import { isTag } from '../../names.js';
import { MediaType, parseManifest } from '../../registry/manifest.js';
import { pullTimeUpdateExclusionCheck } from '../../registry/pull-recorder.js';
import type { ImageRecord, MetadataStore, StorageClass } from '../../storage/metadata-store.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrCall, EcrHandler, EcrHandlers } from './call.js';
import {
  DIGEST_PATTERN,
  existingRepository,
  imageId,
  imageIdText,
  imageNotFound,
  invalidParameter,
  isFailure,
  pageOf,
  requireImage,
  resolveImageId,
  type ImageIdentifier,
  type ResolvedImage,
} from './image-common.js';

/** ECR's quota of tags per image. */
const MAX_TAGS_PER_IMAGE = 1000;

type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';
type ImageStatusFilter = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' | 'ANY';

/** The storage class an `imageStatus` filter keeps; `none` for ACTIVATING, which no Berth image ever is (restores are immediate). */
function storageClassOf(status: ImageStatusFilter | undefined): StorageClass | undefined | 'none' {
  switch (status ?? 'ACTIVE') {
    case 'ACTIVE':
      return 'STANDARD';
    case 'ARCHIVED':
      return 'ARCHIVE';
    case 'ACTIVATING':
      return 'none';
    default:
      return undefined;
  }
}

interface ImageFailure {
  imageId: ImageIdentifier;
  failureCode: string;
  failureReason: string;
}

/**
 * The image operations of ECR (PutImage, BatchGetImage, BatchDeleteImage,
 * ListImages, DescribeImages, ListImageReferrers, UpdateImageStorageClass,
 * and the scan, replication and signing status reads) and ECR Public
 * (PutImage, BatchDeleteImage, DescribeImages, DescribeImageTags). They act
 * on the registry core's manifests and tags, so what `/v2/` pushes they see
 * and what they put `/v2/` serves. See docs/ecr-images.md.
 */
export function imageHandlers(deps: EcrApiDeps): EcrHandlers {
  const { metadata, registry, registrySettings, serverKey } = deps;

  const putImage: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const manifestText = call.input.imageManifest as string;
    const mediaType = call.input.imageManifestMediaType as string | undefined;
    const tag = call.input.imageTag as string | undefined;
    const expectedDigest = call.input.imageDigest as string | undefined;
    if (tag !== undefined && !isTag(tag)) throw invalidParameter('imageTag', "must satisfy regular expression '[a-zA-Z0-9-_.]+'");
    if (expectedDigest !== undefined && !DIGEST_PATTERN.test(expectedDigest)) throw invalidParameter('imageDigest', "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
    const content = Buffer.from(manifestText, 'utf8');
    const parsed = parseManifest(content, mediaType);
    // The model: imageDigest is "the sha256 digest of the image manifest".
    const digest = digestOf(content);
    if (expectedDigest !== undefined && expectedDigest !== digest) {
      throw new AwsError('ImageDigestDoesNotMatchException', `Provided digest '${expectedDigest}' does not match the digest '${digest}' calculated for the image manifest`, 400);
    }
    const existing = (await metadata.describeImages(repository.id, { digests: [digest] })).items[0];
    // An archived image pushed again is restored, so only an active one is "already pushed".
    if (existing && existing.storageClass === 'STANDARD' && (tag === undefined || existing.tags.includes(tag))) {
      throw new AwsError(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}' and tag '${tag ?? 'null'}' already exists in the repository with name '${address.name}' in registry with id '${call.registryId}'`,
        400,
      );
    }
    if (tag !== undefined && existing && existing.tags.length >= MAX_TAGS_PER_IMAGE && !existing.tags.includes(tag)) {
      throw new AwsError(
        'LimitExceededException',
        `Adding tag '${tag}' to an image in the repository with name '${address.name}' in registry with id '${call.registryId}' exceeds the maximum allowed number of tags per image which is '${MAX_TAGS_PER_IMAGE}'`,
        400,
      );
    }
    try {
      await registry.putManifest(address.qualified, tag ?? digest, content, mediaType);
    } catch (err) {
      if (isRegistryError(err) && err.code === 'MANIFEST_BLOB_UNKNOWN') {
        const missing = (err.detail as { missing: string[] }).missing;
        if (parsed.isIndex) throw new AwsError('ReferencedImagesNotFoundException', `The image index references images that do not exist in the repository with name '${address.name}': [${missing.join(', ')}]`, 400);
        throw new AwsError(
          'LayersNotFoundException',
          `Layers with digests '[${missing.join(', ')}]' required for pushing image into repository with name '${address.name}' in the registry with id '${call.registryId}' do not exist`,
          400,
        );
      }
      throw err;
    }
    return {
      image: { registryId: call.registryId, repositoryName: address.name, imageId: imageId(digest, tag), imageManifest: manifestText, imageManifestMediaType: parsed.mediaType },
    };
  };

  /** Resolves every id; failures keep the id as given. */
  const resolveAll = async (call: EcrCall, qualified: string, ids: readonly ImageIdentifier[]) => {
    const resolved: { id: ImageIdentifier; image: ResolvedImage }[] = [];
    const failures: ImageFailure[] = [];
    for (const id of ids) {
      const result = await resolveImageId(metadata, qualified, id);
      if (isFailure(result)) failures.push({ imageId: id, ...result });
      else resolved.push({ id, image: result });
    }
    return { resolved, failures };
  };

  const recordsByDigest = async (repositoryId: number, digests: Iterable<string>): Promise<Map<string, ImageRecord>> => {
    const unique = [...new Set(digests)];
    const { items } = await metadata.describeImages(repositoryId, { digests: unique });
    return new Map(items.map((r) => [r.digest, r]));
  };

  const batchGetImage: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const accepted = call.input.acceptedMediaTypes as readonly string[] | undefined;
    const { resolved, failures } = await resolveAll(call, address.qualified, call.input.imageIds as readonly ImageIdentifier[]);
    const records = await recordsByDigest(repository.id, resolved.map((r) => r.image.digest));
    const isExcluded = pullTimeUpdateExclusionCheck(registrySettings, call.registryId, call.caller.principal);
    const images: Record<string, unknown>[] = [];
    const returned = new Set<string>();
    for (const { id, image } of resolved) {
      const record = records.get(image.digest);
      if (!record) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      if (record.storageClass === 'ARCHIVE') {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image is archived; restore it to the STANDARD storage class to pull it' });
        continue;
      }
      if (accepted && !accepted.includes(record.mediaType)) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: `Requested image's manifest media type ${record.mediaType} is not among the accepted media types` });
        continue;
      }
      const manifest = await registry.pullManifest(repository.id, image.digest, isExcluded);
      if (!manifest) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      // A digest alone stands for the image under each of its tags.
      const tags: (string | undefined)[] = image.tag !== undefined ? [image.tag] : record.tags.length > 0 ? record.tags : [undefined];
      for (const tag of tags) {
        const key = `${image.digest} ${tag ?? ''}`;
        if (returned.has(key)) continue;
        returned.add(key);
        images.push({
          registryId: call.registryId,
          repositoryName: address.name,
          imageId: imageId(image.digest, tag),
          imageManifest: Buffer.from(manifest.content).toString('utf8'),
          imageManifestMediaType: manifest.mediaType,
        });
      }
    }
    return { images, failures };
  };

  /**
   * By digest: the image and all its tags go. By tag: the tag goes, and the
   * image with it when that was its last tag (unless an index in the
   * repository lists it). An image an index lists cannot be deleted by
   * digest (ImageReferencedByManifestList) unless the index goes in the same call.
   */
  const batchDeleteImage: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const { resolved, failures } = await resolveAll(call, address.qualified, call.input.imageIds as readonly ImageIdentifier[]);
    const deleted: ImageIdentifier[] = [];
    const byDigest = resolved.filter((r) => r.image.tag === undefined);
    const digestRecords = await recordsByDigest(repository.id, byDigest.map((r) => r.image.digest));
    const deletedDigests = new Set<string>();
    const deleteImage = async (record: ImageRecord) => {
      if (deletedDigests.has(record.digest)) return;
      deletedDigests.add(record.digest);
      if (!(await metadata.deleteManifest(repository.id, record.digest))) return;
      if (record.tags.length === 0) deleted.push(imageId(record.digest, undefined));
      for (const tag of record.tags) deleted.push(imageId(record.digest, tag));
    };
    // Indexes first, so that an index and the images it lists can go together.
    for (const record of digestRecords.values()) if (isIndexRecord(record) && !record.referencedByIndex) await deleteImage(record);
    const remaining = await recordsByDigest(repository.id, [...digestRecords.keys()].filter((digest) => !deletedDigests.has(digest)));
    for (const { id, image } of byDigest) {
      if (deletedDigests.has(image.digest)) continue;
      const record = remaining.get(image.digest);
      if (!record) failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      else if (record.referencedByIndex) failures.push({ imageId: id, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image is referenced by an image index (manifest list) in this repository' });
      else await deleteImage(record);
    }
    const untagged = new Set<string>();
    for (const { id, image } of resolved) {
      if (image.tag === undefined || deletedDigests.has(image.digest)) continue;
      if (await metadata.deleteTag(repository.id, image.tag)) {
        deleted.push(imageId(image.digest, image.tag));
        untagged.add(image.digest);
      } else if (!deleted.some((d) => d.imageDigest === image.digest && d.imageTag === image.tag)) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      }
    }
    // "When you remove the last tag from an image, the image is deleted."
    for (const record of (await recordsByDigest(repository.id, untagged)).values()) {
      if (record.tags.length === 0 && !record.referencedByIndex) await metadata.deleteManifest(repository.id, record.digest);
    }
    return { imageIds: deleted, failures };
  };

  const listImages: EcrHandler = async (call) => {
    const { repository } = await existingRepository(metadata, call);
    const filter = (call.input.filter ?? {}) as { tagStatus?: TagStatus; imageStatus?: ImageStatusFilter };
    const tagStatus = filter.tagStatus ?? 'ANY';
    const storageClass = storageClassOf(filter.imageStatus);
    const page = pageOf(call, serverKey.apiSigningKey, [tagStatus, filter.imageStatus ?? 'ACTIVE']);
    if (storageClass === 'none') return { imageIds: [] };
    const after = page.position as { digest: string; tag: string | null } | undefined;
    const result = await metadata.listImageIds(repository.id, { tagStatus, ...(storageClass ? { storageClass } : {}) }, page.limit, after);
    const last = result.items.at(-1);
    return {
      imageIds: result.items.map((i) => imageId(i.digest, i.tag)),
      ...(result.more && last ? { nextToken: page.next({ digest: last.digest, tag: last.tag }) } : {}),
    };
  };

  /** ImageDetail: sizes (an index's is its largest image's), times, status. */
  const imageDetails = async (call: EcrCall, repositoryId: number, records: readonly ImageRecord[]): Promise<Record<string, unknown>[]> => {
    const name = (call.repository as NonNullable<EcrCall['repository']>).name;
    const details: Record<string, unknown>[] = [];
    for (const record of records) {
      details.push({
        registryId: call.registryId,
        repositoryName: name,
        imageDigest: record.digest,
        imageTags: record.tags.length > 0 ? record.tags : undefined,
        imageSizeInBytes: isIndexRecord(record) ? await indexSize(metadata, repositoryId, record.digest) : record.blobsSize,
        imagePushedAt: new Date(record.pushedAt),
        imageManifestMediaType: record.mediaType,
        artifactMediaType: record.artifactType ?? undefined,
        lastRecordedPullTime: record.lastPulledAt === undefined ? undefined : new Date(record.lastPulledAt),
        subjectManifestDigest: record.subjectDigest ?? undefined,
        imageStatus: record.storageClass === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE',
        lastArchivedAt: record.storageClass === 'ARCHIVE' && record.storageClassChangedAt !== undefined ? new Date(record.storageClassChangedAt) : undefined,
        lastActivatedAt: record.storageClass === 'STANDARD' && record.storageClassChangedAt !== undefined ? new Date(record.storageClassChangedAt) : undefined,
      });
    }
    return details;
  };

  const describeImages: EcrHandler = async (call) => {
    const { repository } = await existingRepository(metadata, call);
    const ids = call.input.imageIds as readonly ImageIdentifier[] | undefined;
    if (ids !== undefined) {
      if (call.input.nextToken !== undefined || call.input.maxResults !== undefined) {
        throw AwsError.of('INVALID_PARAMETER', 'Invalid parameter: imageIds cannot be combined with nextToken or maxResults');
      }
      const digests: string[] = [];
      for (const id of ids) digests.push((await requireImage(metadata, call, id)).digest);
      const records = await recordsByDigest(repository.id, digests);
      return { imageDetails: await imageDetails(call, repository.id, [...records.values()]) };
    }
    const filter = (call.input.filter ?? {}) as { tagStatus?: TagStatus; imageStatus?: ImageStatusFilter };
    // ECR Public has neither filters nor archived images.
    const storageClass = call.service === 'ecr-public' ? undefined : storageClassOf(filter.imageStatus);
    const page = pageOf(call, serverKey.apiSigningKey, [filter.tagStatus ?? 'ANY', filter.imageStatus ?? 'ACTIVE']);
    if (storageClass === 'none') return { imageDetails: [] };
    const result = await metadata.describeImages(repository.id, {
      limit: page.limit,
      ...(filter.tagStatus ? { tagStatus: filter.tagStatus } : {}),
      ...(storageClass ? { storageClass } : {}),
      ...(typeof page.position === 'string' ? { afterDigest: page.position } : {}),
    });
    const last = result.items.at(-1);
    return {
      imageDetails: await imageDetails(call, repository.id, result.items),
      ...(result.more && last ? { nextToken: page.next(last.digest) } : {}),
    };
  };

  const describeImageTags: EcrHandler = async (call) => {
    const { repository } = await existingRepository(metadata, call);
    const page = pageOf(call, serverKey.apiSigningKey, null);
    const tags = await metadata.listTags(repository.id, page.limit, typeof page.position === 'string' ? page.position : undefined);
    const records = await recordsByDigest(repository.id, tags.items.map((t) => t.digest));
    const imageTagDetails: Record<string, unknown>[] = [];
    for (const tag of tags.items) {
      const record = records.get(tag.digest);
      if (!record) continue;
      imageTagDetails.push({
        imageTag: tag.name,
        createdAt: new Date(tag.updatedAt),
        imageDetail: {
          imageDigest: record.digest,
          imageSizeInBytes: isIndexRecord(record) ? await indexSize(metadata, repository.id, record.digest) : record.blobsSize,
          imagePushedAt: new Date(record.pushedAt),
          imageManifestMediaType: record.mediaType,
          artifactMediaType: record.artifactType ?? undefined,
        },
      });
    }
    const last = tags.items.at(-1);
    return { imageTagDetails, ...(tags.more && last ? { nextToken: page.next(last.name) } : {}) };
  };

  const listImageReferrers: EcrHandler = async (call) => {
    const { repository } = await existingRepository(metadata, call);
    const subject = (call.input.subjectId as { imageDigest: string }).imageDigest;
    if (!DIGEST_PATTERN.test(subject)) throw invalidParameter('subjectId.imageDigest', "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
    const filter = (call.input.filter ?? {}) as { artifactTypes?: readonly string[]; artifactStatus?: ImageStatusFilter };
    const storageClass = storageClassOf(filter.artifactStatus);
    const page = pageOf(call, serverKey.apiSigningKey, [subject, filter.artifactTypes ?? null, filter.artifactStatus ?? 'ACTIVE']);
    if (storageClass === 'none') return { referrers: [] };
    const all = await metadata.listReferrers(repository.id, subject);
    const typed = filter.artifactTypes && filter.artifactTypes.length > 0 ? all.filter((r) => r.artifactType !== null && filter.artifactTypes?.includes(r.artifactType)) : all;
    const classes = await recordsByDigest(repository.id, typed.map((r) => r.digest));
    const kept = typed.filter((r) => storageClass === undefined || classes.get(r.digest)?.storageClass === storageClass);
    const offset = typeof page.position === 'number' ? page.position : 0;
    const shown = kept.slice(offset, offset + page.limit);
    return {
      referrers: shown.map((r) => ({
        digest: r.digest,
        mediaType: r.mediaType,
        artifactType: r.artifactType ?? undefined,
        size: r.size,
        annotations: r.annotations ? (JSON.parse(r.annotations) as Record<string, string>) : undefined,
        artifactStatus: classes.get(r.digest)?.storageClass === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE',
      })),
      ...(offset + page.limit < kept.length ? { nextToken: page.next(offset + page.limit) } : {}),
    };
  };

  const updateImageStorageClass: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const id = call.input.imageId as ImageIdentifier;
    const image = await requireImage(metadata, call, id);
    const target = call.input.targetStorageClass as StorageClass;
    // Restoring is immediate here (nothing moves), so an image is never ACTIVATING.
    if (image.archived !== (target === 'ARCHIVE') && !(await metadata.setStorageClass(repository.id, image.digest, target, Date.now()))) throw imageNotFound(id, call);
    return { registryId: call.registryId, repositoryName: address.name, imageId: imageId(image.digest, image.tag), imageStatus: target === 'ARCHIVE' ? 'ARCHIVED' : 'ACTIVE' };
  };

  /** Berth does not scan images yet: a scan is never started, so its status says so and no findings exist. */
  const startImageScan: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const image = await requireImage(metadata, call, call.input.imageId as ImageIdentifier);
    if (image.archived) throw new AwsError('ImageArchivedException', `The image with digest '${image.digest}' is archived and cannot be scanned`, 400);
    // A scan reads an image's layers; an index has none of its own.
    const record = (await recordsByDigest(repository.id, [image.digest])).get(image.digest);
    if (record && isIndexRecord(record)) {
      throw new AwsError('UnsupportedImageTypeException', `The image with digest '${image.digest}' is an image index (${record.mediaType}), which cannot be scanned; scan the images it lists`, 400);
    }
    return {
      registryId: call.registryId,
      repositoryName: address.name,
      imageId: imageId(image.digest, image.tag),
      imageScanStatus: { status: 'FAILED', description: 'Image scanning is not available in this registry yet; no scan was started.' },
    };
  };

  const describeImageScanFindings: EcrHandler = async (call) => {
    const { address } = await existingRepository(metadata, call);
    const id = call.input.imageId as ImageIdentifier;
    await requireImage(metadata, call, id);
    throw new AwsError(
      'ScanNotFoundException',
      `Image scan does not exist for the image with '${imageIdText(id)}' in the repository with name '${address.name}' in the registry with id '${call.registryId}'`,
      400,
    );
  };

  /** Replication is configured but not carried out yet: no replica of any image exists, so there is no status to report. */
  const describeImageReplicationStatus: EcrHandler = async (call) => {
    const { address } = await existingRepository(metadata, call);
    const image = await requireImage(metadata, call, call.input.imageId as ImageIdentifier);
    return { repositoryName: address.name, imageId: imageId(image.digest, image.tag), replicationStatuses: [] };
  };

  /** Managed signing is configured but not carried out yet: no image is signed or being signed. */
  const describeImageSigningStatus: EcrHandler = async (call) => {
    const { address } = await existingRepository(metadata, call);
    const image = await requireImage(metadata, call, call.input.imageId as ImageIdentifier);
    return { repositoryName: address.name, imageId: imageId(image.digest, image.tag), registryId: call.registryId, signingStatuses: [] };
  };

  return {
    ecr: {
      PutImage: putImage,
      BatchGetImage: batchGetImage,
      BatchDeleteImage: batchDeleteImage,
      ListImages: listImages,
      DescribeImages: describeImages,
      ListImageReferrers: listImageReferrers,
      UpdateImageStorageClass: updateImageStorageClass,
      StartImageScan: startImageScan,
      DescribeImageScanFindings: describeImageScanFindings,
      DescribeImageReplicationStatus: describeImageReplicationStatus,
      DescribeImageSigningStatus: describeImageSigningStatus,
    },
    'ecr-public': {
      PutImage: putImage,
      BatchDeleteImage: batchDeleteImage,
      DescribeImages: describeImages,
      DescribeImageTags: describeImageTags,
    },
  };
}

function isIndexRecord(record: ImageRecord): boolean {
  return record.mediaType === MediaType.ociIndex || record.mediaType === MediaType.dockerManifestList;
}

/** An index's size, as ECR gives it: that of the largest image it lists. */
async function indexSize(metadata: MetadataStore, repositoryId: number, digest: string): Promise<number> {
  const record = await metadata.getManifest(repositoryId, digest);
  if (!record) return 0;
  const children = parseManifest(record.content, record.mediaType).references.map((r) => r.digest);
  if (children.length === 0) return 0;
  const { items } = await metadata.describeImages(repositoryId, { digests: children });
  return Math.max(0, ...items.map((i) => i.blobsSize));
}
