import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, sql } from 'kysely';
import pg from 'pg';
import { AccountConflictError, DEFAULT_REPOSITORY_SETTINGS, type ManifestRecord, type ManifestReference, type MetadataStore, type NewManifest } from '../src/storage/metadata-store.js';
import { openMetadataStore, openSqlMetadataStore, parseDatabaseUrl } from '../src/storage/sql/open.js';
import { InCodeMigrationProvider, MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../src/storage/sql/migrations.js';
import { SqlMetadataStore } from '../src/storage/sql/sql-metadata-store.js';
import { dropSchema, freshSchemaUrl, pgBaseUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';

// ---------------------------------------------------------------- helpers

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

let counter = 0;
/** A fresh digest, unique within this run. */
function newDigest(label = 'x'): string {
  counter += 1;
  return digestOf(`${label}-${counter}-${randomBytes(8).toString('hex')}`);
}

function manifest(
  references: ManifestReference[],
  extra: Partial<Omit<NewManifest, 'references'>> = {},
): NewManifest {
  const content = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, references, nonce: randomBytes(8).toString('hex') }),
  );
  return {
    digest: `sha256:${createHash('sha256').update(content).digest('hex')}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.oci.image.config.v1+json',
    subjectDigest: null,
    size: content.byteLength,
    content,
    annotations: null,
    references,
    ...extra,
  };
}

function bytesEqual(actual: Uint8Array, expected: Uint8Array): void {
  assert.ok(actual instanceof Uint8Array, 'content is a Uint8Array');
  assert.deepEqual(Buffer.from(actual), Buffer.from(expected));
}

function assertManifest(actual: ManifestRecord | undefined, repositoryId: number, expected: NewManifest): void {
  assert.ok(actual, `manifest ${expected.digest} exists`);
  assert.equal(actual.repositoryId, repositoryId);
  assert.equal(actual.digest, expected.digest);
  assert.equal(actual.mediaType, expected.mediaType);
  assert.equal(actual.artifactType, expected.artifactType);
  assert.equal(actual.subjectDigest, expected.subjectDigest);
  assert.equal(actual.size, expected.size);
  assert.equal(typeof actual.size, 'number');
  assert.equal(actual.annotations, expected.annotations);
  assert.equal(typeof actual.createdAt, 'number');
  assert.ok(actual.createdAt > 1_600_000_000_000, 'createdAt is epoch milliseconds');
  bytesEqual(actual.content, expected.content);
}

/** Byte-wise (OCI lexical) order, as opposed to JavaScript's UTF-16 order or a locale's. */
function byteSorted(names: string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A pushed, linked blob. */
async function linkedBlob(store: MetadataStore, repositoryId: number, size = 1234): Promise<string> {
  const digest = newDigest('blob');
  await store.putBlob(digest, size);
  await store.linkBlob(repositoryId, digest);
  return digest;
}

/** An image manifest (config + one layer, both linked) stored in the repository. */
async function storedImage(
  store: MetadataStore,
  repositoryId: number,
  tag?: string,
  extra: Partial<Omit<NewManifest, 'references'>> = {},
): Promise<NewManifest> {
  const config = await linkedBlob(store, repositoryId);
  const layer = await linkedBlob(store, repositoryId);
  const m = manifest(
    [
      { digest: config, kind: 'blob' },
      { digest: layer, kind: 'blob' },
    ],
    extra,
  );
  assert.deepEqual(await store.putManifest(repositoryId, m, tag), { ok: true });
  return m;
}

// ---------------------------------------------------------------- the shared suite

/**
 * Runs every MetadataStore behaviour against one backend. `open` returns a
 * new store over the same database each time (the suite opens a second one
 * to race against and to re-migrate); `cleanup` removes the database once all
 * stores are closed. Tests share one database and keep to their own
 * repositories, so they can run in any order.
 */
function runMetadataStoreSuite(name: string, open: () => Promise<MetadataStore>, cleanup: () => Promise<void>): void {
  describe(name, () => {
    let store: MetadataStore;
    let other: MetadataStore;

    before(async () => {
      store = await open();
      await store.migrate();
      other = await open();
    });

    after(async () => {
      await other?.close();
      await store?.close();
      await cleanup();
    });

    describe('migrations', () => {
      test('re-migrating is a no-op and keeps data', async () => {
        const repo = await store.ensureRepository('migrate/keep');
        await store.migrate();
        await other.migrate();
        const third = await open();
        try {
          await third.migrate();
          assert.deepEqual(await third.getRepository('migrate/keep'), repo);
        } finally {
          await third.close();
        }
        assert.deepEqual(await store.getRepository('migrate/keep'), repo);
      });
    });

    describe('accounts', () => {
      test('create, get by id and by alias, list; ids and aliases are unique', async () => {
        const account = { accountId: '210987654321', publicAlias: 'suite-alias', registryPolicy: null, createdAt: Date.now() };
        await store.createAccount(account);
        assert.deepEqual(await other.getAccount('210987654321'), account);
        assert.deepEqual(await other.getAccountByAlias('suite-alias'), account);
        assert.equal(await store.getAccount('210987654322'), undefined);
        assert.equal(await store.getAccountByAlias('nobody'), undefined);
        await assert.rejects(store.createAccount({ ...account, publicAlias: 'other-alias' }), AccountConflictError);
        await assert.rejects(store.createAccount({ ...account, accountId: '210987654322' }), AccountConflictError);
        assert.equal(await store.getAccount('210987654322'), undefined, 'a refused account is not half created');
        assert.ok((await store.listAccounts()).some((a) => a.accountId === '210987654321'));
      });

      test('ensureAccount creates once and keeps what exists', async () => {
        const first = await store.ensureAccount({ accountId: '310987654321', publicAlias: 'ensure-a', registryPolicy: null, createdAt: 1_700_000_000_000 });
        const again = await other.ensureAccount({ accountId: '310987654321', publicAlias: 'ensure-b', registryPolicy: null, createdAt: Date.now() });
        assert.deepEqual(again, first);
        assert.equal(first.publicAlias, 'ensure-a');
      });

      test('a registry policy is set and removed, and moves the authorization generation', async () => {
        await store.ensureAccount({ accountId: '410987654321', publicAlias: 'registry-policy', registryPolicy: null, createdAt: Date.now() });
        const before = await store.authorizationGeneration();
        assert.equal(await store.setRegistryPolicy('410987654321', '{"Statement":[]}'), true);
        assert.equal((await other.getAccount('410987654321'))?.registryPolicy, '{"Statement":[]}');
        assert.notEqual(await store.authorizationGeneration(), before);
        assert.equal(await store.setRegistryPolicy('410987654321', null), true);
        assert.equal((await store.getAccount('410987654321'))?.registryPolicy, null);
        assert.equal(await store.setRegistryPolicy('999999999990', '{}'), false);
      });
    });

    describe('repositories', () => {
      test('ensureRepository creates once and getRepository finds it', async () => {
        assert.equal(await store.getRepository('repo/create'), undefined);
        const created = await store.ensureRepository('repo/create');
        assert.equal(created.name, 'repo/create');
        assert.equal(typeof created.id, 'number');
        assert.equal(typeof created.createdAt, 'number');
        assert.ok(Math.abs(created.createdAt - Date.now()) < 60_000);
        await sleep(3);
        assert.deepEqual(await store.ensureRepository('repo/create'), created);
        assert.deepEqual(await store.getRepository('repo/create'), created);
        const second = await store.ensureRepository('repo/create-2');
        assert.notEqual(second.id, created.id);
      });

      test('concurrent ensureRepository calls get the same row', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : other).ensureRepository('repo/concurrent')),
        );
        const ids = new Set(results.map((r) => r.id));
        assert.equal(ids.size, 1);
        for (const r of results) assert.deepEqual(r, results[0]);
        assert.deepEqual(await store.getRepository('repo/concurrent'), results[0]);
      });

      test('listRepositories pages in byte order with `more`', async () => {
        const names = ['order/b', 'order/a_b', 'order/B', 'order/ab', 'order/a.b', 'order/a', 'order/a-b'];
        for (const n of names) await store.ensureRepository(n);
        const expected = byteSorted(names);
        assert.deepEqual(expected, ['order/B', 'order/a', 'order/a-b', 'order/a.b', 'order/a_b', 'order/ab', 'order/b']);

        // Page through our names, three at a time, starting just before them.
        const seen: string[] = [];
        let last = 'order/';
        while (seen.length < expected.length) {
          const page = await store.listRepositories(3, last);
          assert.ok(page.items.length > 0);
          assert.equal(page.more, true, 'other repositories sort after order/*');
          seen.push(...page.items.filter((n) => n.startsWith('order/')));
          last = page.items[page.items.length - 1] as string;
        }
        assert.deepEqual(seen.slice(0, expected.length), expected);
        assert.deepEqual((await store.listRepositories(2, 'order/a')).items, ['order/a-b', 'order/a.b']);
        // `last` need not exist.
        assert.deepEqual((await store.listRepositories(2, 'order/a/')).items, ['order/a_b', 'order/ab']);
      });

      test('listRepositories keeps to a prefix when given one', async () => {
        for (const n of ['111111111111/b', '111111111111/a/x', '111111111111-public/a', '1111111111110/z', '111111111112/a']) await store.ensureRepository(n);
        assert.deepEqual(await store.listRepositories(10, undefined, '111111111111/'), { items: ['111111111111/a/x', '111111111111/b'], more: false });
        assert.deepEqual(await store.listRepositories(1, undefined, '111111111111/'), { items: ['111111111111/a/x'], more: true });
        assert.deepEqual(await store.listRepositories(5, '111111111111/a/x', '111111111111/'), { items: ['111111111111/b'], more: false });
        assert.deepEqual(await store.listRepositories(5, undefined, '111111111111-public/'), { items: ['111111111111-public/a'], more: false });
      });

      test('a repository policy is stored, replaced, removed, and moves the authorization generation', async () => {
        const repo = await store.ensureRepository('policy/repo');
        assert.equal(repo.policy, null);
        const before = await store.authorizationGeneration();
        assert.equal(await store.setRepositoryPolicy(repo.id, '{"Version":"2012-10-17","Statement":[]}'), true);
        assert.equal((await other.getRepository('policy/repo'))?.policy, '{"Version":"2012-10-17","Statement":[]}');
        const after = await other.authorizationGeneration();
        assert.notEqual(after, before);
        assert.equal(await store.setRepositoryPolicy(repo.id, null), true);
        assert.equal((await store.getRepository('policy/repo'))?.policy, null);
        assert.notEqual(await store.authorizationGeneration(), after);
        assert.equal(await store.setRepositoryPolicy(2_000_000_000, 'x'), false);
      });

      test('listRepositories reports `more` exactly at the end', async () => {
        await store.ensureRepository('zzzz/2');
        await store.ensureRepository('zzzz/1');
        assert.deepEqual(await store.listRepositories(1, 'zzzz/'), { items: ['zzzz/1'], more: true });
        assert.deepEqual(await store.listRepositories(1, 'zzzz/1'), { items: ['zzzz/2'], more: false });
        assert.deepEqual(await store.listRepositories(2, 'zzzz/'), { items: ['zzzz/1', 'zzzz/2'], more: false });
        assert.deepEqual(await store.listRepositories(5, 'zzzz/1'), { items: ['zzzz/2'], more: false });
        assert.deepEqual(await store.listRepositories(5, 'zzzz/2'), { items: [], more: false });
        assert.deepEqual(await store.listRepositories(0, 'zzzz/'), { items: [], more: true });
      });

      test('walking every page yields the full list in byte order', async () => {
        await store.ensureRepository('walk/one');
        const all = await store.listRepositories(100_000);
        assert.equal(all.more, false);
        assert.deepEqual(all.items, byteSorted(all.items));
        assert.ok(all.items.includes('walk/one'));
        const walked: string[] = [];
        let last: string | undefined;
        for (;;) {
          const page = await store.listRepositories(2, last);
          walked.push(...page.items);
          if (!page.more) break;
          assert.equal(page.items.length, 2);
          last = page.items[1];
        }
        assert.deepEqual(walked, all.items);
      });
    });

    describe('blobs', () => {
      test('putBlob is idempotent and sizes beyond 32 bits come back as numbers', async () => {
        const digest = newDigest('big');
        const size = 5 * 1024 ** 3 + 7;
        assert.equal(await store.getBlob(digest), undefined);
        await store.putBlob(digest, size);
        const first = await store.getBlob(digest);
        assert.ok(first);
        assert.equal(first.digest, digest);
        assert.equal(first.size, size);
        assert.equal(typeof first.size, 'number');
        assert.equal(typeof first.createdAt, 'number');
        await sleep(3);
        await store.putBlob(digest, size);
        await Promise.all([store.putBlob(digest, size), other.putBlob(digest, size)]);
        assert.deepEqual(await store.getBlob(digest), first);
      });

      test('link, getLinkedBlob, unlink', async () => {
        const a = await store.ensureRepository('blobs/a');
        const b = await store.ensureRepository('blobs/b');
        const digest = newDigest('blob');
        await store.putBlob(digest, 42);
        assert.equal(await store.getLinkedBlob(a.id, digest), undefined);
        await store.linkBlob(a.id, digest);
        await store.linkBlob(a.id, digest); // idempotent
        await Promise.all([store.linkBlob(a.id, digest), other.linkBlob(a.id, digest)]);
        const linked = await store.getLinkedBlob(a.id, digest);
        assert.deepEqual(linked, await store.getBlob(digest));
        assert.equal(linked?.size, 42);
        assert.equal(await store.getLinkedBlob(b.id, digest), undefined, 'not linked to another repository');
        assert.equal(await store.unlinkBlob(b.id, digest), false);
        assert.equal(await store.unlinkBlob(a.id, digest), true);
        assert.equal(await store.unlinkBlob(a.id, digest), false);
        assert.equal(await store.getLinkedBlob(a.id, digest), undefined);
        assert.ok(await store.getBlob(digest), 'the blob record stays');
      });

      test('linkBlob rejects a blob that does not exist', async () => {
        const repo = await store.ensureRepository('blobs/missing');
        await assert.rejects(store.linkBlob(repo.id, newDigest('absent')));
      });
    });

    describe('ECR repository settings and images', () => {
      test('createRepository stores settings and refuses a taken name; settings change in part', async () => {
        const settings = { ...DEFAULT_REPOSITORY_SETTINGS, imageTagMutability: 'IMMUTABLE' as const, scanOnPush: true, resourceTags: '[{"Key":"team","Value":"a"}]' };
        const created = await store.createRepository('ecr/settings', settings, null);
        assert.ok(created);
        assert.deepEqual(created.settings, settings);
        assert.equal(await other.createRepository('ecr/settings', DEFAULT_REPOSITORY_SETTINGS, null), undefined);
        assert.deepEqual((await other.getRepository('ecr/settings'))?.settings, settings);
        assert.equal(await store.updateRepositorySettings(created.id, { scanOnPush: false, lifecyclePolicy: '{"rules":[]}' }), true);
        assert.deepEqual((await store.getRepository('ecr/settings'))?.settings, { ...settings, scanOnPush: false, lifecyclePolicy: '{"rules":[]}' });
        assert.equal(await store.updateRepositorySettings(2_000_000_000, { scanOnPush: true }), false);
        const listed = await store.listRepositoryRecords(10, undefined, 'ecr/settings');
        assert.deepEqual(listed.items.map((r) => r.name), ['ecr/settings']);
      });

      test('an immutable tag is not moved, and nothing else of that put happens', async () => {
        const repo = await store.ensureRepository('ecr/immutable');
        const first = await storedImage(store, repo.id, 'v1');
        const config = await linkedBlob(store, repo.id);
        const second = manifest([{ digest: config, kind: 'blob' }]);
        const refused = await store.putManifest(repo.id, second, 'v1', { tagImmutable: true });
        assert.deepEqual(refused, { ok: false, immutableTag: 'v1', taggedDigest: first.digest });
        assert.equal(await store.getManifest(repo.id, second.digest), undefined);
        assert.equal((await store.getTaggedManifest(repo.id, 'v1'))?.digest, first.digest);
        // The same manifest again, or a new tag, is fine.
        assert.deepEqual(await store.putManifest(repo.id, first, 'v1', { tagImmutable: true }), { ok: true });
        assert.deepEqual(await store.putManifest(repo.id, second, 'v2', { tagImmutable: true }), { ok: true });
      });

      test('listImageIds: one entry per tag and per untagged image, by digest then tag, filtered and paged', async () => {
        const repo = await store.ensureRepository('ecr/list-images');
        const a = await storedImage(store, repo.id, 'b-tag');
        await store.putManifest(repo.id, a, 'a-tag');
        const untagged = await storedImage(store, repo.id);
        const expected = [
          { digest: a.digest, tag: 'a-tag' },
          { digest: a.digest, tag: 'b-tag' },
          { digest: untagged.digest, tag: null },
        ].sort((x, y) => (x.digest === y.digest ? String(x.tag).localeCompare(String(y.tag)) : x.digest < y.digest ? -1 : 1));
        const all = await store.listImageIds(repo.id, { tagStatus: 'ANY' }, 10);
        assert.deepEqual(all, { items: expected, more: false });
        const paged: { digest: string; tag: string | null }[] = [];
        let after: { digest: string; tag: string | null } | undefined;
        for (;;) {
          const page = await store.listImageIds(repo.id, { tagStatus: 'ANY' }, 1, after);
          paged.push(...page.items);
          if (!page.more) break;
          after = page.items.at(-1);
        }
        assert.deepEqual(paged, expected);
        assert.deepEqual((await store.listImageIds(repo.id, { tagStatus: 'UNTAGGED' }, 10)).items, [{ digest: untagged.digest, tag: null }]);
        assert.equal((await store.listImageIds(repo.id, { tagStatus: 'TAGGED' }, 10)).items.length, 2);
      });

      test('describeImages: tags, sizes, push and pull times, storage class, index membership', async () => {
        const repo = await store.ensureRepository('ecr/describe');
        const image = await storedImage(store, repo.id, 'v1');
        const index = manifest([{ digest: image.digest, kind: 'manifest' }], { mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null });
        assert.deepEqual(await store.putManifest(repo.id, index, 'multi'), { ok: true });
        const { items } = await store.describeImages(repo.id, { digests: [image.digest, 'sha256:' + '0'.repeat(64)] });
        assert.equal(items.length, 1);
        const described = items[0];
        assert.ok(described);
        assert.deepEqual(described.tags, ['v1']);
        const blobSizes = await Promise.all(image.references.map(async (r) => (await store.getBlob(r.digest))?.size ?? 0));
        assert.equal(described.blobsSize, blobSizes.reduce((x, y) => x + y, 0));
        assert.equal(described.manifestSize, image.size);
        assert.equal(described.referencedByIndex, true);
        assert.equal(described.storageClass, 'STANDARD');
        assert.equal(described.lastPulledAt, undefined);
        await store.recordPulls([{ repositoryId: repo.id, digest: image.digest, at: 2_000_000_000_000 }]);
        await store.recordPulls([{ repositoryId: repo.id, digest: image.digest, at: 1_900_000_000_000 }]);
        assert.equal((await store.describeImages(repo.id, { digests: [image.digest] })).items[0]?.lastPulledAt, 2_000_000_000_000, 'pull times only move forward');
        assert.equal(await store.setStorageClass(repo.id, image.digest, 'ARCHIVE', 1_950_000_000_000), true);
        const archived = (await store.describeImages(repo.id, { digests: [image.digest] })).items[0];
        assert.equal(archived?.storageClass, 'ARCHIVE');
        assert.equal(archived?.storageClassChangedAt, 1_950_000_000_000);
        const indexRecord = (await store.describeImages(repo.id, { digests: [index.digest] })).items[0];
        assert.equal(indexRecord?.referencedByIndex, false);
        const pages: string[] = [];
        let afterDigest: string | undefined;
        for (;;) {
          const page = await store.describeImages(repo.id, { limit: 1, ...(afterDigest ? { afterDigest } : {}) });
          pages.push(...page.items.map((i) => i.digest));
          if (!page.more) break;
          afterDigest = page.items.at(-1)?.digest;
        }
        assert.deepEqual(pages, [image.digest, index.digest].sort());
        assert.equal(await store.countImages(repo.id), 2);
      });

      test('storage class: resolveManifest reports archived, listings filter by class, a re-put restores', async () => {
        const repo = await store.ensureRepository('ecr/storage-class');
        const kept = await storedImage(store, repo.id, 'kept');
        const archived = await storedImage(store, repo.id, 'old');
        assert.equal(await store.setStorageClass(repo.id, archived.digest, 'ARCHIVE', 1_950_000_000_000), true);
        assert.deepEqual(await store.resolveManifest('ecr/storage-class', { tag: 'old' }), { repositoryId: repo.id, digest: archived.digest, archived: true });
        assert.deepEqual(await store.resolveManifest('ecr/storage-class', { digest: archived.digest }), { repositoryId: repo.id, digest: archived.digest, archived: true });
        assert.deepEqual(await store.resolveManifest('ecr/storage-class', { tag: 'kept' }), { repositoryId: repo.id, digest: kept.digest, archived: false });
        assert.deepEqual(await store.resolveManifest('ecr/storage-class', { tag: 'none' }), { repositoryId: repo.id, digest: undefined, archived: false });
        assert.deepEqual((await store.listImageIds(repo.id, { tagStatus: 'ANY', storageClass: 'ARCHIVE' }, 10)).items, [{ digest: archived.digest, tag: 'old' }]);
        assert.deepEqual((await store.listImageIds(repo.id, { tagStatus: 'ANY', storageClass: 'STANDARD' }, 10)).items, [{ digest: kept.digest, tag: 'kept' }]);
        assert.deepEqual((await store.describeImages(repo.id, { storageClass: 'ARCHIVE' })).items.map((i) => i.digest), [archived.digest]);
        assert.equal((await store.describeImages(repo.id, {})).items.length, 2);
        const beforeRestore = Date.now();
        assert.deepEqual(await store.putManifest(repo.id, archived, 'old'), { ok: true });
        const restored = (await store.describeImages(repo.id, { digests: [archived.digest] })).items[0];
        assert.equal(restored?.storageClass, 'STANDARD');
        assert.ok((restored?.storageClassChangedAt ?? 0) >= beforeRestore, 'the restore time is recorded');
      });

      test('isBlobReferenced: only blobs a manifest of the repository references', async () => {
        const repo = await store.ensureRepository('ecr/referenced');
        const image = await storedImage(store, repo.id, 'v1');
        const loose = await linkedBlob(store, repo.id);
        const elsewhere = await store.ensureRepository('ecr/referenced-other');
        for (const reference of image.references) assert.equal(await store.isBlobReferenced(repo.id, reference.digest), true);
        assert.equal(await store.isBlobReferenced(repo.id, loose), false);
        assert.equal(await store.isBlobReferenced(elsewhere.id, image.references[0]?.digest ?? ''), false);
        await store.deleteManifest(repo.id, image.digest);
        assert.equal(await store.isBlobReferenced(repo.id, image.references[0]?.digest ?? ''), false);
      });

      test('deleteRepository: refuses a non-empty one unless forced, then removes everything', async () => {
        const repo = await store.ensureRepository('ecr/delete');
        await storedImage(store, repo.id, 'v1');
        assert.equal(await store.deleteRepository(repo.id, false), 'not-empty');
        assert.ok(await store.getRepository('ecr/delete'));
        assert.equal(await store.deleteRepository(repo.id, true), 'deleted');
        assert.equal(await store.getRepository('ecr/delete'), undefined);
        assert.equal(await store.deleteRepository(repo.id, true), 'missing');
        const empty = await store.ensureRepository('ecr/delete-empty');
        assert.equal(await store.deleteRepository(empty.id, false), 'deleted');
      });

      test('events are appended and listed per account, oldest first', async () => {
        const base = { source: 'aws.ecr', detailType: 'ECR Lifecycle Policy Action', resources: ['arn:aws:ecr:us-east-1:510987654321:repository/x'], createdAt: 1 };
        await store.recordEvent({ ...base, accountId: '510987654321', detail: { n: 1 } });
        await other.recordEvent({ ...base, accountId: '510987654321', detail: { n: 2 } });
        await store.recordEvent({ ...base, accountId: '510987654322', detail: { n: 3 } });
        const events = await store.listEvents('510987654321', 10);
        assert.deepEqual(events.map((e) => e.detail), [{ n: 1 }, { n: 2 }]);
        assert.deepEqual((await store.listEvents('510987654321', 10, events[0]?.id)).map((e) => e.detail), [{ n: 2 }]);
      });
    });

    describe('lifecycle', () => {
      const policy = '{"rules":[{"rulePriority":1}]}';

      test('recordLifecycleEvaluation: only for the current policy, only forward; setting or removing the policy clears it', async () => {
        const repo = await store.ensureRepository('lifecycle/evaluated');
        assert.equal(repo.lifecycleEvaluatedAt, null);
        assert.equal(await store.recordLifecycleEvaluation(repo.id, policy, 1_000), false, 'no policy');
        await store.updateRepositorySettings(repo.id, { lifecyclePolicy: policy });
        assert.equal(await store.recordLifecycleEvaluation(repo.id, '{"rules":[]}', 1_000), false, 'another policy');
        assert.equal(await store.recordLifecycleEvaluation(repo.id, policy, 2_000), true);
        assert.equal(await other.recordLifecycleEvaluation(repo.id, policy, 1_500), false, 'an earlier evaluation');
        assert.equal((await other.getRepository('lifecycle/evaluated'))?.lifecycleEvaluatedAt, 2_000);
        assert.equal(await other.recordLifecycleEvaluation(repo.id, policy, 3_000), true);
        assert.equal((await store.getRepository('lifecycle/evaluated'))?.lifecycleEvaluatedAt, 3_000);
        assert.equal((await store.listRepositoryRecords(10, undefined, 'lifecycle/evaluated')).items[0]?.lifecycleEvaluatedAt, 3_000);
        await store.updateRepositorySettings(repo.id, { lifecyclePolicy: policy });
        assert.equal((await store.getRepository('lifecycle/evaluated'))?.lifecycleEvaluatedAt, null);
        assert.equal(await store.recordLifecycleEvaluation(repo.id, policy, 4_000), true);
        await store.updateRepositorySettings(repo.id, { scanOnPush: true });
        assert.equal((await store.getRepository('lifecycle/evaluated'))?.lifecycleEvaluatedAt, 4_000, 'other settings leave it');
        await store.updateRepositorySettings(repo.id, { lifecyclePolicy: null });
        assert.equal((await store.getRepository('lifecycle/evaluated'))?.lifecycleEvaluatedAt, null);
      });

      test('lifecycle previews: the latest per repository, read by every store, gone with the repository', async () => {
        const repo = await store.ensureRepository('lifecycle/preview');
        const elsewhere = await store.ensureRepository('lifecycle/preview-other');
        assert.equal(await store.getLifecyclePreview(repo.id), undefined);
        const first = { repositoryId: repo.id, previewId: 'p1', startedAt: 5_000_000_000_000, policyText: policy, status: 'COMPLETE' as const, results: '[{"imageDigest":"sha256:1"}]', summary: '{"expiringImageTotalCount":1}' };
        await store.putLifecyclePreview(first);
        assert.deepEqual(await other.getLifecyclePreview(repo.id), first);
        const second = { ...first, previewId: 'p2', startedAt: 5_000_000_000_001, status: 'IN_PROGRESS' as const, results: '[]', summary: '{"expiringImageTotalCount":0}' };
        await other.putLifecyclePreview(second);
        assert.deepEqual(await store.getLifecyclePreview(repo.id), second);
        assert.equal(await store.getLifecyclePreview(elsewhere.id), undefined);
        assert.equal(await store.deleteRepository(repo.id, true), 'deleted');
        assert.equal(await store.getLifecyclePreview(repo.id), undefined);
      });

      test('deleteManifestWithReferrers: its referrers and theirs go in the same transaction, except those an index lists', async () => {
        const repo = await store.ensureRepository('lifecycle/referrers');
        const subject = await storedImage(store, repo.id, 'v1');
        const kept = await storedImage(store, repo.id, 'v2');
        const signature = await storedImage(store, repo.id, 'signature-tag', { artifactType: 'application/vnd.example.signature', subjectDigest: subject.digest });
        const sbom = await storedImage(store, repo.id, undefined, { artifactType: 'application/vnd.example.sbom', subjectDigest: subject.digest });
        const sbomSignature = await storedImage(store, repo.id, undefined, { artifactType: 'application/vnd.example.signature', subjectDigest: sbom.digest });
        const listed = await storedImage(store, repo.id, undefined, { artifactType: 'application/vnd.example.signature', subjectDigest: subject.digest });
        const index = manifest([{ digest: listed.digest, kind: 'manifest' }], { mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null });
        assert.deepEqual(await store.putManifest(repo.id, index, 'bundle'), { ok: true });
        // An index that is itself a referrer protects nothing once it goes with its subject.
        const attestations = await storedImage(store, repo.id, undefined, { artifactType: 'application/vnd.example.attestation', subjectDigest: subject.digest });
        const attestationIndex = manifest([{ digest: attestations.digest, kind: 'manifest' }], { mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null, subjectDigest: subject.digest });
        assert.deepEqual(await store.putManifest(repo.id, attestationIndex), { ok: true });
        const ofKept = await storedImage(store, repo.id, undefined, { subjectDigest: kept.digest });
        const elsewhere = await store.ensureRepository('lifecycle/referrers-other');
        const foreign = await storedImage(store, elsewhere.id, undefined, { subjectDigest: subject.digest });

        assert.equal(await store.deleteManifestWithReferrers(repo.id, subject.digest, { storageClass: 'ARCHIVE' }), undefined, 'not in that storage class');
        assert.ok(await store.getManifest(repo.id, subject.digest));
        const referrers = await store.deleteManifestWithReferrers(repo.id, subject.digest, { storageClass: 'STANDARD' });
        assert.deepEqual(referrers?.slice().sort(), [signature.digest, sbom.digest, sbomSignature.digest, attestationIndex.digest, attestations.digest].sort());
        const left = (await store.describeImages(repo.id, {})).items.map((image) => image.digest).sort();
        assert.deepEqual(left, [kept.digest, listed.digest, index.digest, ofKept.digest].sort());
        assert.equal(await store.getTaggedManifest(repo.id, 'signature-tag'), undefined, 'with their tags');
        assert.ok(await store.getManifest(elsewhere.id, foreign.digest), 'other repositories are untouched');
        assert.equal(await other.deleteManifestWithReferrers(repo.id, subject.digest), undefined, 'once');
        assert.deepEqual(await store.deleteManifestWithReferrers(repo.id, ofKept.digest), [], 'an image without referrers');
      });

      test('deleteOrphanedReferrer: only a referrer whose subject is not in the repository, pushed before the limit and listed by no index; with its own referrers', async () => {
        const repo = await store.ensureRepository('lifecycle/orphans');
        const subject = await storedImage(store, repo.id, 'v1');
        const orphan = await storedImage(store, repo.id, 'orphan-tag', { artifactType: 'application/vnd.example.sbom', subjectDigest: subject.digest });
        const orphanSignature = await storedImage(store, repo.id, undefined, { artifactType: 'application/vnd.example.signature', subjectDigest: orphan.digest });
        const neverPushed = `sha256:${'0'.repeat(64)}`;
        const early = await storedImage(store, repo.id, undefined, { subjectDigest: neverPushed });
        const listed = await storedImage(store, repo.id, undefined, { subjectDigest: neverPushed });
        const index = manifest([{ digest: listed.digest, kind: 'manifest' }], { mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null });
        assert.deepEqual(await store.putManifest(repo.id, index, 'bundle'), { ok: true });
        const elsewhere = await store.ensureRepository('lifecycle/orphans-other');
        const foreignSubject = await storedImage(store, elsewhere.id);
        const pushedBefore = Date.now() + 60_000;

        assert.equal(await store.deleteOrphanedReferrer(repo.id, orphan.digest, pushedBefore), undefined, 'its subject is there');
        assert.equal(await store.deleteManifest(repo.id, subject.digest), true);
        assert.equal(await store.deleteOrphanedReferrer(repo.id, orphan.digest, 0), undefined, 'pushed after the limit');
        assert.deepEqual(await store.deleteOrphanedReferrer(repo.id, orphan.digest, pushedBefore), [orphanSignature.digest]);
        assert.equal(await store.getTaggedManifest(repo.id, 'orphan-tag'), undefined, 'with its tags');
        assert.equal(await other.deleteOrphanedReferrer(repo.id, orphan.digest, pushedBefore), undefined, 'once');
        assert.equal(await store.deleteOrphanedReferrer(repo.id, listed.digest, pushedBefore), undefined, 'an index lists it');
        assert.equal(await store.deleteOrphanedReferrer(repo.id, index.digest, pushedBefore), undefined, 'not a referrer');
        assert.equal(await store.deleteOrphanedReferrer(elsewhere.id, foreignSubject.digest, pushedBefore), undefined, 'not a referrer');
        assert.deepEqual(await store.deleteOrphanedReferrer(repo.id, early.digest, pushedBefore), [], 'a referrer whose subject never came');
        const left = (await store.describeImages(repo.id, {})).items.map((image) => image.digest).sort();
        assert.deepEqual(left, [listed.digest, index.digest].sort());

        // A subject pushed (again) before the sweep keeps its referrers.
        const returning = await storedImage(store, repo.id, 'v2');
        const kept = await storedImage(store, repo.id, undefined, { subjectDigest: returning.digest });
        assert.equal(await store.deleteManifest(repo.id, returning.digest), true);
        assert.deepEqual(await store.putManifest(repo.id, returning, 'v2'), { ok: true });
        assert.equal(await store.deleteOrphanedReferrer(repo.id, kept.digest, pushedBefore), undefined);
        assert.ok(await store.getManifest(repo.id, kept.digest));

        for (let round = 0; round < 5; round++) {
          const gone = await storedImage(store, repo.id);
          const referrer = await storedImage(store, repo.id, undefined, { subjectDigest: gone.digest });
          const itsReferrer = await storedImage(store, repo.id, undefined, { subjectDigest: referrer.digest });
          assert.equal(await store.deleteManifest(repo.id, gone.digest), true);
          const swept = await Promise.all([store, other].map((s) => s.deleteOrphanedReferrer(repo.id, referrer.digest, pushedBefore)));
          assert.deepEqual(swept.filter((result) => result !== undefined), [[itsReferrer.digest]], `round ${round}: exactly one store deletes it`);
        }
      });

      test('of two stores archiving, or expiring, the same image at once, exactly one does', async () => {
        const repo = await store.ensureRepository('lifecycle/race');
        for (let round = 0; round < 5; round++) {
          const image = await storedImage(store, repo.id);
          const archived = await Promise.all([store, other].map((s) => s.setStorageClass(repo.id, image.digest, 'ARCHIVE', 1_000 + round, 'STANDARD')));
          assert.deepEqual(archived.filter(Boolean).length, 1, `archive round ${round}`);
          assert.equal(await store.setStorageClass(repo.id, image.digest, 'ARCHIVE', 2_000, 'STANDARD'), false, 'no longer STANDARD');
          const referrer = await storedImage(store, repo.id, undefined, { subjectDigest: image.digest });
          const expired = await Promise.all([store, other].map((s) => s.deleteManifestWithReferrers(repo.id, image.digest, { storageClass: 'ARCHIVE' })));
          assert.deepEqual(expired.filter((result) => result !== undefined), [[referrer.digest]], `expire round ${round}`);
        }
        const image = await storedImage(store, repo.id);
        assert.equal(await store.setStorageClass(repo.id, image.digest, 'ARCHIVE', 3_000), true, 'without `from`, from any class');
        assert.equal(await store.setStorageClass(repo.id, image.digest, 'STANDARD', 3_001), true);
      });
    });

    describe('manifests', () => {
      test('putManifest stores the manifest and its tag', async () => {
        const repo = await store.ensureRepository('manifests/put');
        const config = await linkedBlob(store, repo.id);
        const layer = await linkedBlob(store, repo.id, 3 * 1024 ** 3);
        // A plain Uint8Array (not a Buffer) must round-trip too.
        const m = manifest(
          [
            { digest: config, kind: 'blob' },
            { digest: layer, kind: 'blob' },
          ],
          { annotations: JSON.stringify({ 'org.example': 'yes' }) },
        );
        m.content = new Uint8Array(m.content);
        assert.deepEqual(await store.putManifest(repo.id, m, 'v1'), { ok: true });
        assertManifest(await store.getManifest(repo.id, m.digest), repo.id, m);
        assertManifest(await store.getTaggedManifest(repo.id, 'v1'), repo.id, m);
        assert.equal(await store.getTaggedManifest(repo.id, 'nope'), undefined);
        assert.equal(await store.getManifest(repo.id, newDigest()), undefined);
        assert.deepEqual(await store.resolveManifest(repo.name, { tag: 'v1' }), { repositoryId: repo.id, digest: m.digest, archived: false });
        assert.deepEqual(await store.resolveManifest(repo.name, { digest: m.digest }), { repositoryId: repo.id, digest: m.digest, archived: false });
        assert.deepEqual(await store.resolveManifest(repo.name, { tag: 'nope' }), { repositoryId: repo.id, digest: undefined, archived: false });
        assert.deepEqual(await store.resolveManifest(repo.name, { digest: newDigest() }), { repositoryId: repo.id, digest: undefined, archived: false });
        assert.equal(await store.resolveManifest(`${repo.name}-missing`, { tag: 'v1' }), undefined);
        const tags = await store.listTags(repo.id, 10);
        assert.equal(tags.items.length, 1);
        assert.equal(tags.items[0]?.name, 'v1');
        assert.equal(tags.items[0]?.digest, m.digest);
        assert.equal(typeof tags.items[0]?.updatedAt, 'number');
      });

      test('a manifest without references and without a tag', async () => {
        const repo = await store.ensureRepository('manifests/bare');
        const m = manifest([], { artifactType: null });
        assert.deepEqual(await store.putManifest(repo.id, m), { ok: true });
        assertManifest(await store.getManifest(repo.id, m.digest), repo.id, m);
        assert.deepEqual(await store.listTags(repo.id, 10), { items: [], more: false });
      });

      test('manifests are scoped to their repository', async () => {
        const a = await store.ensureRepository('manifests/scope-a');
        const b = await store.ensureRepository('manifests/scope-b');
        const m = await storedImage(store, a.id, 'latest');
        assert.equal(await store.getManifest(b.id, m.digest), undefined);
        assert.equal(await store.getTaggedManifest(b.id, 'latest'), undefined);
      });

      test('re-putting the same digest is idempotent and keeps created_at', async () => {
        const repo = await store.ensureRepository('manifests/idempotent');
        const m = await storedImage(store, repo.id);
        const first = await store.getManifest(repo.id, m.digest);
        await sleep(5);
        assert.deepEqual(await store.putManifest(repo.id, m), { ok: true });
        assert.deepEqual(await store.putManifest(repo.id, m, 'later'), { ok: true });
        const again = await store.getManifest(repo.id, m.digest);
        assert.equal(again?.createdAt, first?.createdAt);
        assertManifest(await store.getTaggedManifest(repo.id, 'later'), repo.id, m);
      });

      test('concurrent identical puts all succeed', async () => {
        const repo = await store.ensureRepository('manifests/concurrent');
        const config = await linkedBlob(store, repo.id);
        const layer = await linkedBlob(store, repo.id);
        const m = manifest([
          { digest: config, kind: 'blob' },
          { digest: layer, kind: 'blob' },
        ]);
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store : other).putManifest(repo.id, m, 'latest')),
        );
        for (const r of results) assert.deepEqual(r, { ok: true });
        assertManifest(await store.getTaggedManifest(repo.id, 'latest'), repo.id, m);
        assert.equal((await store.listTags(repo.id, 10)).items.length, 1);
      });

      test('a blob that exists but is not linked is missing, and nothing changes', async () => {
        const repo = await store.ensureRepository('manifests/unlinked');
        const config = await linkedBlob(store, repo.id);
        const unlinked = newDigest('unlinked');
        await store.putBlob(unlinked, 10);
        const absent = newDigest('absent');
        const m = manifest([
          { digest: config, kind: 'blob' },
          { digest: unlinked, kind: 'blob' },
          { digest: absent, kind: 'blob' },
          { digest: unlinked, kind: 'blob' },
        ]);
        assert.deepEqual(await store.putManifest(repo.id, m, 'latest'), { ok: false, missing: [unlinked, absent] });
        assert.equal(await store.getManifest(repo.id, m.digest), undefined);
        assert.equal(await store.getTaggedManifest(repo.id, 'latest'), undefined);
        assert.deepEqual(await store.listTags(repo.id, 10), { items: [], more: false });
      });

      test('a blob linked only to another repository is missing', async () => {
        const repo = await store.ensureRepository('manifests/foreign-blob');
        const elsewhere = await store.ensureRepository('manifests/foreign-blob-owner');
        const config = await linkedBlob(store, repo.id);
        const foreign = await linkedBlob(store, elsewhere.id);
        const m = manifest([
          { digest: config, kind: 'blob' },
          { digest: foreign, kind: 'blob' },
        ]);
        assert.deepEqual(await store.putManifest(repo.id, m, 'v1'), { ok: false, missing: [foreign] });
        assert.equal(await store.getManifest(repo.id, m.digest), undefined);
        await store.linkBlob(repo.id, foreign);
        assert.deepEqual(await store.putManifest(repo.id, m, 'v1'), { ok: true });
      });

      test('an index needs its child manifests in the same repository', async () => {
        const repo = await store.ensureRepository('manifests/index');
        const elsewhere = await store.ensureRepository('manifests/index-other');
        const child = await storedImage(store, repo.id);
        const foreignChild = await storedImage(store, elsewhere.id);
        const absentChild = newDigest('child');
        const index = manifest(
          [
            { digest: child.digest, kind: 'manifest' },
            { digest: foreignChild.digest, kind: 'manifest' },
            { digest: absentChild, kind: 'manifest' },
          ],
          { mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: null },
        );
        assert.deepEqual(await store.putManifest(repo.id, index, 'multi'), {
          ok: false,
          missing: [foreignChild.digest, absentChild],
        });
        assert.equal(await store.getManifest(repo.id, index.digest), undefined);
        assert.equal(await store.getTaggedManifest(repo.id, 'multi'), undefined);

        // A blob of that digest does not stand in for a manifest.
        await store.putBlob(absentChild, 5);
        await store.linkBlob(repo.id, absentChild);
        const fine = manifest([{ digest: child.digest, kind: 'manifest' }], {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          artifactType: null,
        });
        assert.deepEqual(
          await store.putManifest(repo.id, { ...fine, references: [{ digest: absentChild, kind: 'manifest' }] }),
          { ok: false, missing: [absentChild] },
        );
        assert.deepEqual(await store.putManifest(repo.id, fine, 'multi'), { ok: true });
        assertManifest(await store.getTaggedManifest(repo.id, 'multi'), repo.id, fine);
      });

      test('deleteManifest removes the manifest, its tags and its references', async () => {
        const repo = await store.ensureRepository('manifests/delete');
        const elsewhere = await store.ensureRepository('manifests/delete-other');
        const m = await storedImage(store, repo.id, 'a');
        assert.deepEqual(await store.putManifest(repo.id, m, 'b'), { ok: true });
        const keep = await storedImage(store, repo.id, 'keep');
        // The same manifest in another repository is untouched.
        for (const ref of m.references) await store.linkBlob(elsewhere.id, ref.digest);
        assert.deepEqual(await store.putManifest(elsewhere.id, m, 'a'), { ok: true });

        assert.equal(await store.deleteManifest(repo.id, m.digest), true);
        assert.equal(await store.getManifest(repo.id, m.digest), undefined);
        assert.equal(await store.getTaggedManifest(repo.id, 'a'), undefined);
        assert.equal(await store.getTaggedManifest(repo.id, 'b'), undefined);
        assert.deepEqual(
          (await store.listTags(repo.id, 10)).items.map((t) => t.name),
          ['keep'],
        );
        assertManifest(await store.getTaggedManifest(repo.id, 'keep'), repo.id, keep);
        assertManifest(await store.getTaggedManifest(elsewhere.id, 'a'), elsewhere.id, m);
        assert.equal(await store.deleteManifest(repo.id, m.digest), false);
        assert.equal(await store.deleteManifest(repo.id, newDigest()), false);

        if (store instanceof SqlMetadataStore) {
          const refs = await store.db
            .selectFrom('manifest_references')
            .select(['repository_id', 'child_digest'])
            .where('manifest_digest', '=', m.digest)
            .execute();
          assert.deepEqual(
            refs.map((r) => r.repository_id),
            [elsewhere.id, elsewhere.id],
            'only the other repository still records references',
          );
        }

        // It can be pushed again.
        assert.deepEqual(await store.putManifest(repo.id, m, 'a'), { ok: true });
        assertManifest(await store.getTaggedManifest(repo.id, 'a'), repo.id, m);
      });
    });

    describe('tags', () => {
      test('a tag moves to the newest manifest', async () => {
        const repo = await store.ensureRepository('tags/move');
        const m1 = await storedImage(store, repo.id, 'latest');
        const before1 = await store.listTags(repo.id, 10);
        await sleep(5);
        const m2 = await storedImage(store, repo.id, 'latest');
        assertManifest(await store.getTaggedManifest(repo.id, 'latest'), repo.id, m2);
        assertManifest(await store.getManifest(repo.id, m1.digest), repo.id, m1);
        const after2 = await store.listTags(repo.id, 10);
        assert.equal(after2.items.length, 1);
        assert.equal(after2.items[0]?.digest, m2.digest);
        assert.ok((after2.items[0]?.updatedAt ?? 0) > (before1.items[0]?.updatedAt ?? Infinity));
      });

      test('deleteTag removes only the tag', async () => {
        const repo = await store.ensureRepository('tags/delete');
        const m = await storedImage(store, repo.id, 'v1');
        assert.equal(await store.deleteTag(repo.id, 'v1'), true);
        assert.equal(await store.deleteTag(repo.id, 'v1'), false);
        assert.equal(await store.getTaggedManifest(repo.id, 'v1'), undefined);
        assertManifest(await store.getManifest(repo.id, m.digest), repo.id, m);
      });

      test('listTags pages in byte order with `more`', async () => {
        const repo = await store.ensureRepository('tags/list');
        const elsewhere = await store.ensureRepository('tags/list-other');
        const m = await storedImage(store, repo.id);
        const names = ['v2', 'v1_0', 'latest', 'V2', 'v1.0', 'v10', 'v1-0'];
        for (const n of names) assert.deepEqual(await store.putManifest(repo.id, m, n), { ok: true });
        await storedImage(store, elsewhere.id, 'aaa');
        const expected = byteSorted(names);
        assert.deepEqual(expected, ['V2', 'latest', 'v1-0', 'v1.0', 'v10', 'v1_0', 'v2']);

        const p1 = await store.listTags(repo.id, 3);
        assert.deepEqual(p1.items.map((t) => t.name), ['V2', 'latest', 'v1-0']);
        assert.equal(p1.more, true);
        for (const t of p1.items) assert.equal(t.digest, m.digest);
        const p2 = await store.listTags(repo.id, 3, 'v1-0');
        assert.deepEqual(p2.items.map((t) => t.name), ['v1.0', 'v10', 'v1_0']);
        assert.equal(p2.more, true);
        const p3 = await store.listTags(repo.id, 3, 'v1_0');
        assert.deepEqual(p3.items.map((t) => t.name), ['v2']);
        assert.equal(p3.more, false);

        const all = await store.listTags(repo.id, 7);
        assert.deepEqual(all.items.map((t) => t.name), expected);
        assert.equal(all.more, false);
        assert.deepEqual((await store.listTags(repo.id, 2, 'm')).items.map((t) => t.name), ['v1-0', 'v1.0']);
        assert.deepEqual(await store.listTags(repo.id, 5, 'v2'), { items: [], more: false });
        assert.deepEqual(await store.listTags(repo.id, 0), { items: [], more: true });

        // The names-only listing pages exactly as listTags does.
        for (const [limit, last] of [[3, undefined], [3, 'v1-0'], [3, 'v1_0'], [7, undefined], [2, 'm'], [5, 'v2']] as const) {
          const full = await store.listTags(repo.id, limit, last);
          assert.deepEqual(await store.listTagNames(repo.id, limit, last), { items: full.items.map((t) => t.name), more: full.more });
        }
      });
    });

    describe('referrers', () => {
      test('listReferrers with and without an artifactType filter', async () => {
        const repo = await store.ensureRepository('referrers/a');
        const elsewhere = await store.ensureRepository('referrers/b');
        const subject = await storedImage(store, repo.id, 'latest');
        const sbomType = 'application/vnd.example.sbom+json';
        const sigType = 'application/vnd.example.signature';
        const sbom = await storedImage(store, repo.id, undefined, {
          artifactType: sbomType,
          subjectDigest: subject.digest,
          annotations: JSON.stringify({ 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' }),
        });
        const sig = await storedImage(store, repo.id, undefined, { artifactType: sigType, subjectDigest: subject.digest });
        // A referrer may arrive before its subject.
        const early = newDigest('early-subject');
        const orphan = await storedImage(store, repo.id, undefined, { artifactType: sigType, subjectDigest: early });
        await storedImage(store, elsewhere.id, undefined, { artifactType: sbomType, subjectDigest: subject.digest });

        const all = await store.listReferrers(repo.id, subject.digest);
        assert.deepEqual(all.map((r) => r.digest).sort(), [sbom.digest, sig.digest].sort());
        const found = all.find((r) => r.digest === sbom.digest);
        assertManifest(found, repo.id, sbom);

        const onlySbom = await store.listReferrers(repo.id, subject.digest, sbomType);
        assert.deepEqual(onlySbom.map((r) => r.digest), [sbom.digest]);
        assert.deepEqual(await store.listReferrers(repo.id, subject.digest, 'application/none'), []);
        assert.deepEqual((await store.listReferrers(repo.id, early)).map((r) => r.digest), [orphan.digest]);
        assert.deepEqual(await store.listReferrers(repo.id, newDigest()), []);
        assert.deepEqual(await store.listReferrers(repo.id, sbom.digest), []);

        assert.equal(await store.deleteManifest(repo.id, sig.digest), true);
        assert.deepEqual((await store.listReferrers(repo.id, subject.digest)).map((r) => r.digest), [sbom.digest]);
      });
    });

    describe('uploads', () => {
      test('create, get, claim and release (compare-and-set), delete', async () => {
        const repo = await store.ensureRepository('uploads/basic');
        const id = randomBytes(16).toString('hex');
        const started = Date.now();
        const session = { id, repositoryId: repo.id, size: 0, startedAt: started, updatedAt: started };
        assert.equal(await store.getUpload(id), undefined);
        await store.createUpload(session);
        assert.deepEqual(await store.getUpload(id), session);
        await assert.rejects(store.createUpload(session), 'ids are unique');

        assert.equal(await store.claimUpload(id, 10, 'w0', started, 0), false, 'wrong expected size');
        assert.equal(await store.releaseUpload(id, 'w0', 20, started + 1), false, 'no claim to release');
        assert.deepEqual(await store.getUpload(id), session, 'unchanged');
        assert.equal(await store.claimUpload(id, 0, 'w1', started, 0), true);
        assert.equal(await store.claimUpload(id, 0, 'w2', started, 0), false, 'held by w1');
        assert.equal(await store.releaseUpload(id, 'w2', 5, started + 1), false, 'only the holder releases');
        const big = 6 * 1024 ** 3 + 1;
        assert.equal(await store.releaseUpload(id, 'w1', big, started + 2), true);
        assert.deepEqual(await store.getUpload(id), { ...session, size: big, updatedAt: started + 2 });
        assert.equal(await store.claimUpload(id, 0, 'w3', started + 3, 0), false, 'stale expected size');
        assert.equal(await store.claimUpload(id, big, 'w3', started + 3, 0), true, 'free again after release');
        assert.equal(await store.claimUpload(id, big, 'w4', started + 4, started + 3), false, 'a fresh claim is not taken over');
        assert.equal(await store.claimUpload(id, big, 'w4', started + 5, started + 4), true, 'a claim older than staleBefore is taken over');
        assert.equal(await store.releaseUpload(id, 'w3', big + 1, started + 6), false, 'the dead writer lost its claim');
        assert.equal(await store.claimUpload('no-such-upload', 0, 'w5', started, 0), false);

        assert.equal(await store.deleteUpload(id), true);
        assert.equal(await store.deleteUpload(id), false);
        assert.equal(await store.getUpload(id), undefined);
      });

      test('racing claims from the same size: exactly one wins', async () => {
        const repo = await store.ensureRepository('uploads/race');
        const id = randomBytes(16).toString('hex');
        const now = Date.now();
        await store.createUpload({ id, repositoryId: repo.id, size: 100, startedAt: now, updatedAt: now });
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? store : other).claimUpload(id, 100, `w${i}`, now, 0)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal(await store.releaseUpload(id, `w${winner}`, 200, now + 1), true);
        assert.equal((await store.getUpload(id))?.size, 200);
      });

      test('listStaleUploads: oldest first, strictly before, limited', async () => {
        const repo = await store.ensureRepository('uploads/stale');
        const ids = { u1: 'stale-1', u2: 'stale-2', u3: 'stale-3', u4: 'stale-4' };
        const at = { u1: 1000, u2: 3000, u3: 2000, u4: 10_000 };
        for (const key of ['u1', 'u2', 'u3', 'u4'] as const) {
          await store.createUpload({ id: ids[key], repositoryId: repo.id, size: 0, startedAt: 500, updatedAt: at[key] });
        }
        const stale = await store.listStaleUploads(5000, 10);
        assert.deepEqual(
          stale.map((u) => u.id),
          [ids.u1, ids.u3, ids.u2],
        );
        assert.deepEqual(stale[0], { id: ids.u1, repositoryId: repo.id, size: 0, startedAt: 500, updatedAt: 1000 });
        assert.deepEqual(
          (await store.listStaleUploads(5000, 2)).map((u) => u.id),
          [ids.u1, ids.u3],
        );
        assert.deepEqual(
          (await store.listStaleUploads(2000, 10)).map((u) => u.id),
          [ids.u1],
        );
        assert.deepEqual(await store.listStaleUploads(1000, 10), []);
        assert.equal(await store.claimUpload(ids.u1, 0, 'writer', 20_000, 0), true);
        assert.deepEqual(
          (await store.listStaleUploads(5000, 10)).map((u) => u.id),
          [ids.u3, ids.u2],
          'an upload claimed since the cutoff is being written, not abandoned',
        );
        assert.equal(await store.releaseUpload(ids.u1, 'writer', 1, 20_000), true);
        assert.deepEqual(
          (await store.listStaleUploads(5000, 10)).map((u) => u.id),
          [ids.u3, ids.u2],
        );
      });
    });

    test('close is idempotent', async () => {
      const extra = await open();
      await extra.getRepository('anything');
      await extra.close();
      await extra.close();
    });
  });
}

// ---------------------------------------------------------------- SQLite

const sqliteDir = mkdtempSync(join(tmpdir(), 'berth-metadata-'));
const sqliteUrl = `sqlite:${join(sqliteDir, 'nested', 'dir', 'berth.db')}`;

runMetadataStoreSuite(
  'SQLite metadata store',
  () => openMetadataStore(sqliteUrl),
  async () => rmSync(sqliteDir, { recursive: true, force: true }),
);

describe('SQLite specifics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('creates the parent directory and applies WAL, FULL sync, busy timeout, foreign keys', async () => {
    const path = join(dir, 'a', 'b', 'meta.db');
    const store = await openSqlMetadataStore(`sqlite:${path}`);
    try {
      assert.ok(existsSync(join(dir, 'a', 'b')));
      await store.migrate();
      const pragma = async (name: string): Promise<unknown> => {
        const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(store.db);
        return Object.values(rows[0] ?? {})[0];
      };
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('synchronous'), 2); // FULL
      assert.equal(await pragma('busy_timeout'), 5000);
      assert.equal(await pragma('foreign_keys'), 1);
    } finally {
      await store.close();
    }
  });

  test('repositories from before accounts are adopted by the default account', async () => {
    const store = await openSqlMetadataStore(`sqlite:${join(dir, 'legacy.db')}`);
    try {
      const migrator = new Migrator({
        db: store.db,
        provider: new InCodeMigrationProvider('sqlite'),
        migrationTableName: MIGRATION_TABLE,
        migrationLockTableName: MIGRATION_LOCK_TABLE,
      });
      const { error } = await migrator.migrateTo('0003_iam_identities');
      assert.equal(error, undefined);
      await store.db.insertInto('repositories').values({ name: 'team/app', created_at: 1 }).execute();
      await store.migrate();
      assert.equal(await store.getRepository('team/app'), undefined, 'marked until the default account is known');
      assert.equal(await store.adoptLegacyRepositories('123456789012/'), 1);
      assert.equal((await store.getRepository('123456789012/team/app'))?.createdAt, 1);
      assert.equal(await store.adoptLegacyRepositories('123456789012/'), 0, 'adoption happens once');
    } finally {
      await store.close();
    }
  });

  test('a plain path and sqlite::memory: both work', async () => {
    const plain = await openMetadataStore(join(dir, 'plain.db'), { migrate: true });
    try {
      assert.equal((await plain.ensureRepository('x')).name, 'x');
    } finally {
      await plain.close();
    }
    assert.ok(existsSync(join(dir, 'plain.db')));
    const memory = await openMetadataStore('sqlite::memory:', { migrate: true });
    try {
      assert.equal((await memory.ensureRepository('x')).name, 'x');
    } finally {
      await memory.close();
    }
  });

  test('waits for another connection\'s write lock (busy_timeout, BEGIN IMMEDIATE)', async () => {
    const path = join(dir, 'busy.db');
    const store = await openMetadataStore(`sqlite:${path}`, { migrate: true });
    try {
      const repo = await store.ensureRepository('busy');
      const config = await linkedBlob(store, repo.id);
      // Another connection, on another thread (as if another process), holds the write lock for a while.
      const worker = new Worker(
        `
        const { workerData, parentPort } = require('node:worker_threads');
        const Database = require(workerData.module);
        const db = new Database(workerData.path);
        db.exec('begin immediate');
        db.prepare('insert into blobs (digest, size, created_at) values (?, ?, ?)').run(workerData.digest, 1, 1);
        parentPort.postMessage('locked');
        const until = Date.now() + 300;
        while (Date.now() < until) {}
        db.exec('commit');
        db.close();
        `,
        { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path, digest: digestOf('held') } },
      );
      const exited = once(worker, 'exit');
      await once(worker, 'message');
      const started = Date.now();
      const m = manifest([{ digest: config, kind: 'blob' }]);
      assert.deepEqual(await store.putManifest(repo.id, m, 'latest'), { ok: true });
      assert.ok(Date.now() - started >= 100, 'waited for the lock');
      assert.ok(await store.getBlob(digestOf('held')), 'the other connection committed');
      assertManifest(await store.getTaggedManifest(repo.id, 'latest'), repo.id, m);
      await exited;
    } finally {
      await store.close();
    }
  });

  test('an unused store closes its file', async () => {
    const store = await openSqlMetadataStore(join(dir, 'unused.db'));
    await store.close();
    // Removing the directory afterwards must not trip over an open handle (Windows) — and must not throw here.
    assert.ok(existsSync(join(dir, 'unused.db')));
  });
});

describe('parseDatabaseUrl', () => {
  test('chooses the backend by URL', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseDatabaseUrl(':memory:'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseDatabaseUrl('sqlite:data/berth.db'), { dialect: 'sqlite', path: 'data/berth.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/berth.db'), { dialect: 'sqlite', path: '/var/lib/berth.db' });
    assert.deepEqual(parseDatabaseUrl('file:///var/lib/berth.db'), { dialect: 'sqlite', path: '/var/lib/berth.db' });
    assert.deepEqual(parseDatabaseUrl('./data/berth.db'), { dialect: 'sqlite', path: './data/berth.db' });
    assert.deepEqual(parseDatabaseUrl('/abs/berth.db'), { dialect: 'sqlite', path: '/abs/berth.db' });
    assert.deepEqual(parseDatabaseUrl('postgres://u@h:5432/db'), {
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
      schema: undefined,
      preparedStatements: true,
    });
    const withSchema = parseDatabaseUrl('postgresql://u@h/db?sslmode=disable&schema=berth_1');
    assert.equal(withSchema.dialect, 'postgres');
    if (withSchema.dialect === 'postgres') {
      assert.equal(withSchema.schema, 'berth_1');
      const url = new URL(withSchema.connectionString);
      assert.equal(url.searchParams.get('schema'), null);
      assert.equal(url.searchParams.get('sslmode'), 'disable');
      assert.equal(url.searchParams.get('options'), '-c search_path=berth_1');
      assert.equal(withSchema.preparedStatements, true);
    }
    const unprepared = parseDatabaseUrl('postgres://h/db?prepared_statements=false&application_name=x');
    assert.ok(unprepared.dialect === 'postgres' && !unprepared.preparedStatements);
    if (unprepared.dialect === 'postgres') {
      assert.equal(new URL(unprepared.connectionString).searchParams.get('prepared_statements'), null);
    }
  });

  test('rejects unknown schemes and unsafe schema names', () => {
    assert.throws(() => parseDatabaseUrl('mysql://h/db'), /unsupported database URL scheme/);
    assert.throws(() => parseDatabaseUrl('postgres://h/db?schema=a;drop'), /invalid schema name/);
    assert.throws(() => parseDatabaseUrl('postgres://h/db?schema=Berth'), /invalid schema name/);
    assert.throws(() => parseDatabaseUrl('  '), /empty/);
    assert.throws(() => parseDatabaseUrl('postgres://h/db?prepared_statements=no'), /prepared_statements/);
  });
});

// ---------------------------------------------------------------- PostgreSQL

if (pgUnreachable === undefined) {
  const { schema, url: pgUrl } = freshSchemaUrl('berth_test');

  runMetadataStoreSuite(
    'PostgreSQL metadata store',
    () => openMetadataStore(pgUrl),
    () => dropSchema(schema),
  );

  describe('PostgreSQL specifics', () => {
    const ownSchema = `${schema}_own`;
    const dropOwnSchema = (): Promise<void> => dropSchema(ownSchema);
    after(dropOwnSchema);

    const ownUrl = (params: Record<string, string> = {}): string => {
      const url = new URL(pgBaseUrl);
      url.searchParams.set('schema', ownSchema);
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
      return url.toString();
    };

    test('tables live in the chosen schema, with byte-order text keys', async () => {
      const store = await openMetadataStore(ownUrl(), { migrate: true });
      await store.close();
      const client = new pg.Client({ connectionString: pgBaseUrl });
      await client.connect();
      try {
        const tables = await client.query<{ table_name: string }>(
          `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
          [ownSchema],
        );
        assert.deepEqual(
          tables.rows.map((r) => r.table_name),
          [
            'access_keys',
            'accounts',
            'berth_migration',
            'berth_migration_lock',
            'blobs',
            'events',
            'iam_entity_attached_policies',
            'iam_entity_policies',
            'iam_generation',
            'iam_group_members',
            'iam_groups',
            'iam_policies',
            'iam_policy_versions',
            'iam_role_sessions',
            'iam_roles',
            'iam_user_attached_policies',
            'iam_user_policies',
            'iam_users',
            'lifecycle_previews',
            'manifest_references',
            'manifests',
            'registry_items',
            'registry_settings',
            'repositories',
            'repository_blobs',
            'tags',
            'uploads',
          ],
        );
        const collation = await client.query<{ collation_name: string | null }>(
          `select collation_name from information_schema.columns
           where table_schema = $1 and table_name = 'tags' and column_name = 'name'`,
          [ownSchema],
        );
        assert.equal(collation.rows[0]?.collation_name, 'C');
      } finally {
        await client.end();
      }
    });

    const preparedNames = async (store: SqlMetadataStore): Promise<string[]> => {
      // Sequential queries reuse the most recently released pool client.
      const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(
        store.db,
      );
      return rows.map((r) => r.name);
    };

    test('hot queries run as named prepared statements unless disabled', async () => {
      const store = await openSqlMetadataStore(ownUrl());
      try {
        await store.migrate();
        const repo = await store.ensureRepository('prepared/a');
        assert.deepEqual(await store.getRepository('prepared/a'), repo);
        assert.ok((await preparedNames(store)).some((n) => n.startsWith('berth_')));
      } finally {
        await store.close();
      }
      const plain = await openSqlMetadataStore(ownUrl({ prepared_statements: 'false' }));
      try {
        const repo = await plain.ensureRepository('prepared/b');
        assert.deepEqual(await plain.getRepository('prepared/b'), repo);
        assert.deepEqual(await plain.getTaggedManifest(repo.id, 'none'), undefined);
        assert.deepEqual(await preparedNames(plain), []);
      } finally {
        await plain.close();
      }
    });

    test('an unreachable server fails at open', async () => {
      await assert.rejects(openMetadataStore('postgres://postgres@127.0.0.1:1/none?connect_timeout=2'));
    });
  });
} else {
  reportPostgresUnavailable('PostgreSQL metadata store');
}
