import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../digest.js';
import { RegistryError } from '../errors.js';
import type { BlobStore } from './blob-store.js';

const UPLOAD_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Blobs on a local filesystem:
 *   <root>/blobs/<algorithm>/<first two hex>/<hex>   committed, immutable
 *   <root>/uploads/<upload id>                        staging, one file per upload
 * Paths are built only from validated digests and upload ids, so no request
 * can name a path outside the root. Both trees are on one filesystem, so a
 * commit is an fsync followed by an atomic rename.
 */
export class FsBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;

  private constructor(root: string) {
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
  }

  static async open(root: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(root);
    await mkdir(store.blobsDir, { recursive: true });
    await mkdir(store.uploadsDir, { recursive: true });
    return store;
  }

  private blobPath(digest: string): string {
    const parsed = parseDigest(digest);
    if (!parsed) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${digest.slice(0, 200)}`);
    return join(this.blobsDir, parsed.algorithm, parsed.hex.slice(0, 2), parsed.hex);
  }

  private uploadPath(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return join(this.uploadsDir, uploadId);
  }

  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    const handle = await open(this.blobPath(digest), 'r').catch((err: unknown) => {
      if (isNotFound(err)) throw new RegistryError('BLOB_UNKNOWN');
      throw err;
    });
    return createReadStream('', { fd: handle, autoClose: true, start: range?.start, end: range?.end, highWaterMark: 1024 * 1024 });
  }

  async downloadUrl(): Promise<string | undefined> {
    return undefined;
  }

  async delete(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async startUpload(uploadId: string): Promise<void> {
    const handle = await open(this.uploadPath(uploadId), 'wx');
    await handle.close();
  }

  async appendUpload(uploadId: string, offset: number, source: Readable, onChunk?: (chunk: Buffer) => void): Promise<number> {
    const path = this.uploadPath(uploadId);
    const current = await stat(path).catch((err: unknown) => {
      if (isNotFound(err)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
      throw err;
    });
    if (current.size !== offset) {
      // A previous append died part-way; what it wrote past `offset` was never acknowledged.
      if (current.size > offset) await truncate(path, offset);
      else throw new RegistryError('RANGE_INVALID', `upload holds ${current.size} bytes, expected ${offset}`);
    }
    let written = 0;
    const out = createWriteStream(path, { flags: 'r+', start: offset, highWaterMark: 1024 * 1024 });
    try {
      await pipeline(source, async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          written += chunk.length;
          onChunk?.(chunk);
          yield chunk;
        }
      }, out);
    } catch (err) {
      await truncate(path, offset).catch(() => undefined);
      throw err;
    }
    return written;
  }

  async readUpload(uploadId: string, length: number): Promise<Readable> {
    if (length === 0) return Readable.from([]);
    return createReadStream(this.uploadPath(uploadId), { start: 0, end: length - 1, highWaterMark: 1024 * 1024 });
  }

  async commitUpload(uploadId: string, digest: string, length: number): Promise<void> {
    const source = this.uploadPath(uploadId);
    const target = this.blobPath(digest);
    if ((await this.stat(digest)) !== undefined) {
      await rm(source, { force: true });
      return;
    }
    const handle = await open(source, 'r+');
    try {
      if ((await handle.stat()).size !== length) await handle.truncate(length);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const dir = join(target, '..');
    await mkdir(dir, { recursive: true });
    await rename(source, target);
    await syncDirectory(dir);
  }

  async abortUpload(uploadId: string): Promise<void> {
    await rm(this.uploadPath(uploadId), { force: true });
  }

  async listUploadsOlderThan(before: number): Promise<string[]> {
    const old: string[] = [];
    for (const name of await readdir(this.uploadsDir)) {
      if (!UPLOAD_ID.test(name)) continue;
      const info = await stat(join(this.uploadsDir, name)).catch(() => undefined);
      if (info && info.mtimeMs < before) old.push(name);
    }
    return old;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
