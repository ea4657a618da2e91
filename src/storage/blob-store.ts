import type { Readable } from 'node:stream';

/**
 * The blob store: content-addressed bytes, one copy per digest for the whole
 * server, plus a staging area for uploads in progress. It knows nothing of
 * repositories or permissions; the registry core and the metadata store do.
 *
 * Implementations: the filesystem (`fs-blob-store.ts`). An S3 implementation
 * maps uploads to multipart uploads and answers `downloadUrl` with presigned
 * GETs; nothing above this interface needs to change for it.
 * Every implementation runs `test/blob-store.test.ts`.
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined if it is absent. */
  stat(digest: string): Promise<number | undefined>;
  /** Streams a committed blob, or the inclusive byte range `[start, end]` of it. */
  read(digest: string, range?: { start: number; end: number }): Promise<Readable>;
  /**
   * A URL clients may fetch the blob from directly (e.g. presigned S3), or
   * undefined when the server should stream it itself.
   */
  downloadUrl(digest: string): Promise<string | undefined>;
  delete(digest: string): Promise<void>;

  /** Opens an empty staging area for an upload. */
  startUpload(uploadId: string): Promise<void>;
  /**
   * Appends the stream to the upload, which must hold exactly `offset` bytes.
   * `onChunk` sees every byte as it is written (to hash while streaming).
   * Resolves with the number of bytes appended. A failed append leaves the
   * upload at `offset`.
   */
  appendUpload(uploadId: string, offset: number, source: Readable, onChunk?: (chunk: Buffer) => void): Promise<number>;
  /**
   * Streams the first `length` bytes of an upload (to re-hash it when no hash
   * state survived). Bytes past `length` were never acknowledged to a client.
   */
  readUpload(uploadId: string, length: number): Promise<Readable>;
  /**
   * Makes the upload's first `length` bytes durable and visible as `digest`
   * (atomic: the blob is either absent or complete); anything past `length`
   * is dropped. The caller has verified the digest of those bytes. If the
   * blob already exists the upload is discarded.
   */
  commitUpload(uploadId: string, digest: string, length: number): Promise<void>;
  abortUpload(uploadId: string): Promise<void>;
  /** Upload ids whose staging area has not been written since `before` (ms epoch). */
  listUploadsOlderThan(before: number): Promise<string[]>;
}
