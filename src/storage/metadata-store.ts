/**
 * The metadata store: repositories, manifests, tags, which blobs each
 * repository may reach, and upload sessions. It is the system of record;
 * the blob store only holds bytes. Implementations: SQLite (embedded) and
 * PostgreSQL (scale-out), both in `./sql/`, both run by
 * `test/metadata-store.test.ts`.
 *
 * Timestamps are milliseconds since the epoch. Digests are `algorithm:hex`.
 */

export interface Repository {
  id: number;
  /** Qualified: `<registry>/<repository>` (see src/names.ts). */
  name: string;
  createdAt: number;
  /** The repository policy (JSON text, validated when set), if any. */
  policy: string | null;
  settings: RepositorySettings;
  /** When a lifecycle run last evaluated the current lifecycle policy; null if none has since it was set. */
  lifecycleEvaluatedAt: number | null;
}

export type ImageTagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';

/** What ECR keeps about a repository. Documents are JSON text in the API's own shapes, validated by the API layer. */
export interface RepositorySettings {
  imageTagMutability: ImageTagMutability;
  /** `imageTagMutabilityExclusionFilters`: JSON array of {filterType, filter}. */
  tagMutabilityExclusions: string | null;
  scanOnPush: boolean;
  /** `encryptionConfiguration`: JSON {encryptionType, kmsKey?}. */
  encryption: string | null;
  /** Resource tags: JSON array of {Key, Value}. */
  resourceTags: string | null;
  lifecyclePolicy: string | null;
  /** ECR Public `catalogData`: JSON. */
  catalogData: string | null;
}

export const DEFAULT_REPOSITORY_SETTINGS: RepositorySettings = {
  imageTagMutability: 'MUTABLE',
  tagMutabilityExclusions: null,
  scanOnPush: false,
  encryption: null,
  resourceTags: null,
  lifecyclePolicy: null,
  catalogData: null,
};

/** One image (manifest) of a repository as ECR describes it. */
export interface ImageRecord {
  digest: string;
  /** Tags pointing at it, in lexical order. */
  tags: string[];
  mediaType: string;
  /** The config media type (OCI image manifests) or `artifactType`. */
  artifactType: string | null;
  subjectDigest: string | null;
  /** The manifest's own size. */
  manifestSize: number;
  /** The sum of the sizes of the blobs it references (config and layers). */
  blobsSize: number;
  pushedAt: number;
  lastPulledAt: number | undefined;
  storageClass: 'STANDARD' | 'ARCHIVE';
  storageClassChangedAt: number | undefined;
  /** Whether an image index in the same repository lists it. */
  referencedByIndex: boolean;
}

export type LifecyclePreviewStatus = 'IN_PROGRESS' | 'COMPLETE' | 'EXPIRED' | 'FAILED';

/** A repository's latest lifecycle policy preview. */
export interface LifecyclePreviewRecord {
  repositoryId: number;
  /** Tells previews apart, e.g. to refuse a page token of an earlier one. */
  previewId: string;
  startedAt: number;
  policyText: string;
  status: LifecyclePreviewStatus;
  /** `previewResults`: JSON array in the API's shape. */
  results: string;
  /** `summary`: JSON object in the API's shape. */
  summary: string;
}

/** A tag (or an untagged image): what ListImages returns. */
export interface ImageId {
  digest: string;
  tag: string | null;
}

export interface RecordedEvent {
  accountId: string;
  source: string;
  detailType: string;
  resources: string[];
  detail: Record<string, unknown>;
  createdAt: number;
}

/** An account: its id, its public registry's alias and its private registry's policy. */
export interface Account {
  accountId: string;
  publicAlias: string;
  registryPolicy: string | null;
  createdAt: number;
}

/** Thrown by createAccount when the id or the alias is taken. */
export class AccountConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountConflictError';
  }
}

export interface BlobRecord {
  digest: string;
  size: number;
  createdAt: number;
}

/** What a manifest points at: blobs (config, layers) and, for an index, child manifests. */
export interface ManifestReference {
  digest: string;
  kind: 'blob' | 'manifest';
}

export interface ManifestRecord {
  repositoryId: number;
  digest: string;
  mediaType: string;
  /** `artifactType`, or the config media type for OCI image manifests, as the referrers API reports it. */
  artifactType: string | null;
  /** Digest of the `subject` manifest, if any. */
  subjectDigest: string | null;
  size: number;
  /** The manifest's exact bytes, as pushed. */
  content: Uint8Array;
  /** Top-level `annotations` of the manifest as JSON text, for the referrers API. */
  annotations: string | null;
  createdAt: number;
}

export type NewManifest = Omit<ManifestRecord, 'repositoryId' | 'createdAt'> & {
  references: ManifestReference[];
};

export interface TagRecord {
  name: string;
  digest: string;
  updatedAt: number;
}

export interface UploadSession {
  id: string;
  repositoryId: number;
  /** Bytes received so far. */
  size: number;
  startedAt: number;
  updatedAt: number;
}

export interface Page<T> {
  items: T[];
  /** True when more items follow the last one returned. */
  more: boolean;
}

