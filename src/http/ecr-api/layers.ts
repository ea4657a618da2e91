import { Readable } from 'node:stream';
import { parseDigest } from '../../digest.js';
import { isRegistryError } from '../../errors.js';
import { AwsError, type BodyLimit } from '../aws-common.js';
import { downloadUrl } from '../download-url.js';
import type { EcrApiDeps, EcrHandler, EcrHandlers } from './call.js';
import { DIGEST_PATTERN, existingRepository } from './image-common.js';

/**
 * The part size InitiateLayerUpload announces, and the largest part
 * UploadLayerPart takes: ECR's 10 MiB ("maximum layer part size" in its
 * service quotas; a larger part is LimitExceededException, as a quota is).
 */
export const LAYER_PART_SIZE = 10 * 1024 * 1024;

/**
 * UploadLayerPart reads up to 20 MiB of request, the most its API reference
 * allows: enough for a largest part, base64-encoded, and the other members.
 * Every other operation reads at most 1 MiB (src/http/aws-common.ts).
 */
export const UPLOAD_LAYER_PART_BODY_LIMIT: BodyLimit = {
  bytes: 20 * 1024 * 1024,
  exceeded: () => layerPartTooLarge('The request is larger than the 20971520 bytes UploadLayerPart accepts'),
};

function layerPartTooLarge(what: string): AwsError {
  return new AwsError('LimitExceededException', `${what}; a layer part may be at most ${LAYER_PART_SIZE} bytes`, 400);
}

/**
 * The layer operations of ECR and ECR Public. They drive the registry
 * core's uploads, the same sessions and blob links as `/v2/`, so a layer
 * uploaded one way is visible the other way. GetDownloadUrlForLayer (ECR
 * only) answers with a signed, expiring URL served by src/http/download-url.ts.
 */
