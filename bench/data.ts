/**
 * Test data: large random blob files written once (digests computed while
 * writing, so no workload holds a large blob in memory), and small images
 * (layer, config, OCI manifest) built in memory.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import { MiB } from './config.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface BlobFile {
  path: string;
  size: number;
  digest: string;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Writes `size` random bytes to `path` and answers their digest. */
export async function createBlobFile(path: string, size: number): Promise<BlobFile> {
  const chunk = Buffer.allocUnsafe(4 * MiB);
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      const view = chunk.subarray(0, n);
      randomFillSync(view);
      hash.update(view);
      await file.write(view);
      left -= n;
    }
  } finally {
    await file.close();
  }
  return { path, size, digest: `sha256:${hash.digest('hex')}` };
}

export interface Blob {
  data: Buffer;
  digest: string;
}

export interface SmallImage {
  repo: string;
  tag: string;
  layer: Blob;
  config: Blob;
  manifest: Blob;
}

function blob(data: Buffer): Blob {
  return { data, digest: sha256(data) };
}

/** An OCI image manifest over one config and one layer, as canonical JSON bytes. */
export function manifestFor(config: Blob, layer: Blob): Blob {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.data.length },
    layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.data.length }],
  };
  return blob(Buffer.from(JSON.stringify(manifest)));
}

/** A distinct small image: a random layer of `layerBytes` and a config naming it. */
export function makeSmallImage(repo: string, tag: string, layerBytes: number): SmallImage {
  const layer = blob(randomFillSync(Buffer.alloc(layerBytes)));
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: [`BENCH_IMAGE=${repo}:${tag}`] },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  return { repo, tag, layer, config, manifest: manifestFor(config, layer) };
}
