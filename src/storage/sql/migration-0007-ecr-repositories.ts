import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './database.js';
import { typesFor } from './migrations.js';

// Migrations receive an untyped Kysely: they must not depend on the current `Database` interface.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;

/**
 * What ECR keeps about repositories and images beyond the registry's own
 * needs: tag mutability (with exclusion filters), scan on push, encryption,
 * resource tags, the lifecycle policy and ECR Public's catalog data on the
 * repository; last pull time and storage class on each image (manifest).
 * `events` records what Berth did on its own (lifecycle expirations now;
 * EventBridge-style events later), oldest first by id.
 */
export function ecrRepositories(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  const pg = dialect === 'postgres';
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema.alterTable('repositories').addColumn('image_tag_mutability', 'text', (c) => c.notNull().defaultTo('MUTABLE')).execute();
      await db.schema.alterTable('repositories').addColumn('tag_mutability_exclusions', 'text').execute();
      await db.schema.alterTable('repositories').addColumn('scan_on_push', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('repositories').addColumn('encryption', 'text').execute();
      await db.schema.alterTable('repositories').addColumn('resource_tags', 'text').execute();
      await db.schema.alterTable('repositories').addColumn('lifecycle_policy', 'text').execute();
      await db.schema.alterTable('repositories').addColumn('catalog_data', 'text').execute();
      await db.schema.alterTable('manifests').addColumn('last_pulled_at', t.int8).execute();
      await db.schema.alterTable('manifests').addColumn('storage_class', 'text', (c) => c.notNull().defaultTo('STANDARD')).execute();
      await db.schema.alterTable('manifests').addColumn('storage_class_changed_at', t.int8).execute();
      await db.schema
        .createTable('events')
        .addColumn('id', t.id, (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('detail_type', 'text', (c) => c.notNull())
        .addColumn('resources', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_account_idx').on('events').columns(['account_id', 'id']).execute();
    },
  };
}
