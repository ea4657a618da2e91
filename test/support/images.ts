/**
 * Test images built offline with umoci into an OCI image layout that skopeo
 * reads as `oci:<dir>:<tag>`:
 *
 * - `app`: linux/amd64, two layers: this machine's /var/lib/dpkg/status at
 *   /var/lib/dpkg/status, and a small text file unique to this build at
 *   /etc/berth-e2e.txt (layers carry fresh mtimes, so no registry or cache
 *   can already hold these blobs).
 * - `amd64`, `arm64`: the same pair per architecture (config architecture set
 *   with `umoci config --architecture`; the small file differs per arch).
 * - `multi`: an OCI image index over `amd64` and `arm64` with their
 *   platforms, written into the layout next to the images (umoci has no
 *   index command), for `skopeo copy --all`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface LayoutImage {
  /** `oci:<dir>:<tag>` */
  ref: string;
  tag: string;
  manifestDigest: string;
  manifest: ImageManifest;
  /** The config's architecture. */
  architecture: string;
}

export interface TestImages {
  layoutDir: string;
  /** Content of the small file in the `app` image (at /etc/berth-e2e.txt). */
  marker: string;
  app: LayoutImage;
  amd64: LayoutImage;
  arm64: LayoutImage;
  multi: { ref: string; tag: string; indexDigest: string; index: ImageIndex };
}

export const DPKG_STATUS = '/var/lib/dpkg/status';
/** Where the small per-build text file sits in the test images. */
export const MARKER_PATH = '/etc/berth-e2e.txt';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (!algorithm || !hex) throw new Error(`bad digest ${digest}`);
  return join(layoutDir, 'blobs', algorithm, hex);
}

export async function readLayoutIndex(layoutDir: string): Promise<ImageIndex> {
  return JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as ImageIndex;
}

export function readBlob(layoutDir: string, digest: string): Promise<Buffer> {
  return readFile(blobPath(layoutDir, digest));
}

/** The descriptor tagged `tag` in the layout's index.json. */
export async function layoutDescriptor(layoutDir: string, tag: string): Promise<Descriptor> {
  const index = await readLayoutIndex(layoutDir);
  const found = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!found) throw new Error(`no tag ${tag} in OCI layout ${layoutDir}`);
  return found;
}

/** The image manifest tagged `tag` in an OCI layout, with its digest. */
export async function readLayoutManifest(layoutDir: string, tag: string): Promise<{ digest: string; manifest: ImageManifest }> {
  const descriptor = await layoutDescriptor(layoutDir, tag);
  const raw = await readBlob(layoutDir, descriptor.digest);
  return { digest: descriptor.digest, manifest: JSON.parse(raw.toString('utf8')) as ImageManifest };
}

async function umoci(args: string[]): Promise<void> {
  await run('umoci', args, { timeoutMs: 120_000 });
}

/**
 * One image: `umoci new`, set os/architecture, then two layers made by
 * unpacking to a bundle, adding files to its rootfs and `umoci repack`ing
 * (umoci 0.4.7's `insert` writes tar layers without padding or end-of-archive
 * blocks, which tar(1) rejects; `repack` writes proper ones).
 */
async function buildImage(layoutDir: string, workDir: string, tag: string, architecture: string, marker: string): Promise<LayoutImage> {
  const image = `${layoutDir}:${tag}`;
  const bundle = join(workDir, `bundle-${tag}`);
  const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
  await umoci(['new', '--image', image]);
  await umoci(['config', '--image', image, '--os', 'linux', '--architecture', architecture, '--author', 'berth-e2e']);
  await umoci(['unpack', ...rootless, '--image', image, bundle]);
  const rootfs = join(bundle, 'rootfs');
  await mkdir(join(rootfs, 'var', 'lib', 'dpkg'), { recursive: true });
  await copyFile(DPKG_STATUS, join(rootfs, DPKG_STATUS));
  await umoci(['repack', '--refresh-bundle', '--image', image, bundle]);
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, MARKER_PATH), marker);
  await umoci(['repack', '--image', image, bundle]);
  await rm(bundle, { recursive: true, force: true });
  const { digest, manifest } = await readLayoutManifest(layoutDir, tag);
  if (manifest.layers.length !== 2) throw new Error(`umoci built ${manifest.layers.length} layers for ${tag}, expected 2`);
  return { ref: `oci:${layoutDir}:${tag}`, tag, manifestDigest: digest, manifest, architecture };
}

/** Adds an image index over `children` to the layout, tagged `tag`. */
async function addIndex(layoutDir: string, tag: string, children: LayoutImage[]): Promise<TestImages['multi']> {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: await Promise.all(
      children.map(async (child) => ({
        mediaType: OCI_MANIFEST,
        digest: child.manifestDigest,
        size: (await readBlob(layoutDir, child.manifestDigest)).length,
        platform: { architecture: child.architecture, os: 'linux' },
      })),
    ),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const digest = sha256(bytes);
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(blobPath(layoutDir, digest), bytes);
  const top = await readLayoutIndex(layoutDir);
  top.manifests.push({ mediaType: OCI_INDEX, digest, size: bytes.length, annotations: { [REF_NAME]: tag } });
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(top));
  return { ref: `oci:${layoutDir}:${tag}`, tag, indexDigest: digest, index };
}

/** Builds all test images into `<workDir>/layout`. */
export async function buildTestImages(workDir: string): Promise<TestImages> {
  const layoutDir = join(workDir, 'layout');
  await umoci(['init', '--layout', layoutDir]);
  const build = randomUUID();
  const marker = `berth e2e test image ${build}\n`;
  const app = await buildImage(layoutDir, workDir, 'app', 'amd64', marker);
  const amd64 = await buildImage(layoutDir, workDir, 'amd64', 'amd64', `berth e2e amd64 ${build}\n`);
  const arm64 = await buildImage(layoutDir, workDir, 'arm64', 'arm64', `berth e2e arm64 ${build}\n`);
  const multi = await addIndex(layoutDir, 'multi', [amd64, arm64]);
  return { layoutDir, marker, app, amd64, arm64, multi };
}

/** Extracts one file from a gzip-compressed tar layer with tar(1), into `outDir`, and reads it. */
export async function fileFromLayer(layerPath: string, member: string, outDir: string): Promise<Buffer> {
  const name = member.replace(/^\/+/, '');
  await mkdir(outDir, { recursive: true });
  await run('tar', ['-xzf', layerPath, '-C', outDir, name], { timeoutMs: 60_000 });
  return readFile(join(outDir, name));
}
