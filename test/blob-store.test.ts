import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { BlobStore } from '../src/storage/blob-store.js';
import { FsBlobStore } from '../src/storage/fs-blob-store.js';

const sha256 = (data: Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function failingStream(first: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
      } else {
        this.destroy(new Error('client went away'));
      }
    },
  });
}

/** The contract every BlobStore implementation must meet. */
function runBlobStoreSuite(name: string, open: () => Promise<{ store: BlobStore; cleanup: () => Promise<void> }>): void {
  describe(`BlobStore: ${name}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(async () => cleanup());

    async function commit(data: Buffer): Promise<string> {
      const id = randomUUID();
      await store.startUpload(id);
      await store.appendUpload(id, 0, Readable.from([data]));
      const digest = sha256(data);
      await store.commitUpload(id, digest, data.length);
      return digest;
    }

    test('an absent blob has no size and cannot be read', async () => {
      const digest = sha256(Buffer.from('absent'));
      assert.equal(await store.stat(digest), undefined);
      await assert.rejects(store.read(digest), { code: 'BLOB_UNKNOWN' });
    });

    test('appends in order, reports every byte to onChunk, and commits atomically', async () => {
      const data = randomBytes(300_000);
      const id = randomUUID();
      await store.startUpload(id);
      const hash = createHash('sha256');
      assert.equal(await store.appendUpload(id, 0, Readable.from([data.subarray(0, 100_000)]), (c) => hash.update(c)), 100_000);
      assert.equal(await store.appendUpload(id, 100_000, Readable.from([data.subarray(100_000)]), (c) => hash.update(c)), 200_000);
      const digest = `sha256:${hash.digest('hex')}`;
      assert.equal(digest, sha256(data));
      assert.deepEqual(await readAll(await store.readUpload(id, data.length)), data);
      assert.equal(await store.stat(digest), undefined, 'not visible before commit');
      await store.commitUpload(id, digest, data.length);
      assert.equal(await store.stat(digest), data.length);
      assert.deepEqual(await readAll(await store.read(digest)), data);
    });

    test('reads an inclusive byte range', async () => {
      const digest = await commit(Buffer.from('0123456789'));
      assert.equal((await readAll(await store.read(digest, { start: 3, end: 6 }))).toString(), '3456');
    });

    test('an append at the wrong offset is refused', async () => {
      const id = randomUUID();
      await store.startUpload(id);
      await store.appendUpload(id, 0, Readable.from([Buffer.from('abc')]));
      await assert.rejects(store.appendUpload(id, 10, Readable.from([Buffer.from('x')])), { code: 'RANGE_INVALID' });
      await store.abortUpload(id);
    });

    test('a failed append leaves the upload at its previous size', async () => {
      const id = randomUUID();
      await store.startUpload(id);
      await store.appendUpload(id, 0, Readable.from([Buffer.from('keep')]));
      await assert.rejects(store.appendUpload(id, 4, failingStream(randomBytes(70_000))));
      assert.equal((await readAll(await store.readUpload(id, 4))).toString(), 'keep');
      await store.appendUpload(id, 4, Readable.from([Buffer.from('!')]));
      assert.equal((await readAll(await store.readUpload(id, 5))).toString(), 'keep!');
      await store.abortUpload(id);
    });

    test('bytes past the acknowledged length are never read back nor committed', async () => {
      const id = randomUUID();
      await store.startUpload(id);
      // As after a crash mid-chunk: the store holds 11 bytes, only 6 were acknowledged.
      await store.appendUpload(id, 0, Readable.from([Buffer.from('hello world')]));
      const acknowledged = Buffer.from('hello ');
      assert.deepEqual(await readAll(await store.readUpload(id, 6)), acknowledged);
      const digest = sha256(acknowledged);
      await store.commitUpload(id, digest, 6);
      assert.equal(await store.stat(digest), 6);
      assert.deepEqual(await readAll(await store.read(digest)), acknowledged);
    });

    test('committing content that already exists keeps one copy and discards the upload', async () => {
      const data = randomBytes(1000);
      const first = await commit(data);
      const second = await commit(data);
      assert.equal(first, second);
      assert.deepEqual(await readAll(await store.read(first)), data);
    });

    test('abort removes the staging area; unknown or malformed upload ids are refused', async () => {
      const id = randomUUID();
      await store.startUpload(id);
      await store.abortUpload(id);
      await assert.rejects(store.appendUpload(id, 0, Readable.from([Buffer.from('x')])), { code: 'BLOB_UPLOAD_UNKNOWN' });
      await assert.rejects(store.appendUpload('../../etc', 0, Readable.from([Buffer.from('x')])), { code: 'BLOB_UPLOAD_UNKNOWN' });
      await assert.rejects(store.read('sha256:../../../etc/passwd'), { code: 'DIGEST_INVALID' });
    });

    test('lists uploads idle since before a cutoff', async () => {
      const id = randomUUID();
      await store.startUpload(id);
      assert.ok(!(await store.listUploadsOlderThan(Date.now() - 60_000)).includes(id));
      assert.ok((await store.listUploadsOlderThan(Date.now() + 60_000)).includes(id));
      await store.abortUpload(id);
    });

    test('delete removes a committed blob', async () => {
      const digest = await commit(randomBytes(10));
      await store.delete(digest);
      assert.equal(await store.stat(digest), undefined);
    });
  });
}

runBlobStoreSuite('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-blobs-'));
  const store = await FsBlobStore.open(root);
  return {
    store,
    async cleanup() {
      // Every test aborted or committed its uploads: nothing may be left staged.
      assert.deepEqual(await readdir(join(root, 'uploads')), []);
      await rm(root, { recursive: true, force: true });
    },
  };
});