export interface ResolvedManifest {
  repositoryId: number;
  digest: string | undefined;
  /** Whether that manifest is in the archive storage class (it cannot be pulled until restored). */
  archived: boolean;
}

/** Images of one storage class only: STANDARD is ECR's imageStatus ACTIVE, ARCHIVE its ARCHIVED. */
export type StorageClass = 'STANDARD' | 'ARCHIVE';

export type PutManifestResult =
  | { ok: true }
  /** Digests the manifest references that the repository cannot reach. */
  | { ok: false; missing: string[] }
  /** The tag is immutable and names another manifest (nothing changed). */
  | { ok: false; immutableTag: string; taggedDigest: string };

export interface MetadataStore {
  /** Applies pending migrations. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Throws AccountConflictError when the id or the public alias is taken. */
  createAccount(account: Account): Promise<void>;
  /** Creates the account unless it exists (with any alias); returns it as stored. */
  ensureAccount(account: Account): Promise<Account>;
  getAccount(accountId: string): Promise<Account | undefined>;
  getAccountByAlias(publicAlias: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  /** Sets (or with null removes) an account's registry policy. False if there is no such account. */
  setRegistryPolicy(accountId: string, policy: string | null): Promise<boolean>;
  /**
   * Gives repositories that predate accounts (marked by migration 0004) their
   * qualified names under `registryPrefix`. Returns how many were renamed.
   */
  adoptLegacyRepositories(registryPrefix: string): Promise<number>;
  /**
   * A number that changes whenever something a per-process authorization
   * cache holds changes, so such caches can tell they are stale with one
   * cheap read: repository and registry policies (and the deletion of a
   * repository) here, and, since the counter is shared, IAM identities and
   * their policies (the identity store) and pull-time update exclusions (the
   * registry settings store). A change need not concern every cache.
   */
  authorizationGeneration(): Promise<number>;

  getRepository(name: string): Promise<Repository | undefined>;
  /** Returns the repository, creating it if it does not exist (concurrent callers get the same row). */
  ensureRepository(name: string): Promise<Repository>;
  /**
   * Repository names in lexical order, strictly after `last` when given;
   * only those starting with `prefix` when given.
   */
  listRepositories(limit: number, last?: string, prefix?: string): Promise<Page<string>>;
  /** Sets (or with null removes) a repository's policy. False if there is no such repository. */
  setRepositoryPolicy(repositoryId: number, policy: string | null): Promise<boolean>;
  /** Creates a repository with its settings; undefined if one of that name exists (nothing changes then). */
  createRepository(name: string, settings: RepositorySettings, policy: string | null): Promise<Repository | undefined>;
  /**
   * Changes some of a repository's settings. False if there is no such
   * repository. Setting or removing the lifecycle policy clears
   * `lifecycleEvaluatedAt`: the new policy has not been evaluated.
   */
  updateRepositorySettings(repositoryId: number, patch: Partial<RepositorySettings>): Promise<boolean>;
  /**
   * Records that the lifecycle policy `policyText` was evaluated at `at`, only
   * if it is still the repository's policy and no later evaluation was
   * recorded. False if nothing changed.
   */
  recordLifecycleEvaluation(repositoryId: number, policyText: string, at: number): Promise<boolean>;
  /** Stores a preview as the repository's latest, replacing the previous one. The repository must exist. */
  putLifecyclePreview(preview: LifecyclePreviewRecord): Promise<void>;
  getLifecyclePreview(repositoryId: number): Promise<LifecyclePreviewRecord | undefined>;
  /**
   * Deletes a repository with its images, tags, links and uploads, in one
   * transaction. Unless `force`, only an empty one (no manifests): else
   * `not-empty` and nothing changes.
   */
  deleteRepository(repositoryId: number, force: boolean): Promise<'deleted' | 'not-empty' | 'missing'>;
  /** Repositories with their settings, like listRepositories. */
  listRepositoryRecords(limit: number, last?: string, prefix?: string): Promise<Page<Repository>>;
  /** How many images (manifests) a repository holds. */
  countImages(repositoryId: number): Promise<number>;

  /** Records that a verified blob of this size exists in the blob store (idempotent). */
  putBlob(digest: string, size: number): Promise<void>;
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /** Makes a blob reachable from a repository (idempotent). The blob must exist. */
  linkBlob(repositoryId: number, digest: string): Promise<void>;
  /** The blob, if the repository may reach it. */
  getLinkedBlob(repositoryId: number, digest: string): Promise<BlobRecord | undefined>;
  /** Removes a repository's link to a blob. Returns false if there was none. */
  unlinkBlob(repositoryId: number, digest: string): Promise<boolean>;

  /**
   * Stores a manifest and, if `tag` is given, points the tag at it, in one
   * transaction, only if every reference is reachable from the repository
   * (blobs linked to it, manifests stored in it). Re-putting the same digest
   * is idempotent, except that an archived manifest is restored to STANDARD
   * (as ECR restores an archived image that is pushed again). Nothing
   * changes when references are missing, or when `tagImmutable` is set and
   * the tag already names another manifest.
   */
  putManifest(repositoryId: number, manifest: NewManifest, tag?: string, options?: { tagImmutable?: boolean }): Promise<PutManifestResult>;
  getManifest(repositoryId: number, digest: string): Promise<ManifestRecord | undefined>;
  /**
   * The hot-path lookup for a manifest GET, in one query: undefined if the
   * repository does not exist, else its id and the digest that the tag (or
   * the digest itself) names in it, if any, and whether it is archived.
   * Content comes separately, usually from a cache, since a digest's content
   * never changes.
   */
  resolveManifest(repositoryName: string, reference: { tag: string } | { digest: string }): Promise<ResolvedManifest | undefined>;
  /** Resolves a tag to its manifest. */
  getTaggedManifest(repositoryId: number, tag: string): Promise<ManifestRecord | undefined>;
  /** Deletes a manifest and every tag pointing at it. Returns false if it did not exist. */
  deleteManifest(repositoryId: number, digest: string): Promise<boolean>;
  /**
   * Deletes a manifest, only if it is in `storageClass` when given, and in the
   * same transaction its referrers (manifests whose `subject` is a deleted
   * one, transitively) that no image index of the repository lists, each
   * with its tags. Undefined if nothing was deleted (no such manifest, or
   * another storage class); else the digests of the referrers deleted with it.
   */
  deleteManifestWithReferrers(repositoryId: number, digest: string, condition?: { storageClass?: StorageClass }): Promise<string[] | undefined>;
  /**
   * Deletes a referrer whose subject is not (or no longer) in the
   * repository, only if that still holds, it was pushed before
   * `pushedBefore` and no image index of the repository lists it; with its
   * own referrers as deleteManifestWithReferrers takes them, in the same
   * transaction. Undefined if nothing was deleted; else the digests of the
   * referrers deleted with it.
   */
  deleteOrphanedReferrer(repositoryId: number, digest: string, pushedBefore: number): Promise<string[] | undefined>;
  /** Removes one tag. Returns false if it did not exist. */
  deleteTag(repositoryId: number, tag: string): Promise<boolean>;
  /** Tags in lexical order, strictly after `last` when given. */
  listTags(repositoryId: number, limit: number, last?: string): Promise<Page<TagRecord>>;
  /** Only the names of `listTags`, for the `/v2/` tags list (a third of the work per row). */
  listTagNames(repositoryId: number, limit: number, last?: string): Promise<Page<string>>;
  /**
   * The images of a repository, one entry per tag and one per untagged
   * manifest, ordered by (digest, tag) with untagged first; strictly after
   * `after` when given.
   */
  listImageIds(repositoryId: number, filter: { tagStatus: 'TAGGED' | 'UNTAGGED' | 'ANY'; storageClass?: StorageClass }, limit: number, after?: ImageId): Promise<Page<ImageId>>;
  /**
   * Images by digest, or every image ordered by digest (strictly after
   * `afterDigest`) when `digests` is undefined; missing digests are left out.
   * `storageClass` keeps only images of that class.
   */
  describeImages(
    repositoryId: number,
    options: { digests?: readonly string[]; tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY'; storageClass?: StorageClass; limit?: number; afterDigest?: string },
  ): Promise<Page<ImageRecord>>;
  /** Records pulls (only ever moves a pull time forward). */
  recordPulls(pulls: readonly { repositoryId: number; digest: string; at: number }[]): Promise<void>;
  /**
   * Sets an image's storage class, only if it is in the class `from` when
   * given, so that of two processes changing it from one class only one does.
   * False if nothing changed: no such image, or not in `from`.
   */
  setStorageClass(repositoryId: number, digest: string, storageClass: StorageClass, at: number, from?: StorageClass): Promise<boolean>;
  /** Whether a manifest of the repository references the blob (as its config or a layer). */
  isBlobReferenced(repositoryId: number, digest: string): Promise<boolean>;
  /** Appends an event. */
  recordEvent(event: RecordedEvent): Promise<void>;
  /** Events of an account, oldest first, after the event id `afterId`. */
  listEvents(accountId: string, limit: number, afterId?: number): Promise<(RecordedEvent & { id: number })[]>;

  /** Manifests in this repository whose `subject` is `digest`, optionally only of one artifact type. */
  listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<ManifestRecord[]>;

  createUpload(session: UploadSession): Promise<void>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  /**
   * Claims an upload that holds `expectedSize` bytes for one writer, so that
   * no other request (in this process or another) writes to its staging area
   * meanwhile. Fails (false) if the size differs or another writer holds it;
   * a claim made before `staleBefore` was left by a crashed writer and is taken over.
   */
  claimUpload(id: string, expectedSize: number, writer: string, now: number, staleBefore: number): Promise<boolean>;
  /** Ends `writer`'s claim, recording the upload's new size. False if the writer no longer holds it. */
  releaseUpload(id: string, writer: string, size: number, updatedAt: number): Promise<boolean>;
  deleteUpload(id: string): Promise<boolean>;
  /** Sessions not updated since `updatedBefore` and not claimed by a writer since then, oldest first. */
  listStaleUploads(updatedBefore: number, limit: number): Promise<UploadSession[]>;
}