export function layerHandlers(deps: EcrApiDeps): EcrHandlers {
  const { metadata, registry, serverKey, registryPort } = deps;

  const batchCheckLayerAvailability: EcrHandler = async (call) => {
    const { repository } = await existingRepository(metadata, call);
    const layers: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    for (const layerDigest of call.input.layerDigests as readonly string[]) {
      if (!DIGEST_PATTERN.test(layerDigest)) {
        failures.push({ layerDigest, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
        continue;
      }
      const blob = parseDigest(layerDigest) ? await metadata.getLinkedBlob(repository.id, layerDigest) : undefined;
      if (blob) layers.push({ layerDigest, layerAvailability: 'AVAILABLE', layerSize: blob.size });
      else failures.push({ layerDigest, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' });
    }
    return { layers, failures };
  };

  const initiateLayerUpload: EcrHandler = async (call) => {
    const { address } = await existingRepository(metadata, call);
    const upload = await registry.startUpload(address.qualified);
    return { uploadId: upload.id, partSize: LAYER_PART_SIZE };
  };

  const uploadLayerPart: EcrHandler = async (call) => {
    const { address } = await existingRepository(metadata, call);
    const uploadId = call.input.uploadId as string;
    const first = call.input.partFirstByte as number;
    const last = call.input.partLastByte as number;
    const blob = call.input.layerPartBlob as Buffer;
    const { size } = await uploadState(address.qualified, uploadId, address.name, call.registryId);
    if (blob.length > LAYER_PART_SIZE) throw layerPartTooLarge(`The layer part is ${blob.length} bytes`);
    const refuse = (why: string): AwsError =>
      new AwsError('InvalidLayerPartException', `${why} (upload '${uploadId}' in the repository with name '${address.name}', lastValidByteReceived: ${size - 1})`, 400, {
        registryId: call.registryId,
        repositoryName: address.name,
        uploadId,
        // Nothing received yet leaves no valid byte to name (the member's shape has no negative values).
        ...(size > 0 ? { lastValidByteReceived: size - 1 } : {}),
      });
    if (first !== size) throw refuse(`The part's first byte ${first} does not follow the last byte received, ${size - 1}`);
    if (last - first + 1 !== blob.length) throw refuse(`The part spans bytes ${first}-${last} but carries ${blob.length} bytes`);
    try {
      const state = await registry.appendUpload(address.qualified, uploadId, Readable.from([blob]), { start: first, end: last }, blob.length);
      return { registryId: call.registryId, repositoryName: address.name, uploadId, lastByteReceived: state.size - 1 };
    } catch (err) {
      // Another request appended to the upload meanwhile.
      if (isRegistryError(err) && err.code === 'RANGE_INVALID') throw refuse(err.message);
      throw err;
    }
  };

  const completeLayerUpload: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const uploadId = call.input.uploadId as string;
    const digests = call.input.layerDigests as readonly string[];
    const layerDigest = digests[0] as string;
    const { size } = await uploadState(address.qualified, uploadId, address.name, call.registryId);
    if (size === 0) throw new AwsError('EmptyUploadException', `The layer upload '${uploadId}' in the repository with name '${address.name}' does not contain any layer parts`, 400);
    if (digests.some((d) => d !== layerDigest)) throw new AwsError('InvalidLayerException', `The layer digests [${digests.join(', ')}] name more than one layer`, 400);
    if (parseDigest(layerDigest) && (await metadata.getLinkedBlob(repository.id, layerDigest))) {
      await registry.cancelUpload(address.qualified, uploadId);
      throw new AwsError('LayerAlreadyExistsException', `The layer '${layerDigest}' already exists in the repository with name '${address.name}' in the registry with id '${call.registryId}'`, 400);
    }
    // A digest that does not match the bytes is InvalidLayerException (DIGEST_INVALID) and ends the upload, as on /v2/.
    await registry.completeUpload(address.qualified, uploadId, layerDigest, undefined);
    return { registryId: call.registryId, repositoryName: address.name, uploadId, layerDigest };
  };

  /** Only layers an image of the repository references can be downloaded (as in ECR). */
  const getDownloadUrlForLayer: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(metadata, call);
    const layerDigest = call.input.layerDigest as string;
    const blob = parseDigest(layerDigest) ? await metadata.getLinkedBlob(repository.id, layerDigest) : undefined;
    if (!blob) {
      throw AwsError.of('BLOB_UNKNOWN', `The specified layer '${layerDigest}' does not exist in the repository with name '${address.name}' in the registry with id '${call.registryId}'`);
    }
    if (!(await metadata.isBlobReferenced(repository.id, layerDigest))) {
      throw new AwsError('LayerInaccessibleException', `The layer '${layerDigest}' is not referenced by any image in the repository with name '${address.name}'`, 400);
    }
    return { downloadUrl: downloadUrl(call.request, registryPort, serverKey.apiSigningKey, address.qualified, layerDigest), layerDigest };
  };

  /** The upload's size so far; UploadNotFoundException if it is not an upload of this repository. */
  const uploadState = async (qualified: string, uploadId: string, name: string, registryId: string): Promise<{ size: number }> => {
    try {
      return await registry.uploadStatus(qualified, uploadId);
    } catch (err) {
      if (isRegistryError(err) && err.code === 'BLOB_UPLOAD_UNKNOWN') {
        throw AwsError.of('BLOB_UPLOAD_UNKNOWN', `The upload with id '${uploadId}' does not exist in the repository with name '${name}' in the registry with id '${registryId}'`);
      }
      throw err;
    }
  };

  const uploadHandlers = {
    BatchCheckLayerAvailability: batchCheckLayerAvailability,
    InitiateLayerUpload: initiateLayerUpload,
    UploadLayerPart: uploadLayerPart,
    CompleteLayerUpload: completeLayerUpload,
  };
  return { ecr: { ...uploadHandlers, GetDownloadUrlForLayer: getDownloadUrlForLayer }, 'ecr-public': uploadHandlers };
}
