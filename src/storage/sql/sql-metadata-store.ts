import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type {
  BlobRecord,
  ManifestRecord,
  ResolvedManifest,
  MetadataStore,
  NewManifest,
  Page,
  PutManifestResult,
  Repository,
  TagRecord,
  UploadSession,
} from '../metadata-store.js';
import {
  AccountConflictError,
  type Account,
  type ImageId,
  type ImageRecord,
  type ImageTagMutability,
  type LifecyclePreviewRecord,
  type LifecyclePreviewStatus,
  type RecordedEvent,
  type RepositorySettings,
  type StorageClass,
} from '../metadata-store.js';
import type { AccountsTable, Database, ManifestsTable, RepositoriesTable, SqlDialectName } from './database.js';
import { LEGACY_REPOSITORY_MARK, migrateToLatest } from './migrations.js';
import { quoteIdentifier } from './postgres.js';
import { PreparedQuery } from './prepared.js';

export interface SqlMetadataStoreOptions {
  dialect: SqlDialectName;
  /**
   * PostgreSQL: the schema holding Berth's tables, first on the connection's
   * search_path. When undefined, `migrate()` uses `current_schema()`.
   */
  schema?: string | undefined;
  /** What `close()` does; by default `db.destroy()`. Called at most once. */
  release?: () => Promise<void>;
  /** Told the SQL text of each hot query once, e.g. to make it a named prepared statement. */
  onPrepare?: (sql: string) => void;
}

/** Most digests fit in one IN list; longer lists are split to stay far below bind-parameter limits. */
const IN_LIST_CHUNK = 500;

type ManifestRow = Omit<Selectable<ManifestsTable>, 'last_pulled_at' | 'storage_class' | 'storage_class_changed_at'>;

const REPOSITORY_COLUMNS = [
  'id',
  'name',
  'created_at',
  'policy',
  'image_tag_mutability',
  'tag_mutability_exclusions',
  'scan_on_push',
  'encryption',
  'resource_tags',
  'lifecycle_policy',
  'catalog_data',
  'lifecycle_evaluated_at',
] as const;
const ACCOUNT_COLUMNS = ['account_id', 'public_alias', 'registry_policy', 'created_at'] as const;

function toRepository(row: Pick<Selectable<RepositoriesTable>, (typeof REPOSITORY_COLUMNS)[number]>): Repository {
  return {
    id: row.id,
    name: row.name,
    createdAt: num(row.created_at),
    policy: row.policy,
    settings: {
      imageTagMutability: row.image_tag_mutability as ImageTagMutability,
      tagMutabilityExclusions: row.tag_mutability_exclusions,
      scanOnPush: row.scan_on_push !== 0,
      encryption: row.encryption,
      resourceTags: row.resource_tags,
      lifecyclePolicy: row.lifecycle_policy,
      catalogData: row.catalog_data,
    },
    lifecycleEvaluatedAt: row.lifecycle_evaluated_at === null ? null : num(row.lifecycle_evaluated_at),
  };
}

function settingsRow(settings: Partial<RepositorySettings>): Updateable<RepositoriesTable> {
  const row: Updateable<RepositoriesTable> = {};
  if (settings.imageTagMutability !== undefined) row.image_tag_mutability = settings.imageTagMutability;
  if (settings.tagMutabilityExclusions !== undefined) row.tag_mutability_exclusions = settings.tagMutabilityExclusions;
  if (settings.scanOnPush !== undefined) row.scan_on_push = settings.scanOnPush ? 1 : 0;
  if (settings.encryption !== undefined) row.encryption = settings.encryption;
  if (settings.resourceTags !== undefined) row.resource_tags = settings.resourceTags;
  if (settings.lifecyclePolicy !== undefined) {
    row.lifecycle_policy = settings.lifecyclePolicy;
    row.lifecycle_evaluated_at = null;
  }
  if (settings.catalogData !== undefined) row.catalog_data = settings.catalogData;
  return row;
}

function toAccount(row: Pick<Selectable<AccountsTable>, (typeof ACCOUNT_COLUMNS)[number]>): Account {
  return { accountId: row.account_id, publicAlias: row.public_alias, registryPolicy: row.registry_policy, createdAt: num(row.created_at) };
}

