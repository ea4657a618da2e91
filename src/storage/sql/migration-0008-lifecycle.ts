import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './database.js';
import { typesFor } from './migrations.js';

// Migrations receive an untyped Kysely: they must not depend on the current `Database` interface.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;

/**
 * Lifecycle state every process of a deployment shares: when a repository's
 * policy was last evaluated (GetLifecyclePolicy's `lastEvaluatedAt`), and the
 * latest lifecycle policy preview of each repository, its results and summary
 * kept as JSON text in the API's shapes.
 */
export function lifecycleState(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema.alterTable('repositories').addColumn('lifecycle_evaluated_at', t.int8).execute();
      await db.schema
        .createTable('lifecycle_previews')
        .addColumn('repository_id', 'integer', (c) => c.primaryKey().references('repositories.id').onDelete('cascade'))
        .addColumn('preview_id', t.key, (c) => c.notNull())
        .addColumn('started_at', t.int8, (c) => c.notNull())
        .addColumn('policy_text', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('results', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
