import { MODELS } from '../../aws/operations.js';
import { encodeNextToken, readPageRequest, type PagePosition } from '../../aws/pagination.js';
import { isTag } from '../../names.js';
import type { MetadataStore, Repository } from '../../storage/metadata-store.js';
import type { RepositoryAddress } from '../addressing.js';
import { AwsError } from '../aws-common.js';
import type { EcrCall } from './call.js';

/** What the image and layer handler groups share. */

/** `ImageIdentifier` as the models define it. */
export interface ImageIdentifier {
  imageDigest?: string;
  imageTag?: string;
}

/** ECR's `LayerDigest` / image digest pattern; the models leave `ImageDigest` unconstrained and ECR checks it itself. */
export const DIGEST_PATTERN = /^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/;
const DIGEST_PATTERN_TEXT = '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+';
const TAG_PATTERN_TEXT = '[a-zA-Z0-9-_.]+';

/** The repository the call names, which must exist (no image or layer operation creates one). */
export async function existingRepository(metadata: MetadataStore, call: EcrCall): Promise<{ address: RepositoryAddress; repository: Repository }> {
  const address = call.repository as RepositoryAddress;
  const repository = await metadata.getRepository(address.qualified);
  if (!repository) throw AwsError.of('NAME_UNKNOWN', `The repository with name '${address.name}' does not exist in the registry with id '${call.registryId}'`);
  return { address, repository };
}

export function invalidParameter(member: string, constraint: string): AwsError {
  return AwsError.of('INVALID_PARAMETER', `Invalid parameter at '${member}' failed to satisfy constraint: '${constraint}'`);
}

/** `{imageDigest:'…', imageTag:'…'}`, as ECR writes an image id into its messages. */
export function imageIdText(id: ImageIdentifier): string {
  return `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;
}

export function imageNotFound(id: ImageIdentifier, call: EcrCall): AwsError {
  const name = (call.repository as RepositoryAddress).name;
  return AwsError.of('MANIFEST_UNKNOWN', `The image with imageId ${imageIdText(id)} does not exist within the repository with name '${name}' in the registry with id '${call.registryId}'`);
}

/** An image id that names an image of the repository, and whether that image is archived. */
export interface ResolvedImage {
  digest: string;
  /** The tag the id named, if it named one. */
  tag: string | undefined;
  archived: boolean;
}

/** Why an image id names no image, with ECR's `ImageFailureCode`. */
export interface ImageIdFailure {
  failureCode: 'MissingDigestAndTag' | 'InvalidImageDigest' | 'InvalidImageTag' | 'ImageNotFound' | 'ImageTagDoesNotMatchDigest';
  failureReason: string;
}

const NOT_FOUND: ImageIdFailure = { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };

/**
 * Resolves an image id the way ECR's batch operations do: a tag names the
 * image it is on, a digest the image itself; with both, the tag must be on
 * that digest (else ImageTagDoesNotMatchDigest, or ImageNotFound when the
 * tag does not exist).
 */
export async function resolveImageId(metadata: MetadataStore, qualifiedName: string, id: ImageIdentifier): Promise<ResolvedImage | ImageIdFailure> {
  const { imageDigest, imageTag } = id;
  if (imageDigest === undefined && imageTag === undefined) {
    return { failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' };
  }
  if (imageDigest !== undefined && !DIGEST_PATTERN.test(imageDigest)) {
    return { failureCode: 'InvalidImageDigest', failureReason: `Invalid request parameters: image digest should satisfy the regex '${DIGEST_PATTERN_TEXT}'` };
  }
  if (imageTag !== undefined && !isTag(imageTag)) {
    return { failureCode: 'InvalidImageTag', failureReason: `Invalid request parameters: image tag should satisfy the regex '${TAG_PATTERN_TEXT}'` };
  }
  const resolved = await metadata.resolveManifest(qualifiedName, imageTag !== undefined ? { tag: imageTag } : { digest: imageDigest as string });
  if (!resolved?.digest) return NOT_FOUND;
  if (imageDigest !== undefined && resolved.digest !== imageDigest) {
    return { failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid request parameters: given tag does not map to the given digest' };
  }
  return { digest: resolved.digest, tag: imageTag, archived: resolved.archived };
}

export function isFailure(result: ResolvedImage | ImageIdFailure): result is ImageIdFailure {
  return 'failureCode' in result;
}

/**
 * One image, for the operations that act on a single `imageId`: a bad id is
 * InvalidParameterException, an id that names no image ImageNotFoundException.
 */
export async function requireImage(metadata: MetadataStore, call: EcrCall, id: ImageIdentifier): Promise<ResolvedImage> {
  const result = await resolveImageId(metadata, (call.repository as RepositoryAddress).qualified, id);
  if (!isFailure(result)) return result;
  switch (result.failureCode) {
    case 'MissingDigestAndTag':
      throw invalidParameter('imageId', 'both tag and digest cannot be null');
    case 'InvalidImageDigest':
      throw invalidParameter('imageId.imageDigest', `must satisfy regular expression '${DIGEST_PATTERN_TEXT}'`);
    case 'InvalidImageTag':
      throw invalidParameter('imageId.imageTag', `must satisfy regular expression '${TAG_PATTERN_TEXT}'`);
    default:
      throw imageNotFound(id, call);
  }
}

/** `{imageDigest, imageTag}` with the tag only when there is one. */
export function imageId(digest: string, tag: string | null | undefined): ImageIdentifier {
  return tag === null || tag === undefined ? { imageDigest: digest } : { imageDigest: digest, imageTag: tag };
}

/**
 * The page a paginated call asks for, with tokens bound to the operation,
 * the repository and `filters`; `next(position)` makes the token for the
 * page after.
 */
export function pageOf(call: EcrCall, apiSigningKey: Uint8Array, filters: PagePosition): { limit: number; position: PagePosition | undefined; next: (position: PagePosition) => string } {
  const scope = JSON.stringify([call.service, call.operation, (call.repository as RepositoryAddress).qualified, filters]);
  const request = readPageRequest(MODELS[call.service], call.operation, call.input, apiSigningKey, scope);
  if (!request.ok) throw new AwsError(request.error.type, request.error.message, 400);
  return { limit: request.limit, position: request.position, next: (position) => encodeNextToken(apiSigningKey, scope, position) };
}
