import {
  Migrator,
  sql,
  type ColumnDataType,
  type Expression,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import type { SqlDialectName } from './database.js';
import { registrySettings } from './migration-0006-registry-settings.js';
import { ecrRepositories } from './migration-0007-ecr-repositories.js';
import { lifecycleState } from './migration-0008-lifecycle.js';

/**
 * Versioned schema migrations, defined in code (not read from a folder at
 * runtime) so they work the same from `src` under tsx and from compiled
 * `dist`. Kysely's Migrator applies them in name order and records them in
 * `berth_migration`; never edit a released migration, append a new one.
 *
 * One definition serves both engines; the few type differences are below.
 */

type ColumnType = ColumnDataType | Expression<unknown>;

export interface Types {
  /** Auto-assigned integer primary key. */
  id: ColumnType;
  int8: ColumnType;
  bytes: ColumnType;
  /**
   * Text compared byte-wise. In PostgreSQL the database's default collation
   * may be a locale (`en_US.UTF-8` sorts `a` before `B`); `COLLATE "C"` makes
   * ORDER BY and `>` follow byte order, which is SQLite's BINARY order and
   * the OCI spec's lexical order, and makes B-tree comparisons cheaper.
   */
  key: ColumnType;
}

export function typesFor(dialect: SqlDialectName): Types {
  return dialect === 'postgres'
    ? { id: 'integer', int8: 'bigint', bytes: 'bytea', key: sql`text collate "C"` }
    : { id: 'integer', int8: 'integer', bytes: 'blob', key: 'text' };
}

// Migrations receive an untyped Kysely: they must not depend on the current
// `Database` interface, which describes the latest schema only.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;

function initialSchema(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  const pg = dialect === 'postgres';
  // In SQLite, composite-key tables with small rows are cheaper clustered on
  // their key. (Not manifests: their rows carry the manifest bytes.)
  const withoutRowid = pg ? sql`` : sql`without rowid`;

  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema
        .createTable('repositories')
        .addColumn('id', t.id, (c) =>
          pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('name', t.key, (c) => c.notNull().unique())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('blobs')
        .addColumn('digest', t.key, (c) => c.primaryKey())
        .addColumn('size', t.int8, (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('repository_blobs')
        .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', t.key, (c) => c.notNull().references('blobs.digest'))
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
        .modifyEnd(withoutRowid)
        .execute();
      // Which repositories reach a blob (garbage collection, blob deletion).
      await db.schema.createIndex('repository_blobs_digest_idx').on('repository_blobs').column('digest').execute();

      await db.schema
        .createTable('manifests')
        .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', t.key, (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('artifact_type', 'text')
        .addColumn('subject_digest', t.key)
        .addColumn('size', t.int8, (c) => c.notNull())
        .addColumn('content', t.bytes, (c) => c.notNull())
        .addColumn('annotations', 'text')
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest'])
        .execute();
      // Referrers API: manifests of a repository whose subject is a digest.
      await db.schema
        .createIndex('manifests_subject_idx')
        .on('manifests')
        .columns(['repository_id', 'subject_digest'])
        .execute();

      await db.schema
        .createTable('manifest_references')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('manifest_digest', t.key, (c) => c.notNull())
        .addColumn('child_digest', t.key, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('blob', 'manifest')`))
        .addPrimaryKeyConstraint('manifest_references_pk', ['repository_id', 'manifest_digest', 'kind', 'child_digest'])
        .addForeignKeyConstraint(
          'manifest_references_manifest_fk',
          ['repository_id', 'manifest_digest'],
          'manifests',
          ['repository_id', 'digest'],
          (c) => c.onDelete('cascade'),
        )
        .modifyEnd(withoutRowid)
        .execute();
      // Reverse lookup: what points at this blob or manifest (garbage collection).
      await db.schema
        .createIndex('manifest_references_child_idx')
        .on('manifest_references')
        .columns(['repository_id', 'child_digest'])
        .execute();

      // The primary key (repository_id, name) is the index for tag lookups and listing.
      await db.schema
        .createTable('tags')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('name', t.key, (c) => c.notNull())
        .addColumn('manifest_digest', t.key, (c) => c.notNull())
        .addColumn('updated_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
        .addForeignKeyConstraint(
          'tags_manifest_fk',
          ['repository_id', 'manifest_digest'],
          'manifests',
          ['repository_id', 'digest'],
          (c) => c.onDelete('cascade'),
        )
        .modifyEnd(withoutRowid)
        .execute();
      // Tags of a manifest (manifest deletion).
      await db.schema
        .createIndex('tags_manifest_idx')
        .on('tags')
        .columns(['repository_id', 'manifest_digest'])
        .execute();

      await db.schema
        .createTable('uploads')
        .addColumn('id', t.key, (c) => c.primaryKey())
        .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('size', t.int8, (c) => c.notNull())
        .addColumn('started_at', t.int8, (c) => c.notNull())
        .addColumn('updated_at', t.int8, (c) => c.notNull())
        .execute();
      // Stale upload sweeps, oldest first.
      await db.schema.createIndex('uploads_updated_at_idx').on('uploads').column('updated_at').execute();
      await db.schema.createIndex('uploads_repository_idx').on('uploads').column('repository_id').execute();
    },
  };
}

/** Who is writing to an upload right now, so two processes never append to one staging file at once. */
function uploadWriter(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema.alterTable('uploads').addColumn('writer', 'text').execute();
      await db.schema.alterTable('uploads').addColumn('claimed_at', t.int8).execute();
    },
  };
}

/**
 * IAM identities (src/iam/sql-identity-store.ts): users, access keys (a null
 * user_name is an account root key), inline and attached user policies, and
 * the generation counter bumped with every change to them. Deleting a user
 * cascades to its keys and policies; root keys match no user (a composite
 * foreign key with a NULL column is not checked, in both engines).
 */
function iamIdentities(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  const pg = dialect === 'postgres';
  const withoutRowid = pg ? sql`` : sql`without rowid`;
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema
        .createTable('iam_users')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('name', t.key, (c) => c.notNull())
        .addColumn('user_id', t.key, (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_users_pk', ['account_id', 'name'])
        .execute();

      await db.schema
        .createTable('access_keys')
        .addColumn('access_key_id', t.key, (c) => c.primaryKey())
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('user_name', t.key)
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('Active', 'Inactive')`))
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addColumn('last_used_at', t.int8)
        .addForeignKeyConstraint(
          'access_keys_user_fk',
          ['account_id', 'user_name'],
          'iam_users',
          ['account_id', 'name'],
          (c) => c.onDelete('cascade'),
        )
        .execute();
      // Keys of a user or an account's root keys (listing, the user-delete cascade).
      await db.schema
        .createIndex('access_keys_user_idx')
        .on('access_keys')
        .columns(['account_id', 'user_name'])
        .execute();

      await db.schema
        .createTable('iam_user_policies')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('user_name', t.key, (c) => c.notNull())
        .addColumn('policy_name', t.key, (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_user_policies_pk', ['account_id', 'user_name', 'policy_name'])
        .addForeignKeyConstraint(
          'iam_user_policies_user_fk',
          ['account_id', 'user_name'],
          'iam_users',
          ['account_id', 'name'],
          (c) => c.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('iam_user_attached_policies')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('user_name', t.key, (c) => c.notNull())
        .addColumn('policy_arn', t.key, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_user_attached_policies_pk', ['account_id', 'user_name', 'policy_arn'])
        .addForeignKeyConstraint(
          'iam_user_attached_policies_user_fk',
          ['account_id', 'user_name'],
          'iam_users',
          ['account_id', 'name'],
          (c) => c.onDelete('cascade'),
        )
        .modifyEnd(withoutRowid)
        .execute();

      await db.schema
        .createTable('iam_generation')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('value', t.int8, (c) => c.notNull())
        .execute();
      await db.insertInto('iam_generation').values({ id: 1, value: 0 }).execute();
    },
  };
}

/**
 * Accounts and their two registries. A repository's `name` becomes its
 * qualified name, `<registry>/<repository>` (see src/names.ts), so one table
 * holds every account's private and public repositories under one unique key.
 * Repositories from before this migration belong to the default account,
 * whose id only the configuration knows: they are marked `~/<name>` here and
 * renamed when the server starts (MetadataStore.ensureAccount).
 */
function accounts(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('account_id', t.key, (c) => c.primaryKey())
        .addColumn('public_alias', t.key, (c) => c.notNull().unique())
        .addColumn('registry_policy', 'text')
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .execute();
      await db.schema.alterTable('repositories').addColumn('policy', 'text').execute();
      await sql`update repositories set name = ${LEGACY_REPOSITORY_MARK} || name`.execute(db);
    },
  };
}

/** The prefix migration 0004 gives repositories that predate accounts. */
export const LEGACY_REPOSITORY_MARK = '~/';

/**
 * IAM groups, roles, customer-managed policies and role sessions (STS
 * AssumeRole), and where an access key was last used. Inline and attached
 * policies of groups and roles share one table each, keyed by the entity's
 * type; users keep theirs from 0003. Conflicts IAM reports (deleting a group
 * with members, a policy still attached, …) are checked by the identity
 * store inside its serialized change transactions, not by foreign keys.
 * Sessions go with their role (ON DELETE CASCADE).
 */
function iamGroupsRoles(dialect: SqlDialectName): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: AnyKysely): Promise<void> {
      await db.schema
        .createTable('iam_groups')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('name', t.key, (c) => c.notNull())
        .addColumn('group_id', t.key, (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_groups_pk', ['account_id', 'name'])
        .execute();

      await db.schema
        .createTable('iam_group_members')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('group_name', t.key, (c) => c.notNull())
        .addColumn('user_name', t.key, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_group_members_pk', ['account_id', 'group_name', 'user_name'])
        .addForeignKeyConstraint('iam_group_members_group_fk', ['account_id', 'group_name'], 'iam_groups', ['account_id', 'name'])
        .addForeignKeyConstraint('iam_group_members_user_fk', ['account_id', 'user_name'], 'iam_users', ['account_id', 'name'])
        .execute();
      // The groups of a user (ListGroupsForUser, a user's effective policies).
      await db.schema.createIndex('iam_group_members_user_idx').on('iam_group_members').columns(['account_id', 'user_name']).execute();

      await db.schema
        .createTable('iam_roles')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('name', t.key, (c) => c.notNull())
        .addColumn('role_id', t.key, (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('assume_role_policy', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('max_session_duration', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_roles_pk', ['account_id', 'name'])
        .execute();

      await db.schema
        .createTable('iam_entity_policies')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('entity_type', t.key, (c) => c.notNull().check(sql`entity_type in ('group', 'role')`))
        .addColumn('entity_name', t.key, (c) => c.notNull())
        .addColumn('policy_name', t.key, (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_entity_policies_pk', ['account_id', 'entity_type', 'entity_name', 'policy_name'])
        .execute();

      await db.schema
        .createTable('iam_entity_attached_policies')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('entity_type', t.key, (c) => c.notNull().check(sql`entity_type in ('group', 'role')`))
        .addColumn('entity_name', t.key, (c) => c.notNull())
        .addColumn('policy_arn', t.key, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_entity_attached_policies_pk', ['account_id', 'entity_type', 'entity_name', 'policy_arn'])
        .execute();
      // Attachment counts of a policy (GetPolicy, DeletePolicy).
      await db.schema.createIndex('iam_entity_attached_policies_arn_idx').on('iam_entity_attached_policies').columns(['policy_arn']).execute();
      await db.schema.createIndex('iam_user_attached_policies_arn_idx').on('iam_user_attached_policies').columns(['policy_arn']).execute();

      await db.schema
        .createTable('iam_policies')
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('name', t.key, (c) => c.notNull())
        .addColumn('policy_id', t.key, (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('arn', t.key, (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('default_version_id', t.key, (c) => c.notNull())
        .addColumn('next_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addColumn('updated_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_policies_pk', ['account_id', 'name'])
        .execute();

      await db.schema
        .createTable('iam_policy_versions')
        .addColumn('policy_arn', t.key, (c) => c.notNull().references('iam_policies.arn').onDelete('cascade'))
        .addColumn('version_id', t.key, (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_policy_versions_pk', ['policy_arn', 'version_id'])
        .execute();

      await db.schema
        .createTable('iam_role_sessions')
        .addColumn('access_key_id', t.key, (c) => c.primaryKey())
        .addColumn('account_id', t.key, (c) => c.notNull())
        .addColumn('role_name', t.key, (c) => c.notNull())
        .addColumn('session_name', t.key, (c) => c.notNull())
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('sealed_token', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.int8, (c) => c.notNull())
        .addColumn('created_at', t.int8, (c) => c.notNull())
        .addForeignKeyConstraint('iam_role_sessions_role_fk', ['account_id', 'role_name'], 'iam_roles', ['account_id', 'name'], (c) => c.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('iam_role_sessions_role_idx').on('iam_role_sessions').columns(['account_id', 'role_name']).execute();
      await db.schema.createIndex('iam_role_sessions_expiry_idx').on('iam_role_sessions').column('expires_at').execute();

      await db.schema.alterTable('access_keys').addColumn('last_used_service', 'text').execute();
      await db.schema.alterTable('access_keys').addColumn('last_used_region', 'text').execute();
    },
  };
}

/** All migrations, keyed by name; names sort in the order they apply. */
export function migrationsFor(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '0001_initial': initialSchema(dialect),
    '0002_upload_writer': uploadWriter(dialect),
    '0003_iam_identities': iamIdentities(dialect),
    '0004_accounts': accounts(dialect),
    '0005_iam_groups_roles': iamGroupsRoles(dialect),
    '0006_registry_settings': registrySettings(dialect),
    '0007_ecr_repositories': ecrRepositories(dialect),
    '0008_lifecycle_state': lifecycleState(dialect),
  };
}

/** A Kysely MigrationProvider over the in-code migrations. */
export class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: SqlDialectName) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return migrationsFor(this.dialect);
  }
}

export const MIGRATION_TABLE = 'berth_migration';
export const MIGRATION_LOCK_TABLE = 'berth_migration_lock';

/**
 * Applies pending migrations; a no-op when the schema is current.
 *
 * `schema` (PostgreSQL only) is where the migration bookkeeping tables live;
 * it must be the first schema of the connection's search_path, where the
 * migrations create their tables. It should always be given for PostgreSQL:
 * without it Kysely's "does the table exist" check looks in every schema and
 * can be fooled by another Berth instance's tables in the same database.
 *
 * Returns the names of the migrations applied by this call.
 */
export async function migrateToLatest(db: AnyKysely, dialect: SqlDialectName, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema !== undefined ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error');
    const message = failed ? `migration ${failed.migrationName} failed` : 'migration failed';
    throw new Error(`${message}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
