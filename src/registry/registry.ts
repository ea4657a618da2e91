import { randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { digestOf, isForeignDigest, newHash, parseDigest, requireDigest } from '../digest.js';
import { RegistryError } from '../errors.js';
import { isTag, registryPrefix, requireQualifiedName, type RegistryRef } from '../names.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { BlobRecord, MetadataStore, Page, Repository, RepositorySettings, UploadSession } from '../storage/metadata-store.js';
import { parseManifest, type Descriptor, type ParsedManifest } from './manifest.js';
import { ManifestCache } from './manifest-cache.js';
import type { PullRecorder, PullTimeUpdateExclusionCheck } from './pull-recorder.js';

export interface UploadState {
  id: string;
  size: number;
}

/** Where a chunk goes, from its Content-Range: inclusive byte offsets. */
export interface ChunkRange {
  start: number;
  end: number;
}

export interface CommittedBlob {
  digest: string;
  size: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  content: Uint8Array;
  subject: string | undefined;
}

/** Hash state of an upload in progress, kept while the bytes stream in so the final PUT need not re-read them. */
interface RunningHash {
  hash: Hash;
  size: number;
}

/**
 * The registry core: the one place that knows the rules of repositories,
 * blobs, uploads, manifests and tags. HTTP surfaces translate requests into
 * these calls; the stores underneath only persist.
 */
export class Registry {
  private readonly runningHashes = new Map<string, RunningHash>();
  private readonly manifests = new ManifestCache(64 * 1024 * 1024);

  /**
   * `staleClaimMs`: a claim on an upload older than this was left by a writer
   * that died; another request may take the upload over. `pulls`, when
   * given, is told of every manifest read (for `lastRecordedPullTime`).
   */
  constructor(
    readonly metadata: MetadataStore,
    readonly blobs: BlobStore,
    private readonly staleClaimMs = 24 * 60 * 60 * 1000,
    private readonly pulls?: PullRecorder,
  ) {}

  // ---- repositories -------------------------------------------------------

  async repository(name: string): Promise<Repository> {
    const local = requireQualifiedName(name);
    const repository = await this.metadata.getRepository(name);
    if (!repository) throw new RegistryError('NAME_UNKNOWN', `repository name not known to registry: ${local}`);
    return repository;
  }

  /** Repositories are created by the first push to them. */
  private async repositoryForPush(name: string): Promise<Repository> {
    requireQualifiedName(name);
    return this.metadata.ensureRepository(name);
  }

  /** Qualified names of one registry's repositories (see src/names.ts), in lexical order. */
  listRepositories(registry: RegistryRef, limit: number, last?: string): Promise<Page<string>> {
    const prefix = registryPrefix(registry);
    return this.metadata.listRepositories(limit, last === undefined ? undefined : prefix + last, prefix);
  }

  // ---- blobs --------------------------------------------------------------

  async blob(name: string, digest: string): Promise<BlobRecord> {
    if (isForeignDigest(digest)) throw new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`);
    requireDigest(digest);
    const repository = await this.repository(name);
    const blob = await this.metadata.getLinkedBlob(repository.id, digest);
    if (!blob) throw new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`);
    return blob;
  }

  async deleteBlob(name: string, digest: string): Promise<void> {
    requireDigest(digest);
    const repository = await this.repository(name);
    if (!(await this.metadata.unlinkBlob(repository.id, digest))) {
      throw new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`);
    }
  }

  /**
   * Links a blob another repository holds into `name`, without copying it.
   * Returns undefined when the source does not hold it (the caller then
   * starts an ordinary upload, as the protocol requires).
   */
  async mountBlob(name: string, digest: string, from: string): Promise<CommittedBlob | undefined> {
    if (!parseDigest(digest)) return undefined;
    requireQualifiedName(name);
    const source = await this.metadata.getRepository(from);
    const blob = source && (await this.metadata.getLinkedBlob(source.id, digest));
    if (!blob) return undefined;
    const target = await this.repositoryForPush(name);
    await this.metadata.linkBlob(target.id, digest);
    return { digest, size: blob.size };
  }

  // ---- uploads ------------------------------------------------------------

  async startUpload(name: string): Promise<UploadState> {
    const repository = await this.repositoryForPush(name);
    const id = randomUUID();
    await this.blobs.startUpload(id);
    const now = Date.now();
    await this.metadata.createUpload({ id, repositoryId: repository.id, size: 0, startedAt: now, updatedAt: now });
    this.runningHashes.set(id, { hash: newHash('sha256'), size: 0 });
    return { id, size: 0 };
  }

  async uploadStatus(name: string, id: string): Promise<UploadState> {
    const session = await this.session(name, id);
    return { id, size: session.size };
  }

  /**
   * Appends a chunk. `range` is the chunk's place from Content-Range (when the
   * client sent one): it must start where the upload ends, since chunks
   * cannot arrive out of order, and span `length` bytes.
   */
  async appendUpload(name: string, id: string, body: Readable, range?: ChunkRange, length?: number): Promise<UploadState> {
    const session = await this.session(name, id);
    this.requireInOrder(session, range, length);
    const writer = await this.claim(session);
    let size: number;
    try {
      size = await this.writeChunk(session, body, length);
    } catch (err) {
      await this.metadata.releaseUpload(id, writer, session.size, Date.now()).catch(() => undefined);
      throw err;
    }
    if (!(await this.metadata.releaseUpload(id, writer, size, Date.now()))) {
      // A cleanup or a stale-claim takeover removed our claim: what we wrote may not stand.
      this.runningHashes.delete(id);
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload changed while this chunk was written');
    }
    return { id, size };
  }

  /** Finishes an upload (with an optional last chunk, placed by `range` as for appendUpload) and commits it as `digest`. */
  async completeUpload(name: string, id: string, digest: string, body: Readable | undefined, length?: number, range?: ChunkRange): Promise<CommittedBlob> {
    const parsed = requireDigest(digest);
    const session = await this.session(name, id);
    this.requireInOrder(session, range, length);
    // Held to the end: nothing may write to the staging area while it is verified and committed.
    const writer = await this.claim(session);
    const acknowledged = session.size;
    try {
      const size = body ? await this.writeChunk(session, body, length) : session.size;
      const actual = await this.uploadDigest(id, size, parsed.algorithm);
      if (actual !== digest) {
        await this.discardUpload(id);
        throw new RegistryError('DIGEST_INVALID', `provided digest ${digest} does not match uploaded content ${actual}`);
      }
      await this.blobs.commitUpload(id, digest, size);
      await this.metadata.putBlob(digest, size);
      await this.metadata.linkBlob(session.repositoryId, digest);
      await this.metadata.deleteUpload(id);
      this.runningHashes.delete(id);
      return { digest, size };
    } catch (err) {
      await this.metadata.releaseUpload(id, writer, acknowledged, Date.now()).catch(() => undefined);
      throw err;
    }
  }

  /** A whole blob in one request (`POST ?digest=`). */
  async pushBlob(name: string, digest: string, body: Readable, length?: number): Promise<CommittedBlob> {
    requireDigest(digest);
    const upload = await this.startUpload(name);
    try {
      return await this.completeUpload(name, upload.id, digest, body, length);
    } catch (err) {
      await this.discardUpload(upload.id).catch(() => undefined);
      throw err;
    }
  }

  async cancelUpload(name: string, id: string): Promise<void> {
    await this.session(name, id);
    await this.discardUpload(id);
  }

  /**
   * Removes uploads idle since before `cutoff` (ms epoch), up to `batch` per
   * call, and staging files no session owns.
   */
  async removeAbandonedUploads(cutoff: number, batch = 1000): Promise<number> {
    let removed = 0;
    for (const session of await this.metadata.listStaleUploads(cutoff, batch)) {
      await this.discardUpload(session.id);
      removed++;
    }
    for (const id of await this.blobs.listUploadsOlderThan(cutoff)) {
      if (!(await this.metadata.getUpload(id))) {
        await this.blobs.abortUpload(id);
        this.runningHashes.delete(id);
        removed++;
      }
    }
    return removed;
  }

  private async session(name: string, id: string): Promise<UploadSession> {
    const repository = await this.repository(name);
    const session = await this.metadata.getUpload(id);
    if (!session || session.repositoryId !== repository.id) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return session;
  }

  private requireInOrder(session: UploadSession, range: ChunkRange | undefined, length: number | undefined): void {
    if (!range) return;
    if (range.start !== session.size) {
      throw new RegistryError('RANGE_INVALID', `chunk starts at ${range.start}, upload holds ${session.size} bytes`, undefined, rangeHeader(session.size));
    }
    if (length !== undefined && range.end - range.start + 1 !== length) {
      throw new RegistryError('SIZE_INVALID', `Content-Range spans ${range.end - range.start + 1} bytes, Content-Length says ${length}`);
    }
  }

  /** Takes the upload for this request alone, or refuses with 416 if another request is writing to it. */
  private async claim(session: UploadSession): Promise<string> {
    const writer = randomUUID();
    const now = Date.now();
    if (!(await this.metadata.claimUpload(session.id, session.size, writer, now, now - this.staleClaimMs))) {
      throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload', undefined, rangeHeader(session.size));
    }
    return writer;
  }

  /** Writes a chunk at the end of a claimed upload, hashing it on the way when this process holds the hash state. */
  private async writeChunk(session: UploadSession, body: Readable, length: number | undefined): Promise<number> {
    const running = this.runningHashes.get(session.id);
    const hashing = running && running.size === session.size ? running : undefined;
    if (!hashing) this.runningHashes.delete(session.id);
    let written: number;
    try {
      written = await this.blobs.appendUpload(session.id, session.size, body, hashing && ((chunk) => hashing.hash.update(chunk)));
      if (length !== undefined && written !== length) {
        throw new RegistryError('SIZE_INVALID', `received ${written} bytes, Content-Length said ${length}`);
      }
    } catch (err) {
      // The hash may have seen bytes that are not acknowledged.
      this.runningHashes.delete(session.id);
      throw err;
    }
    const size = session.size + written;
    if (hashing) hashing.size = size;
    return size;
  }

  /** The digest of what the upload holds, from the running hash or, if that was lost, by re-reading it. */
  private async uploadDigest(id: string, size: number, algorithm: 'sha256' | 'sha512'): Promise<string> {
    const running = this.runningHashes.get(id);
    if (running && running.size === size && algorithm === 'sha256') {
      this.runningHashes.delete(id);
      return `sha256:${running.hash.digest('hex')}`;
    }
    const hash = newHash(algorithm);
    for await (const chunk of await this.blobs.readUpload(id, size)) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  private async discardUpload(id: string): Promise<void> {
    this.runningHashes.delete(id);
    await this.blobs.abortUpload(id);
    await this.metadata.deleteUpload(id);
  }

  // ---- manifests and tags ---------------------------------------------------

  /**
   * The hot path of every pull: one metadata lookup, content from the cache
   * when it can be. An archived manifest cannot be pulled: ECR answers 404
   * until it is restored. `isExcluded` tells whether the puller is excluded
   * from pull-time updates (see `pullManifest`).
   */
  async getManifest(name: string, reference: string, isExcluded?: PullTimeUpdateExclusionCheck): Promise<StoredManifest> {
    const local = requireQualifiedName(name);
    const byDigest = parseDigest(reference) !== undefined;
    // Neither a tag nor a digest we hold: nothing can be stored under it.
    if (!byDigest && !isTag(reference)) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference.slice(0, 200)}`);
    const resolved = await this.metadata.resolveManifest(name, byDigest ? { digest: reference } : { tag: reference });
    if (!resolved) throw new RegistryError('NAME_UNKNOWN', `repository name not known to registry: ${local}`);
    if (!resolved.digest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference}`);
    if (resolved.archived) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${resolved.digest} is archived; restore it to the STANDARD storage class to pull it`, { storageClass: 'ARCHIVE' });
    }
    const manifest = await this.pullManifest(resolved.repositoryId, resolved.digest, isExcluded);
    if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference}`);
    return manifest;
  }

  /**
   * A manifest the caller has resolved in the repository (and found not
   * archived), read as a pull: its pull time is recorded, unless
   * `isExcluded` resolves true (the registry excludes the puller from
   * pull-time updates). Content comes from the cache when it can; undefined
   * if it was deleted meanwhile.
   */
  async pullManifest(repositoryId: number, digest: string, isExcluded?: PullTimeUpdateExclusionCheck): Promise<StoredManifest | undefined> {
    let manifest = this.manifests.get(digest);
    if (!manifest) {
      const record = await this.metadata.getManifest(repositoryId, digest);
      if (!record) return undefined;
      manifest = { digest: record.digest, mediaType: record.mediaType, content: record.content, subjectDigest: record.subjectDigest };
      this.manifests.set(manifest);
    }
    this.pulls?.record(repositoryId, digest, Date.now(), isExcluded);
    return { digest: manifest.digest, mediaType: manifest.mediaType, content: manifest.content, subject: manifest.subjectDigest ?? undefined };
  }

  /**
   * Stores a manifest under a tag or a digest reference. Every blob and child
   * manifest it names must already be in the repository.
   */
  async putManifest(name: string, reference: string, content: Uint8Array, contentType: string | undefined): Promise<{ digest: string; parsed: ParsedManifest }> {
    const referenceDigest = parseDigest(reference);
    if (!referenceDigest && !isTag(reference)) {
      throw reference.includes(':')
        ? new RegistryError('DIGEST_INVALID', `invalid digest: ${reference.slice(0, 200)}`)
        : new RegistryError('MANIFEST_INVALID', `invalid tag: ${reference.slice(0, 200)}`);
    }
    requireQualifiedName(name);
    const parsed = parseManifest(content, contentType);
    const digest = digestOf(content, referenceDigest?.algorithm ?? 'sha256');
    if (referenceDigest && digest !== reference) {
      throw new RegistryError('DIGEST_INVALID', `manifest digest ${digest} does not match reference ${reference}`);
    }
    const repository = await this.repositoryForPush(name);
    const result = await this.metadata.putManifest(
      repository.id,
      {
        digest,
        mediaType: parsed.mediaType,
        artifactType: parsed.artifactType,
        subjectDigest: parsed.subject?.digest ?? null,
        size: content.byteLength,
        content,
        annotations: parsed.annotations ? JSON.stringify(parsed.annotations) : null,
        references: parsed.references,
      },
      referenceDigest ? undefined : reference,
      { tagImmutable: !referenceDigest && tagIsImmutable(repository.settings, reference) },
    );
    if (!result.ok && 'immutableTag' in result) {
      const local = requireQualifiedName(name);
      throw new RegistryError(
        'TAG_IMMUTABLE',
        `The image tag '${result.immutableTag}' already exists in the '${local}' repository and cannot be overwritten because the tag is immutable.`,
      );
    }
    if (!result.ok) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references unknown content: ${result.missing.join(', ')}`, { missing: result.missing });
    }
    return { digest, parsed };
  }

  /** By digest: deletes the manifest and its tags. By tag: removes only the tag. */
  async deleteManifest(name: string, reference: string): Promise<void> {
    const repository = await this.repository(name);
    const deleted = parseDigest(reference)
      ? await this.metadata.deleteManifest(repository.id, reference)
      : await this.metadata.deleteTag(repository.id, reference);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference}`);
  }

  async listTagNames(name: string, limit: number, last?: string): Promise<Page<string>> {
    const repository = await this.repository(name);
    return this.metadata.listTagNames(repository.id, limit, last);
  }

  /** Manifests whose `subject` is `digest`, as descriptors for the referrers index. */
  async referrers(name: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    requireDigest(digest);
    requireQualifiedName(name);
    const repository = await this.metadata.getRepository(name);
    if (!repository) return [];
    const records = await this.metadata.listReferrers(repository.id, digest, artifactType);
    return records.map((r) => {
      const d: Descriptor = { mediaType: r.mediaType, digest: r.digest, size: r.size };
      if (r.artifactType) d.artifactType = r.artifactType;
      if (r.annotations) d.annotations = JSON.parse(r.annotations) as Record<string, string>;
      return d;
    });
  }
}

/**
 * Whether a tag may not be moved once it exists: IMMUTABLE tags never move,
 * except those an exclusion filter names under IMMUTABLE_WITH_EXCLUSION;
 * MUTABLE tags always move, except those an exclusion filter names under
 * MUTABLE_WITH_EXCLUSION. Filters are wildcards (`*` any run of characters).
 */
export function tagIsImmutable(settings: RepositorySettings, tag: string): boolean {
  switch (settings.imageTagMutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !matchesExclusion(settings.tagMutabilityExclusions, tag);
    case 'MUTABLE_WITH_EXCLUSION':
      return matchesExclusion(settings.tagMutabilityExclusions, tag);
  }
}

function matchesExclusion(filters: string | null, tag: string): boolean {
  if (filters === null) return false;
  const parsed = JSON.parse(filters) as { filterType?: string; filter?: string }[];
  return parsed.some((f) => f.filterType === 'WILDCARD' && typeof f.filter === 'string' && wildcardMatch(f.filter, tag));
}

function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(value);
}

function rangeHeader(size: number): Record<string, string> {
  return { Range: `0-${Math.max(size - 1, 0)}` };
}
