import type { ColumnType, Generated } from 'kysely';

/** The SQL engines the metadata store runs on. */
export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * A BIGINT column. PostgreSQL's `pg` driver returns int8 as a string (it may
 * exceed 2^53); SQLite returns a number. The store converts on read with
 * `Number()` — sizes and millisecond timestamps stay far below 2^53.
 */
export type Int8 = ColumnType<number | string, number, number>;

/** Binary column: `bytea` in PostgreSQL, `BLOB` in SQLite. Both drivers return a Buffer. */
export type Bytes = ColumnType<Uint8Array, Uint8Array, Uint8Array>;

export interface RepositoriesTable {
  id: Generated<number>;
  /** Qualified: `<registry>/<repository>` (src/names.ts). */
  name: string;
  created_at: Int8;
  /** The repository policy document (migration 0004). */
  policy: string | null;
  /** ECR's repository settings (migration 0007); JSON text where noted in RepositorySettings. */
  image_tag_mutability: Generated<string>;
  tag_mutability_exclusions: string | null;
  scan_on_push: Generated<number>;
  encryption: string | null;
  resource_tags: string | null;
  lifecycle_policy: string | null;
  catalog_data: string | null;
  /** When the lifecycle policy was last evaluated (migration 0008). */
  lifecycle_evaluated_at: Int8 | null;
}

/** An account and the settings of its registries (migration 0004). */
export interface AccountsTable {
  account_id: string;
  public_alias: string;
  registry_policy: string | null;
  created_at: Int8;
}

export interface BlobsTable {
  digest: string;
  size: Int8;
  created_at: Int8;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  /** When the link was made (lets a garbage collector give fresh uploads a grace period). */
  created_at: Int8;
}

export interface ManifestsTable {
  repository_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject_digest: string | null;
  size: Int8;
  content: Bytes;
  annotations: string | null;
  created_at: Int8;
  /** Migration 0007. */
  last_pulled_at: Int8 | null;
  storage_class: Generated<string>;
  storage_class_changed_at: Int8 | null;
}

export interface ManifestReferencesTable {
  repository_id: number;
  manifest_digest: string;
  child_digest: string;
  kind: 'blob' | 'manifest';
}

export interface TagsTable {
  repository_id: number;
  name: string;
  manifest_digest: string;
  updated_at: Int8;
}

export interface UploadsTable {
  id: string;
  repository_id: number;
  size: Int8;
  started_at: Int8;
  updated_at: Int8;
  writer: string | null;
  claimed_at: Int8 | null;
}

/** An IAM user of an account (migration 0003). */
export interface IamUsersTable {
  account_id: string;
  name: string;
  user_id: string;
  path: string;
  arn: string;
  created_at: Int8;
}

/** An access key; `user_name` null for an account root key. */
export interface AccessKeysTable {
  access_key_id: string;
  account_id: string;
  user_name: string | null;
  sealed_secret: string;
  status: 'Active' | 'Inactive';
  created_at: Int8;
  last_used_at: Int8 | null;
  /** Where it was last used: the signing service and region (migration 0005). */
  last_used_service: string | null;
  last_used_region: string | null;
}

export interface IamUserPoliciesTable {
  account_id: string;
  user_name: string;
  policy_name: string;
  document: string;
}

export interface IamUserAttachedPoliciesTable {
  account_id: string;
  user_name: string;
  policy_arn: string;
}

/** One row (id = 1) whose value changes with every IAM key, user or policy change. */
export interface IamGenerationTable {
  id: number;
  value: Int8;
}

/** An IAM group (migration 0005). */
export interface IamGroupsTable {
  account_id: string;
  name: string;
  group_id: string;
  path: string;
  arn: string;
  created_at: Int8;
}

export interface IamGroupMembersTable {
  account_id: string;
  group_name: string;
  user_name: string;
}

/** An IAM role and its trust policy (migration 0005). */
export interface IamRolesTable {
  account_id: string;
  name: string;
  role_id: string;
  path: string;
  arn: string;
  assume_role_policy: string;
  description: string | null;
  max_session_duration: number;
  created_at: Int8;
}

/** Inline policies of groups and roles. */
export interface IamEntityPoliciesTable {
  account_id: string;
  entity_type: 'group' | 'role';
  entity_name: string;
  policy_name: string;
  document: string;
}

/** Managed policies attached to groups and roles, by ARN. */
export interface IamEntityAttachedPoliciesTable {
  account_id: string;
  entity_type: 'group' | 'role';
  entity_name: string;
  policy_arn: string;
}

/** A customer-managed policy; its documents are in iam_policy_versions. */
export interface IamPoliciesTable {
  account_id: string;
  name: string;
  policy_id: string;
  path: string;
  arn: string;
  description: string | null;
  default_version_id: string;
  /** The number of the next version (`v<n>`): IAM never reuses a version id. */
  next_version: number;
  created_at: Int8;
  updated_at: Int8;
}

export interface IamPolicyVersionsTable {
  policy_arn: string;
  version_id: string;
  document: string;
  created_at: Int8;
}

/** Temporary credentials of an assumed role; secret and session token sealed by the server key. */
export interface IamRoleSessionsTable {
  access_key_id: string;
  account_id: string;
  role_name: string;
  session_name: string;
  sealed_secret: string;
  sealed_token: string;
  expires_at: Int8;
  created_at: Int8;
}

/** One JSON document per account and setting name (migration 0006). */
export interface RegistrySettingsTable {
  account_id: string;
  name: string;
  document: string;
  updated_at: Int8;
}

/** Keyed registry-level items: pull-through cache rules, creation templates, exclusions (migration 0006). */
export interface RegistryItemsTable {
  account_id: string;
  kind: string;
  item_key: string;
  document: string;
  created_at: Int8;
  updated_at: Int8;
}

/** Things Berth did on its own, e.g. lifecycle expirations (migration 0007). */
export interface EventsTable {
  id: Generated<number>;
  account_id: string;
  source: string;
  detail_type: string;
  /** JSON array of ARNs. */
  resources: string;
  /** JSON object. */
  detail: string;
  created_at: Int8;
}

/** The latest lifecycle policy preview of a repository (migration 0008). */
export interface LifecyclePreviewsTable {
  repository_id: number;
  preview_id: string;
  started_at: Int8;
  policy_text: string;
  status: string;
  /** JSON array of preview results. */
  results: string;
  /** JSON object. */
  summary: string;
}

export interface Database {
  accounts: AccountsTable;
  repositories: RepositoriesTable;
  registry_settings: RegistrySettingsTable;
  registry_items: RegistryItemsTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
  events: EventsTable;
  lifecycle_previews: LifecyclePreviewsTable;
  iam_users: IamUsersTable;
  access_keys: AccessKeysTable;
  iam_user_policies: IamUserPoliciesTable;
  iam_user_attached_policies: IamUserAttachedPoliciesTable;
  iam_generation: IamGenerationTable;
  iam_groups: IamGroupsTable;
  iam_group_members: IamGroupMembersTable;
  iam_roles: IamRolesTable;
  iam_entity_policies: IamEntityPoliciesTable;
  iam_entity_attached_policies: IamEntityAttachedPoliciesTable;
  iam_policies: IamPoliciesTable;
  iam_policy_versions: IamPolicyVersionsTable;
  iam_role_sessions: IamRoleSessionsTable;
}
