import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './database.js';
import { typesFor } from './migrations.js';

// Migrations receive an untyped Kysely: they must not depend on the current `Database` interface.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;

/**
 * Registry-level configuration of an account (src/storage/registry-settings-store.ts):
 * `registry_settings` holds one JSON document per named setting (account
 * settings, scanning, replication, signing configuration); `registry_items`
 * holds keyed lists (pull-through cache rules by prefix, repository creation
 * templates by prefix, pull-time update exclusions by principal).
 */
export function registrySettings(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema
        .createTable('registry_settings')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('name', t.key, (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('registry_settings_pk', ['account_id', 'name'])
        .execute();
      await db.schema
        .createTable('registry_items')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('kind', t.key, (c) => c.notNull())
        .addColumn('item_key', t.key, (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addColumn('updated_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('registry_items_pk', ['account_id', 'kind', 'item_key'])
        .execute();
    },
  };
}