/** A unique-constraint violation: SQLite's SQLITE_CONSTRAINT_PRIMARYKEY/UNIQUE or PostgreSQL's 23505. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** The smallest string greater than every string starting with `prefix`, for a prefix range scan. */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** int8 arrives as a string from `pg`, as a number from SQLite. */
function num(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

function toManifest(row: ManifestRow): ManifestRecord {
  return {
    repositoryId: row.repository_id,
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type,
    subjectDigest: row.subject_digest,
    size: num(row.size),
    content: row.content,
    annotations: row.annotations,
    createdAt: num(row.created_at),
  };
}

function toUpload(row: {
  id: string;
  repository_id: number;
  size: number | string;
  started_at: number | string;
  updated_at: number | string;
}): UploadSession {
  return {
    id: row.id,
    repositoryId: row.repository_id,
    size: num(row.size),
    startedAt: num(row.started_at),
    updatedAt: num(row.updated_at),
  };
}

function accountRow(account: Account): Insertable<AccountsTable> {
  return { account_id: account.accountId, public_alias: account.publicAlias, registry_policy: account.registryPolicy, created_at: account.createdAt };
}

/** Both drivers bind Buffers as binary; a Buffer view of the caller's bytes avoids a copy. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function pageLimit(limit: number): number {
  return Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : 0;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const MANIFEST_COLUMNS = [
  'm.repository_id',
  'm.digest',
  'm.media_type',
  'm.artifact_type',
  'm.subject_digest',
  'm.size',
  'm.content',
  'm.annotations',
  'm.created_at',
] as const;

const UPLOAD_COLUMNS = ['id', 'repository_id', 'size', 'started_at', 'updated_at'] as const;

/** The fixed-shape queries on hot paths, compiled once per store (see PreparedQuery). */
function prepareQueries(db: Kysely<Database>) {
  return {
    getRepository: new PreparedQuery(1, (name: string) =>
      db.selectFrom('repositories').select(REPOSITORY_COLUMNS).where('name', '=', name),
    ),
    getBlob: new PreparedQuery(1, (digest: string) =>
      db.selectFrom('blobs').select(['digest', 'size', 'created_at']).where('digest', '=', digest),
    ),
    getLinkedBlob: new PreparedQuery(2, (repositoryId: number, digest: string) =>
      db
        .selectFrom('repository_blobs as rb')
        .innerJoin('blobs as b', 'b.digest', 'rb.digest')
        .select(['b.digest', 'b.size', 'b.created_at'])
        .where('rb.repository_id', '=', repositoryId)
        .where('rb.digest', '=', digest),
    ),
    getManifest: new PreparedQuery(2, (repositoryId: number, digest: string) =>
      db
        .selectFrom('manifests as m')
        .select(MANIFEST_COLUMNS)
        .where('m.repository_id', '=', repositoryId)
        .where('m.digest', '=', digest),
    ),
    // One query: tag -> manifest.
    getTaggedManifest: new PreparedQuery(2, (repositoryId: number, tag: string) =>
      db
        .selectFrom('tags as t')
        .innerJoin('manifests as m', (join) =>
          join.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.manifest_digest'),
        )
        .select(MANIFEST_COLUMNS)
        .where('t.repository_id', '=', repositoryId)
        .where('t.name', '=', tag),
    ),
    resolveTag: new PreparedQuery(2, (repositoryName: string, tag: string) =>
      db
        .selectFrom('repositories as r')
        .leftJoin('tags as t', (join) => join.onRef('t.repository_id', '=', 'r.id').on('t.name', '=', tag))
        .leftJoin('manifests as m', (join) => join.onRef('m.repository_id', '=', 'r.id').onRef('m.digest', '=', 't.manifest_digest'))
        .select(['r.id', 't.manifest_digest as digest', 'm.storage_class'])
        .where('r.name', '=', repositoryName),
    ),
    resolveDigest: new PreparedQuery(2, (repositoryName: string, digest: string) =>
      db
        .selectFrom('repositories as r')
        .leftJoin('manifests as m', (join) => join.onRef('m.repository_id', '=', 'r.id').on('m.digest', '=', digest))
        .select(['r.id', 'm.digest as digest', 'm.storage_class'])
        .where('r.name', '=', repositoryName),
    ),
    getUpload: new PreparedQuery(1, (id: string) => db.selectFrom('uploads').select(UPLOAD_COLUMNS).where('id', '=', id)),
    claimUpload: new PreparedQuery(5, (id: string, expectedSize: number, writer: string, now: number, staleBefore: number) =>
      db
        .updateTable('uploads')
        .set({ writer, claimed_at: now })
        .where('id', '=', id)
        .where('size', '=', expectedSize)
        .where((eb) => eb.or([eb('writer', 'is', null), eb('claimed_at', '<', staleBefore)])),
    ),
    releaseUpload: new PreparedQuery(4, (id: string, writer: string, size: number, updatedAt: number) =>
      db
        .updateTable('uploads')
        .set({ size, updated_at: updatedAt, writer: null, claimed_at: null })
        .where('id', '=', id)
        .where('writer', '=', writer),
    ),
  };
}

/**
 * MetadataStore over Kysely, for SQLite (better-sqlite3) and PostgreSQL
 * (pg). The queries are shared; the dialect only decides row locking
 * (`FOR SHARE`, PostgreSQL only) and how int8 values come back.
 * Build one with `openMetadataStore()` from `./open.js`.
 */
export class SqlMetadataStore implements MetadataStore {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialectName;
  readonly #schema: string | undefined;
  readonly #release: () => Promise<void>;
  readonly #q: ReturnType<typeof prepareQueries>;
  #closed = false;

  constructor(db: Kysely<Database>, options: SqlMetadataStoreOptions) {
    this.db = db;
    this.dialect = options.dialect;
    this.#schema = options.schema;
    this.#release = options.release ?? (() => db.destroy());
    this.#q = prepareQueries(db);
    if (options.onPrepare) {
      for (const query of Object.values(this.#q)) options.onPrepare(query.sql);
    }
  }

  async migrate(): Promise<void> {
    if (this.dialect === 'postgres') {
      let schema = this.#schema;
      if (schema !== undefined) {
        await this.#createSchema(schema);
      } else {
        const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.db);
        schema = rows[0]?.schema ?? undefined;
        if (schema === undefined) {
          throw new Error('PostgreSQL search_path names no existing schema; add ?schema=<name> to the database URL');
        }
      }
      await migrateToLatest(this.db, 'postgres', schema);
    } else {
      await migrateToLatest(this.db, 'sqlite');
    }
  }

  async #createSchema(schema: string): Promise<void> {
    try {
      await sql`create schema if not exists ${sql.raw(quoteIdentifier(schema))}`.execute(this.db);
    } catch (error) {
      // Two concurrent CREATE SCHEMA IF NOT EXISTS can still collide in the
      // catalog (unique_violation, duplicate_schema); it exists either way.
      const code = (error as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P06') throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release();
  }

  // ---------------------------------------------------------------- repositories

  async getRepository(name: string): Promise<Repository | undefined> {
    const row = await this.#q.getRepository.first(this.db, name);
    return row && toRepository(row);
  }

  async ensureRepository(name: string): Promise<Repository> {
    // Usually it exists: one read, and no identity value burnt by a conflicting insert.
    const existing = await this.getRepository(name);
    if (existing) return existing;
    const inserted = await this.db
      .insertInto('repositories')
      .values({ name, created_at: Date.now(), policy: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning(REPOSITORY_COLUMNS)
      .executeTakeFirst();
    if (inserted) return toRepository(inserted);
    // Someone else inserted it between our read and our insert; theirs is committed now.
    const raced = await this.getRepository(name);
    if (!raced) throw new Error(`repository ${name} vanished while being created`);
    return raced;
  }

  async listRepositories(limit: number, last?: string, prefix?: string): Promise<Page<string>> {
    const n = pageLimit(limit);
    const rows = await this.db
      .selectFrom('repositories')
      .select('name')
      .$if(last !== undefined, (qb) => qb.where('name', '>', last as string))
      .$if(prefix !== undefined && prefix !== '', (qb) => qb.where('name', '>=', prefix as string).where('name', '<', prefixEnd(prefix as string)))
      .orderBy('name')
      .limit(n + 1)
      .execute();
    return { items: rows.slice(0, n).map((r) => r.name), more: rows.length > n };
  }

  async setRepositoryPolicy(repositoryId: number, policy: string | null): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('repositories').set({ policy }).where('id', '=', repositoryId).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await this.#bumpGeneration(trx);
      return true;
    });
  }

  async createRepository(name: string, settings: RepositorySettings, policy: string | null): Promise<Repository | undefined> {
    const inserted = await this.db
      .insertInto('repositories')
      .values({ name, created_at: Date.now(), policy, ...settingsRow(settings) })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning(REPOSITORY_COLUMNS)
      .executeTakeFirst();
    return inserted && toRepository(inserted);
  }

  async updateRepositorySettings(repositoryId: number, patch: Partial<RepositorySettings>): Promise<boolean> {
    const row = settingsRow(patch);
    if (Object.keys(row).length === 0) return (await this.db.selectFrom('repositories').select('id').where('id', '=', repositoryId).executeTakeFirst()) !== undefined;
    const result = await this.db.updateTable('repositories').set(row).where('id', '=', repositoryId).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordLifecycleEvaluation(repositoryId: number, policyText: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('repositories')
      .set({ lifecycle_evaluated_at: at })
      .where('id', '=', repositoryId)
      .where('lifecycle_policy', '=', policyText)
      .where((eb) => eb.or([eb('lifecycle_evaluated_at', 'is', null), eb('lifecycle_evaluated_at', '<', at)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async putLifecyclePreview(preview: LifecyclePreviewRecord): Promise<void> {
    const row = {
      preview_id: preview.previewId,
      started_at: preview.startedAt,
      policy_text: preview.policyText,
      status: preview.status,
      results: preview.results,
      summary: preview.summary,
    };
    await this.db
      .insertInto('lifecycle_previews')
      .values({ repository_id: preview.repositoryId, ...row })
      .onConflict((oc) => oc.column('repository_id').doUpdateSet(row))
      .execute();
  }

  async getLifecyclePreview(repositoryId: number): Promise<LifecyclePreviewRecord | undefined> {
    const row = await this.db.selectFrom('lifecycle_previews').selectAll().where('repository_id', '=', repositoryId).executeTakeFirst();
    return (
      row && {
        repositoryId: row.repository_id,
        previewId: row.preview_id,
        startedAt: num(row.started_at),
        policyText: row.policy_text,
        status: row.status as LifecyclePreviewStatus,
        results: row.results,
        summary: row.summary,
      }
    );
  }

  async deleteRepository(repositoryId: number, force: boolean): Promise<'deleted' | 'not-empty' | 'missing'> {
    return this.db.transaction().execute(async (trx) => {
      const repository = await trx.selectFrom('repositories').select('id').where('id', '=', repositoryId).executeTakeFirst();
      if (!repository) return 'missing';
      if (!force) {
        const image = await trx.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).limit(1).executeTakeFirst();
        if (image) return 'not-empty';
      }
      // Children first: tags and references point at manifests; the rest cascade from the repository.
      await trx.deleteFrom('tags').where('repository_id', '=', repositoryId).execute();
      await trx.deleteFrom('manifest_references').where('repository_id', '=', repositoryId).execute();
      await trx.deleteFrom('manifests').where('repository_id', '=', repositoryId).execute();
      await trx.deleteFrom('repository_blobs').where('repository_id', '=', repositoryId).execute();
      await trx.deleteFrom('uploads').where('repository_id', '=', repositoryId).execute();
      await trx.deleteFrom('lifecycle_previews').where('repository_id', '=', repositoryId).execute();
      await trx.deleteFrom('repositories').where('id', '=', repositoryId).execute();
      await this.#bumpGeneration(trx);
      return 'deleted';
    });
  }

  async listRepositoryRecords(limit: number, last?: string, prefix?: string): Promise<Page<Repository>> {
    const n = pageLimit(limit);
    const rows = await this.db
      .selectFrom('repositories')
      .select(REPOSITORY_COLUMNS)
      .$if(last !== undefined, (qb) => qb.where('name', '>', last as string))
      .$if(prefix !== undefined && prefix !== '', (qb) => qb.where('name', '>=', prefix as string).where('name', '<', prefixEnd(prefix as string)))
      .orderBy('name')
      .limit(n + 1)
      .execute();
    return { items: rows.slice(0, n).map(toRepository), more: rows.length > n };
  }

  async countImages(repositoryId: number): Promise<number> {
    const row = await this.db.selectFrom('manifests').select((eb) => eb.fn.countAll<number | string>().as('count')).where('repository_id', '=', repositoryId).executeTakeFirst();
    return num(row?.count ?? 0);
  }

  // ---------------------------------------------------------------- images

  async listImageIds(repositoryId: number, filter: { tagStatus: 'TAGGED' | 'UNTAGGED' | 'ANY'; storageClass?: StorageClass }, limit: number, after?: ImageId): Promise<Page<ImageId>> {
    const n = pageLimit(limit);
    // '' sorts before every tag, so an untagged entry (tag NULL → '') comes first for its digest.
    const tagKey = sql<string>`coalesce(t.name, '')`;
    const rows = await this.db
      .selectFrom('manifests as m')
      .leftJoin('tags as t', (join) => join.onRef('t.repository_id', '=', 'm.repository_id').onRef('t.manifest_digest', '=', 'm.digest'))
      .select(['m.digest as digest', 't.name as tag'])
      .where('m.repository_id', '=', repositoryId)
      .$if(filter.tagStatus === 'TAGGED', (qb) => qb.where('t.name', 'is not', null))
      .$if(filter.tagStatus === 'UNTAGGED', (qb) => qb.where('t.name', 'is', null))
      .$if(filter.storageClass !== undefined, (qb) => qb.where('m.storage_class', '=', filter.storageClass as StorageClass))
      .$if(after !== undefined, (qb) =>
        qb.where((eb) => eb.or([eb('m.digest', '>', (after as ImageId).digest), eb.and([eb('m.digest', '=', (after as ImageId).digest), eb(tagKey, '>', (after as ImageId).tag ?? '')])])),
      )
      .orderBy('m.digest')
      .orderBy(tagKey)
      .limit(n + 1)
      .execute();
    return { items: rows.slice(0, n).map((r) => ({ digest: r.digest, tag: r.tag ?? null })), more: rows.length > n };
  }

  async describeImages(
    repositoryId: number,
    options: { digests?: readonly string[]; tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY'; storageClass?: StorageClass; limit?: number; afterDigest?: string },
  ): Promise<Page<ImageRecord>> {
    const n = options.limit === undefined ? Number.MAX_SAFE_INTEGER : pageLimit(options.limit);
    if (options.digests?.length === 0) return { items: [], more: false };
    const tagged = sql<number>`exists (select 1 from tags t where t.repository_id = m.repository_id and t.manifest_digest = m.digest)`;
    const rows = await this.db
      .selectFrom('manifests as m')
      .select([
        'm.digest',
        'm.media_type',
        'm.artifact_type',
        'm.subject_digest',
        'm.size',
        'm.created_at',
        'm.last_pulled_at',
        'm.storage_class',
        'm.storage_class_changed_at',
        sql<number | string>`coalesce((select sum(b.size) from manifest_references r join blobs b on b.digest = r.child_digest where r.repository_id = m.repository_id and r.manifest_digest = m.digest and r.kind = 'blob'), 0)`.as('blobs_size'),
        sql<number>`case when exists (select 1 from manifest_references p where p.repository_id = m.repository_id and p.child_digest = m.digest and p.kind = 'manifest') then 1 else 0 end`.as('referenced'),
      ])
      .where('m.repository_id', '=', repositoryId)
      .$if(options.digests !== undefined, (qb) => qb.where('m.digest', 'in', options.digests as readonly string[]))
      .$if(options.tagStatus === 'TAGGED', (qb) => qb.where(tagged, '=', sql<number>`true`))
      .$if(options.tagStatus === 'UNTAGGED', (qb) => qb.where(tagged, '=', sql<number>`false`))
      .$if(options.storageClass !== undefined, (qb) => qb.where('m.storage_class', '=', options.storageClass as StorageClass))
      .$if(options.afterDigest !== undefined, (qb) => qb.where('m.digest', '>', options.afterDigest as string))
      .orderBy('m.digest')
      .$if(options.limit !== undefined, (qb) => qb.limit(n + 1))
      .execute();
    const page = rows.slice(0, n);
    const tagRows =
      page.length === 0
        ? []
        : await this.db
            .selectFrom('tags')
            .select(['name', 'manifest_digest'])
            .where('repository_id', '=', repositoryId)
            .where(
              'manifest_digest',
              'in',
              page.map((r) => r.digest),
            )
            .orderBy('name')
            .execute();
    const tagsByDigest = new Map<string, string[]>();
    for (const t of tagRows) {
      const list = tagsByDigest.get(t.manifest_digest) ?? [];
      list.push(t.name);
      tagsByDigest.set(t.manifest_digest, list);
    }
    return {
      items: page.map((r) => ({
        digest: r.digest,
        tags: tagsByDigest.get(r.digest) ?? [],
        mediaType: r.media_type,
        artifactType: r.artifact_type,
        subjectDigest: r.subject_digest,
        manifestSize: num(r.size),
        blobsSize: num(r.blobs_size),
        pushedAt: num(r.created_at),
        lastPulledAt: r.last_pulled_at === null ? undefined : num(r.last_pulled_at),
        storageClass: r.storage_class === 'ARCHIVE' ? 'ARCHIVE' : 'STANDARD',
        storageClassChangedAt: r.storage_class_changed_at === null ? undefined : num(r.storage_class_changed_at),
        referencedByIndex: Number(r.referenced) === 1,
      })),
      more: rows.length > n,
    };
  }

  async recordPulls(pulls: readonly { repositoryId: number; digest: string; at: number }[]): Promise<void> {
    if (pulls.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const pull of pulls) {
        await trx
          .updateTable('manifests')
          .set({ last_pulled_at: pull.at })
          .where('repository_id', '=', pull.repositoryId)
          .where('digest', '=', pull.digest)
          .where((eb) => eb.or([eb('last_pulled_at', 'is', null), eb('last_pulled_at', '<', pull.at)]))
          .execute();
      }
    });
  }

  async setStorageClass(repositoryId: number, digest: string, storageClass: StorageClass, at: number, from?: StorageClass): Promise<boolean> {
    const result = await this.db
      .updateTable('manifests')
      .set({ storage_class: storageClass, storage_class_changed_at: at })
      .where('repository_id', '=', repositoryId)
      .where('digest', '=', digest)
      .$if(from !== undefined, (qb) => qb.where('storage_class', '=', from as StorageClass))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async isBlobReferenced(repositoryId: number, digest: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('manifest_references')
      .select('child_digest')
      .where('repository_id', '=', repositoryId)
      .where('child_digest', '=', digest)
      .where('kind', '=', 'blob')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }


  async recordEvent(event: RecordedEvent): Promise<void> {
    await this.db
      .insertInto('events')
      .values({
        account_id: event.accountId,
        source: event.source,
        detail_type: event.detailType,
        resources: JSON.stringify(event.resources),
        detail: JSON.stringify(event.detail),
        created_at: event.createdAt,
      })
      .execute();
  }

  async listEvents(accountId: string, limit: number, afterId?: number): Promise<(RecordedEvent & { id: number })[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('account_id', '=', accountId)
      .$if(afterId !== undefined, (qb) => qb.where('id', '>', afterId as number))
      .orderBy('id')
      .limit(pageLimit(limit))
      .execute();
    return rows.map((r) => ({
      id: r.id,
      accountId: r.account_id,
      source: r.source,
      detailType: r.detail_type,
      resources: JSON.parse(r.resources) as string[],
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      createdAt: num(r.created_at),
    }));
  }

  // ---------------------------------------------------------------- accounts

  async createAccount(account: Account): Promise<void> {
    try {
      await this.db.insertInto('accounts').values(accountRow(account)).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AccountConflictError(`account ${account.accountId} or public alias ${account.publicAlias} exists`);
      throw error;
    }
  }

  async ensureAccount(account: Account): Promise<Account> {
    await this.db.insertInto('accounts').values(accountRow(account)).onConflict((oc) => oc.column('account_id').doNothing()).execute();
    const stored = await this.getAccount(account.accountId);
    if (!stored) throw new Error(`account ${account.accountId} could not be created (is its public alias ${account.publicAlias} taken?)`);
    return stored;
  }

  async getAccount(accountId: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').select(ACCOUNT_COLUMNS).where('account_id', '=', accountId).executeTakeFirst();
    return row && toAccount(row);
  }

  async getAccountByAlias(publicAlias: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').select(ACCOUNT_COLUMNS).where('public_alias', '=', publicAlias).executeTakeFirst();
    return row && toAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    const rows = await this.db.selectFrom('accounts').select(ACCOUNT_COLUMNS).orderBy('account_id').execute();
    return rows.map(toAccount);
  }

  async setRegistryPolicy(accountId: string, policy: string | null): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('accounts').set({ registry_policy: policy }).where('account_id', '=', accountId).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await this.#bumpGeneration(trx);
      return true;
    });
  }

  async adoptLegacyRepositories(registryPrefix: string): Promise<number> {
    const result = await this.db
      .updateTable('repositories')
      .set({ name: sql<string>`${registryPrefix} || substr(name, ${LEGACY_REPOSITORY_MARK.length + 1})` })
      .where('name', 'like', `${LEGACY_REPOSITORY_MARK}%`)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async authorizationGeneration(): Promise<number> {
    const row = await this.db.selectFrom('iam_generation').select('value').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('iam_generation has no row: run the metadata store migrations');
    return num(row.value);
  }

  async #bumpGeneration(trx: Transaction<Database>): Promise<void> {
    await trx
      .updateTable('iam_generation')
      .set({ value: sql<number>`value + 1` })
      .where('id', '=', 1)
      .execute();
  }

  // ---------------------------------------------------------------- blobs

  async putBlob(digest: string, size: number): Promise<void> {
    await this.db
      .insertInto('blobs')
      .values({ digest, size, created_at: Date.now() })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const row = await this.#q.getBlob.first(this.db, digest);
    return row && { digest: row.digest, size: num(row.size), createdAt: num(row.created_at) };
  }

  async linkBlob(repositoryId: number, digest: string): Promise<void> {
    await this.db
      .insertInto('repository_blobs')
      .values({ repository_id: repositoryId, digest, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
      .execute();
  }

  async getLinkedBlob(repositoryId: number, digest: string): Promise<BlobRecord | undefined> {
    const row = await this.#q.getLinkedBlob.first(this.db, repositoryId, digest);
    return row && { digest: row.digest, size: num(row.size), createdAt: num(row.created_at) };
  }

  async unlinkBlob(repositoryId: number, digest: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('repository_blobs')
      .where('repository_id', '=', repositoryId)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---------------------------------------------------------------- manifests

  async putManifest(repositoryId: number, manifest: NewManifest, tag?: string, options: { tagImmutable?: boolean } = {}): Promise<PutManifestResult> {
    const blobDigests = new Set<string>();
    const manifestDigests = new Set<string>();
    for (const ref of manifest.references) {
      (ref.kind === 'manifest' ? manifestDigests : blobDigests).add(ref.digest);
    }
    const now = Date.now();

    return this.db.transaction().execute(async (trx) => {
      const foundBlobs = await this.#existing(trx, 'repository_blobs', repositoryId, [...blobDigests]);
      const foundManifests = await this.#existing(trx, 'manifests', repositoryId, [...manifestDigests]);
      const missing = new Set<string>();
      for (const ref of manifest.references) {
        const found = ref.kind === 'manifest' ? foundManifests : foundBlobs;
        if (!found.has(ref.digest)) missing.add(ref.digest);
      }
      if (missing.size > 0) return { ok: false, missing: [...missing] };
      if (tag !== undefined && options.tagImmutable === true) {
        const tagged = await trx.selectFrom('tags').select('manifest_digest').where('repository_id', '=', repositoryId).where('name', '=', tag).executeTakeFirst();
        if (tagged && tagged.manifest_digest !== manifest.digest) return { ok: false, immutableTag: tag, taggedDigest: tagged.manifest_digest };
      }

      await trx
        .insertInto('manifests')
        .values({
          repository_id: repositoryId,
          digest: manifest.digest,
          media_type: manifest.mediaType,
          artifact_type: manifest.artifactType,
          subject_digest: manifest.subjectDigest,
          size: manifest.size,
          content: toBuffer(manifest.content),
          annotations: manifest.annotations,
          created_at: now,
        })
        // Same digest, same bytes: keep the first row and its created_at.
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
        .execute();
      // Pushing an archived image again restores it.
      await trx
        .updateTable('manifests')
        .set({ storage_class: 'STANDARD', storage_class_changed_at: now })
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', manifest.digest)
        .where('storage_class', '=', 'ARCHIVE')
        .execute();

      const references = [
        ...[...blobDigests].map((child) => ({ child, kind: 'blob' as const })),
        ...[...manifestDigests].map((child) => ({ child, kind: 'manifest' as const })),
      ];
      for (const chunk of chunks(references, IN_LIST_CHUNK)) {
        await trx
          .insertInto('manifest_references')
          .values(
            chunk.map(({ child, kind }) => ({
              repository_id: repositoryId,
              manifest_digest: manifest.digest,
              child_digest: child,
              kind,
            })),
          )
          .onConflict((oc) => oc.columns(['repository_id', 'manifest_digest', 'kind', 'child_digest']).doNothing())
          .execute();
      }

      if (tag !== undefined) {
        await trx
          .insertInto('tags')
          .values({ repository_id: repositoryId, name: tag, manifest_digest: manifest.digest, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['repository_id', 'name']).doUpdateSet({ manifest_digest: manifest.digest, updated_at: now }),
          )
          .execute();
      }
      return { ok: true };
    });
  }

  /**
   * Which of `digests` exist in the repository's blob links or manifests.
   * In PostgreSQL the rows found are share-locked until commit, so a
   * concurrent unlink or manifest delete cannot slip in between this check
   * and the insert of the manifest that depends on them. (SQLite transactions
   * here hold the database write lock from BEGIN IMMEDIATE.)
   */
  async #existing(
    trx: Transaction<Database>,
    table: 'repository_blobs' | 'manifests',
    repositoryId: number,
    digests: string[],
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (const chunk of chunks(digests, IN_LIST_CHUNK)) {
      const rows = await trx
        .selectFrom(table)
        .select('digest')
        .where('repository_id', '=', repositoryId)
        .where('digest', 'in', chunk)
        .$if(this.dialect === 'postgres', (qb) => qb.forShare())
        .execute();
      for (const row of rows) found.add(row.digest);
    }
    return found;
  }

  async getManifest(repositoryId: number, digest: string): Promise<ManifestRecord | undefined> {
    const row = await this.#q.getManifest.first(this.db, repositoryId, digest);
    return row && toManifest(row);
  }

  async resolveManifest(repositoryName: string, reference: { tag: string } | { digest: string }): Promise<ResolvedManifest | undefined> {
    const row =
      'tag' in reference
        ? await this.#q.resolveTag.first(this.db, repositoryName, reference.tag)
        : await this.#q.resolveDigest.first(this.db, repositoryName, reference.digest);
    return row && { repositoryId: row.id, digest: row.digest ?? undefined, archived: row.storage_class === 'ARCHIVE' };
  }

  async getTaggedManifest(repositoryId: number, tag: string): Promise<ManifestRecord | undefined> {
    const row = await this.#q.getTaggedManifest.first(this.db, repositoryId, tag);
    return row && toManifest(row);
  }

  async deleteManifest(repositoryId: number, digest: string): Promise<boolean> {
    return this.db.transaction().execute((trx) => this.#deleteManifestRows(trx, repositoryId, digest));
  }

  async deleteManifestWithReferrers(repositoryId: number, digest: string, condition: { storageClass?: StorageClass } = {}): Promise<string[] | undefined> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.#deleteManifestRows(trx, repositoryId, digest, condition.storageClass))) return undefined;
      return this.#deleteReferrersOf(trx, repositoryId, digest);
    });
  }

  async deleteOrphanedReferrer(repositoryId: number, digest: string, pushedBefore: number): Promise<string[] | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // Locked first, then checked: a check made before the lock could miss an index that listed it meanwhile.
      const referrer = await trx
        .selectFrom('manifests')
        .select('subject_digest')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .where('created_at', '<', pushedBefore)
        .$if(this.dialect === 'postgres', (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (referrer?.subject_digest == null) return undefined;
      const subject = await trx.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).where('digest', '=', referrer.subject_digest).executeTakeFirst();
      if (subject !== undefined || (await this.#listedByIndex(trx, repositoryId, [digest])).size > 0) return undefined;
      await this.#deleteManifestRows(trx, repositoryId, digest);
      return this.#deleteReferrersOf(trx, repositoryId, digest);
    });
  }

  /**
   * Deletes the referrers of a manifest just deleted, and theirs in turn, each with its tags, until
   * no more go: a referrer an index lists stays, unless that index was itself a referrer that went.
   * Returns their digests.
   */
  async #deleteReferrersOf(trx: Transaction<Database>, repositoryId: number, digest: string): Promise<string[]> {
    const referrers: string[] = [];
    // All subjects deleted so far: an index that goes frees a referrer of an earlier one.
    const subjects = [digest];
    for (;;) {
      const candidates: string[] = [];
      for (const chunk of chunks(subjects, IN_LIST_CHUNK)) {
        // Locked before the index check, as in deleteOrphanedReferrer.
        const rows = await trx
          .selectFrom('manifests')
          .select('digest')
          .where('repository_id', '=', repositoryId)
          .where('subject_digest', 'in', chunk)
          .orderBy('digest')
          .$if(this.dialect === 'postgres', (qb) => qb.forUpdate())
          .execute();
        candidates.push(...rows.map((row) => row.digest));
      }
      const listed = await this.#listedByIndex(trx, repositoryId, candidates);
      const deleted = candidates.filter((candidate) => !listed.has(candidate));
      if (deleted.length === 0) return referrers;
      for (const referrer of deleted) await this.#deleteManifestRows(trx, repositoryId, referrer);
      subjects.push(...deleted);
      referrers.push(...deleted);
    }
  }

  /** Which of `digests` an image index of the repository lists. */
  async #listedByIndex(trx: Transaction<Database>, repositoryId: number, digests: readonly string[]): Promise<Set<string>> {
    const listed = new Set<string>();
    for (const chunk of chunks(digests, IN_LIST_CHUNK)) {
      const rows = await trx
        .selectFrom('manifest_references')
        .select('child_digest')
        .where('repository_id', '=', repositoryId)
        .where('kind', '=', 'manifest')
        .where('child_digest', 'in', chunk)
        .execute();
      for (const row of rows) listed.add(row.child_digest);
    }
    return listed;
  }

  /** Deletes a manifest with its tags and references, if it is in `storageClass` when given. */
  async #deleteManifestRows(trx: Transaction<Database>, repositoryId: number, digest: string, storageClass?: StorageClass): Promise<boolean> {
    if (storageClass !== undefined) {
      const row = await trx
        .selectFrom('manifests')
        .select('storage_class')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .$if(this.dialect === 'postgres', (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (row?.storage_class !== storageClass) return false;
    }
    await trx.deleteFrom('tags').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
    await trx.deleteFrom('manifest_references').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
    const result = await trx.deleteFrom('manifests').where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteTag(repositoryId: number, tag: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('tags')
      .where('repository_id', '=', repositoryId)
      .where('name', '=', tag)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listTags(repositoryId: number, limit: number, last?: string): Promise<Page<TagRecord>> {
    const n = pageLimit(limit);
    const rows = await this.db
      .selectFrom('tags')
      .select(['name', 'manifest_digest', 'updated_at'])
      .where('repository_id', '=', repositoryId)
      .$if(last !== undefined, (qb) => qb.where('name', '>', last as string))
      .orderBy('name')
      .limit(n + 1)
      .execute();
    return {
      items: rows.slice(0, n).map((r) => ({ name: r.name, digest: r.manifest_digest, updatedAt: num(r.updated_at) })),
      more: rows.length > n,
    };
  }

  async listTagNames(repositoryId: number, limit: number, last?: string): Promise<Page<string>> {
    const n = pageLimit(limit);
    const rows = await this.db
      .selectFrom('tags')
      .select('name')
      .where('repository_id', '=', repositoryId)
      .$if(last !== undefined, (qb) => qb.where('name', '>', last as string))
      .orderBy('name')
      .limit(n + 1)
      .execute();
    return { items: rows.slice(0, n).map((r) => r.name), more: rows.length > n };
  }

  async listReferrers(repositoryId: number, subjectDigest: string, artifactType?: string): Promise<ManifestRecord[]> {
    const rows = await this.db
      .selectFrom('manifests as m')
      .select(MANIFEST_COLUMNS)
      .where('m.repository_id', '=', repositoryId)
      .where('m.subject_digest', '=', subjectDigest)
      .$if(artifactType !== undefined, (qb) => qb.where('m.artifact_type', '=', artifactType as string))
      .orderBy('m.created_at')
      .orderBy('m.digest')
      .execute();
    return rows.map(toManifest);
  }

  // ---------------------------------------------------------------- uploads

  async createUpload(session: UploadSession): Promise<void> {
    await this.db
      .insertInto('uploads')
      .values({
        id: session.id,
        repository_id: session.repositoryId,
        size: session.size,
        started_at: session.startedAt,
        updated_at: session.updatedAt,
      })
      .execute();
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const row = await this.#q.getUpload.first(this.db, id);
    return row && toUpload(row);
  }

  async claimUpload(id: string, expectedSize: number, writer: string, now: number, staleBefore: number): Promise<boolean> {
    const result = await this.#q.claimUpload.execute(this.db, id, expectedSize, writer, now, staleBefore);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  async releaseUpload(id: string, writer: string, size: number, updatedAt: number): Promise<boolean> {
    const result = await this.#q.releaseUpload.execute(this.db, id, writer, size, updatedAt);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  async deleteUpload(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listStaleUploads(updatedBefore: number, limit: number): Promise<UploadSession[]> {
    const rows = await this.db
      .selectFrom('uploads')
      .select(UPLOAD_COLUMNS)
      .where('updated_at', '<', updatedBefore)
      // A chunk still streaming in holds a claim and has not updated the session yet.
      .where((eb) => eb.or([eb('writer', 'is', null), eb('claimed_at', '<', updatedBefore)]))
      .orderBy('updated_at')
      .orderBy('id')
      .limit(pageLimit(limit))
      .execute();
    return rows.map(toUpload);
  }
}
