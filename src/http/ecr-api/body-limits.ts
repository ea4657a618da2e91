import { MAX_MANIFEST_BYTES } from '../../registry/manifest.js';
import { AwsError, type BodyLimit } from '../aws-common.js';
import { UPLOAD_LAYER_PART_BODY_LIMIT } from './layers.js';

/**
 * PutImage carries a manifest of up to 4 MiB (ECR's limit, and /v2/'s) as a
 * JSON string, in which a character takes at most 4 bytes (escaped or
 * UTF-8): the request may be that and a little more. The manifest's own
 * length is then checked against the model.
 */
const PUT_IMAGE_BODY_LIMIT: BodyLimit = {
  bytes: 4 * MAX_MANIFEST_BYTES + 64 * 1024,
  exceeded: () => new AwsError('InvalidParameterException', `Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length less than or equal to ${MAX_MANIFEST_BYTES}'`, 400),
};

/** Request body limits that differ from the default 1 MiB, by operation (of either service). */
export const REQUEST_BODY_LIMITS: ReadonlyMap<string, BodyLimit> = new Map([
  ['UploadLayerPart', UPLOAD_LAYER_PART_BODY_LIMIT],
  ['PutImage', PUT_IMAGE_BODY_LIMIT],
]);
