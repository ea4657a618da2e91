import { parseDigest } from '../digest.js';
import { RegistryError } from '../errors.js';
import type { ManifestReference } from '../storage/metadata-store.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = Object.values(MediaType);
const INDEX_MEDIA_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);

/** Layers of these types live elsewhere (`urls`); a registry need not hold them. */
const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  mediaType: string;
  isIndex: boolean;
  references: ManifestReference[];
  subject: Descriptor | undefined;
  artifactType: string | null;
  annotations: Record<string, string> | undefined;
}

function invalid(reason: string): never {
  throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${reason}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') invalid(`${where}.mediaType must be a string`);
  if (typeof digest !== 'string' || !parseDigest(digest)) invalid(`${where}.digest is not a valid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`${where}.size must be a non-negative integer`);
  const result: Descriptor = { mediaType, digest, size };
  if (Array.isArray(value.urls)) result.urls = value.urls.filter((u): u is string => typeof u === 'string');
  if (typeof value.artifactType === 'string') result.artifactType = value.artifactType;
  if (isObject(value.annotations)) result.annotations = stringMap(value.annotations, `${where}.annotations`);
  return result;
}

function stringMap(value: Record<string, unknown>, where: string): Record<string, string> {
  for (const v of Object.values(value)) if (typeof v !== 'string') invalid(`${where} values must be strings`);
  return value as Record<string, string>;
}

/**
 * Parses and validates a pushed manifest. `contentType` is the request's
 * Content-Type; when the body names a `mediaType` the two must agree.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    invalid('body is not valid JSON');
  }
  if (!isObject(body)) invalid('body must be a JSON object');
  if (body.schemaVersion !== 2) invalid('schemaVersion must be 2');

  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const headerNamesManifest = header !== undefined && MANIFEST_MEDIA_TYPES.includes(header);
  if (declared && headerNamesManifest && declared !== header) {
    invalid(`mediaType '${declared}' does not match Content-Type '${header}'`);
  }
  const mediaType = declared ?? (headerNamesManifest ? header : Array.isArray(body.manifests) ? MediaType.ociIndex : MediaType.ociManifest);
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) invalid(`unsupported manifest media type '${mediaType}'`);

  const isIndex = INDEX_MEDIA_TYPES.has(mediaType);
  const references: ManifestReference[] = [];
  let artifactType: string | null = typeof body.artifactType === 'string' && body.artifactType !== '' ? body.artifactType : null;

  if (isIndex) {
    if (!Array.isArray(body.manifests)) invalid('an index must have a manifests array');
    body.manifests.forEach((m, i) => references.push({ digest: descriptor(m, `manifests[${i}]`).digest, kind: 'manifest' }));
  } else {
    const config = descriptor(body.config, 'config');
    references.push({ digest: config.digest, kind: 'blob' });
    if (!Array.isArray(body.layers)) invalid('layers must be an array');
    body.layers.forEach((l, i) => {
      const layer = descriptor(l, `layers[${i}]`);
      if (!FOREIGN_LAYER_TYPES.has(layer.mediaType)) references.push({ digest: layer.digest, kind: 'blob' });
    });
    // The referrers API reports the config's media type when a manifest names no artifactType.
    if (artifactType === null) artifactType = config.mediaType;
  }

  const subject = body.subject === undefined ? undefined : descriptor(body.subject, 'subject');
  const annotations = isObject(body.annotations) ? stringMap(body.annotations, 'annotations') : undefined;
  return { mediaType, isIndex, references: dedupe(references), subject, artifactType, annotations };
}

function dedupe(references: ManifestReference[]): ManifestReference[] {
  const seen = new Set<string>();
  return references.filter((r) => {
    const key = `${r.kind}:${r.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * True when the client's Accept header allows this media type. A client that
 * names no manifest type at all (or a wildcard) accepts anything.
 */
export function acceptsMediaType(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const types = accept.split(',').map((part) => part.split(';')[0]?.trim().toLowerCase() ?? '');
  if (types.includes(mediaType) || types.includes('*/*')) return true;
  return !types.some((t) => MANIFEST_MEDIA_TYPES.includes(t));
}
