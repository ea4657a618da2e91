import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  AccessKeysTable,
  Database,
  IamGroupsTable,
  IamPoliciesTable,
  IamRoleSessionsTable,
  IamRolesTable,
  IamUsersTable,
  SqlDialectName,
} from '../storage/sql/database.js';
import { PreparedQuery } from '../storage/sql/prepared.js';
import {
  DeleteConflictError,
  IdentityConflictError,
  LimitExceededError,
  NoSuchEntityError,
  NoSuchUserError,
  type AccessKey,
  type AccessKeyLastUse,
  type AccessKeyStatus,
  type CustomerPolicy,
  type EffectivePolicies,
  type IamGroup,
  type IamRole,
  type IamUser,
  type IdentityStore,
  type InlinePolicy,
  type PolicyHolder,
  type PolicyVersion,
  type RoleSession,
} from './identity-store.js';

export interface SqlIdentityStoreOptions {
  dialect: SqlDialectName;
  /** Told the SQL text of each hot query once, e.g. to make it a named prepared statement. */
  onPrepare?: (sql: string) => void;
}

/** int8 arrives as a string from `pg`, as a number from SQLite. */
function num(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

function toUser(row: Selectable<IamUsersTable>): IamUser {
  return {
    accountId: row.account_id,
    name: row.name,
    userId: row.user_id,
    path: row.path,
    arn: row.arn,
    createdAt: num(row.created_at),
  };
}

function toAccessKey(row: Pick<Selectable<AccessKeysTable>, (typeof KEY_COLUMNS)[number]>): AccessKey {
  return {
    accessKeyId: row.access_key_id,
    accountId: row.account_id,
    userName: row.user_name ?? undefined,
    sealedSecret: row.sealed_secret,
    status: row.status,
    createdAt: num(row.created_at),
    lastUsedAt: row.last_used_at === null ? undefined : num(row.last_used_at),
  };
}

/** A foreign-key violation: SQLite's SQLITE_CONSTRAINT_FOREIGNKEY or PostgreSQL's 23503. */
function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

function toGroup(row: Selectable<IamGroupsTable>): IamGroup {
  return { accountId: row.account_id, name: row.name, groupId: row.group_id, path: row.path, arn: row.arn, createdAt: num(row.created_at) };
}

function toRole(row: Selectable<IamRolesTable>): IamRole {
  return {
    accountId: row.account_id,
    name: row.name,
    roleId: row.role_id,
    path: row.path,
    arn: row.arn,
    assumeRolePolicy: row.assume_role_policy,
    description: row.description ?? undefined,
    maxSessionDuration: row.max_session_duration,
    createdAt: num(row.created_at),
  };
}

function toPolicy(row: Selectable<IamPoliciesTable>, attachmentCount: number): CustomerPolicy {
  return {
    accountId: row.account_id,
    name: row.name,
    policyId: row.policy_id,
    path: row.path,
    arn: row.arn,
    description: row.description ?? undefined,
    defaultVersionId: row.default_version_id,
    attachmentCount,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toSession(row: Selectable<IamRoleSessionsTable>): RoleSession {
  return {
    accessKeyId: row.access_key_id,
    accountId: row.account_id,
    roleName: row.role_name,
    sessionName: row.session_name,
    sealedSecret: row.sealed_secret,
    sealedToken: row.sealed_token,
    expiresAt: num(row.expires_at),
    createdAt: num(row.created_at),
  };
}

/** `arn:aws:iam::aws:policy/…` belongs to AWS; anything else names a customer-managed policy. */
function isAwsManagedArn(arn: string): boolean {
  return arn.startsWith('arn:aws:iam::aws:policy/');
}

function noSuchHolder(holder: PolicyHolder): NoSuchEntityError {
  return holder.type === 'user' ? new NoSuchUserError(holder.name) : new NoSuchEntityError(`The ${holder.type} with name ${holder.name} cannot be found.`);
}

const USER_COLUMNS = ['account_id', 'name', 'user_id', 'path', 'arn', 'created_at'] as const;
const KEY_COLUMNS = [
  'access_key_id',
  'account_id',
  'user_name',
  'sealed_secret',
  'status',
  'created_at',
  'last_used_at',
] as const;
const GROUP_COLUMNS = ['account_id', 'name', 'group_id', 'path', 'arn', 'created_at'] as const;
const ROLE_COLUMNS = ['account_id', 'name', 'role_id', 'path', 'arn', 'assume_role_policy', 'description', 'max_session_duration', 'created_at'] as const;
const POLICY_COLUMNS = ['account_id', 'name', 'policy_id', 'path', 'arn', 'description', 'default_version_id', 'next_version', 'created_at', 'updated_at'] as const;
const SESSION_COLUMNS = ['access_key_id', 'account_id', 'role_name', 'session_name', 'sealed_secret', 'sealed_token', 'expires_at', 'created_at'] as const;

/** The queries on the authentication path, compiled once per store (see PreparedQuery). */
function prepareQueries(db: Kysely<Database>) {
  return {
    getAccessKey: new PreparedQuery(1, (accessKeyId: string) =>
      db.selectFrom('access_keys').select(KEY_COLUMNS).where('access_key_id', '=', accessKeyId),
    ),
    // Monotonic: a late, throttled touch never moves last_used_at backwards.
    touchAccessKey: new PreparedQuery(4, (accessKeyId: string, usedAt: number, service: string | null, region: string | null) =>
      db
        .updateTable('access_keys')
        .set({ last_used_at: usedAt, last_used_service: service, last_used_region: region })
        .where('access_key_id', '=', accessKeyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', usedAt)])),
    ),
    getRoleSession: new PreparedQuery(1, (accessKeyId: string) =>
      db.selectFrom('iam_role_sessions').select(SESSION_COLUMNS).where('access_key_id', '=', accessKeyId),
    ),
    generation: new PreparedQuery(1, (id: number) =>
      db.selectFrom('iam_generation').select('value').where('id', '=', id),
    ),
  };
}

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * IdentityStore over Kysely, on the metadata database (SQLite or
 * PostgreSQL; tables from migrations `0003_iam_identities` and
 * `0005_iam_groups_roles`, applied by the metadata store's `migrate()`). It
 * does not own its Kysely instance and has no `close()`: whoever opened the
 * database closes it (see `openStores` in `../storage/sql/open.js`).
 *
 * Every change runs in a transaction that first takes the `iam_generation`
 * row (PostgreSQL: `FOR UPDATE`; SQLite transactions hold the write lock
 * from `BEGIN IMMEDIATE`), so changes run one at a time and the checks they
 * make (key limits, delete conflicts, a policy existing when attached) hold
 * at commit; and it bumps the generation, so a reader that sees the new
 * generation also sees the change. Using a key (`touchAccessKey`) and new
 * role sessions do not.
 */
export class SqlIdentityStore implements IdentityStore {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialectName;
  readonly #q: ReturnType<typeof prepareQueries>;

  constructor(db: Kysely<Database>, options: SqlIdentityStoreOptions) {
    this.db = db;
    this.dialect = options.dialect;
    this.#q = prepareQueries(db);
    if (options.onPrepare) {
      for (const query of Object.values(this.#q)) options.onPrepare(query.sql);
    }
  }

  /** Runs `change` in a serialized transaction; bumps the generation unless it returns false. */
  async #change<T extends boolean | void | object>(change: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      if (this.dialect === 'postgres') {
        await trx.selectFrom('iam_generation').select('value').where('id', '=', 1).forUpdate().execute();
      }
      const result = await change(trx);
      if (result !== false) {
        await trx
          .updateTable('iam_generation')
          .set({ value: sql<number>`value + 1` })
          .where('id', '=', 1)
          .execute();
      }
      return result;
    });
  }

  async #requireHolder(trx: Executor, accountId: string, holder: PolicyHolder): Promise<void> {
    const table = holder.type === 'user' ? 'iam_users' : holder.type === 'group' ? 'iam_groups' : 'iam_roles';
    const row = await trx.selectFrom(table).select('name').where('account_id', '=', accountId).where('name', '=', holder.name).executeTakeFirst();
    if (!row) throw noSuchHolder(holder);
  }

  // ---------------------------------------------------------------- users

  async createUser(user: IamUser): Promise<void> {
    await this.#change(async (trx) => {
      // DO NOTHING on any unique key (account+name, user_id): no error, so no
      // aborted PostgreSQL transaction, and one answer for both engines.
      const result = await trx
        .insertInto('iam_users')
        .values({
          account_id: user.accountId,
          name: user.name,
          user_id: user.userId,
          path: user.path,
          arn: user.arn,
          created_at: user.createdAt,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) {
        throw new IdentityConflictError(`IAM user ${user.name} (or user id ${user.userId}) already exists`);
      }
    });
  }

  async getUser(accountId: string, name: string): Promise<IamUser | undefined> {
    const row = await this.db
      .selectFrom('iam_users')
      .select(USER_COLUMNS)
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(accountId: string): Promise<IamUser[]> {
    const rows = await this.db
      .selectFrom('iam_users')
      .select(USER_COLUMNS)
      .where('account_id', '=', accountId)
      .orderBy('name')
      .execute();
    return rows.map(toUser);
  }

  async deleteUser(accountId: string, name: string): Promise<boolean> {
    // Keys and policies go with the user (ON DELETE CASCADE); group memberships must go first, as in IAM.
    return this.#change(async (trx) => {
      const membership = await trx
        .selectFrom('iam_group_members')
        .select('group_name')
        .where('account_id', '=', accountId)
        .where('user_name', '=', name)
        .executeTakeFirst();
      if (membership) throw new DeleteConflictError('Cannot delete entity, must remove user from all groups first.');
      const result = await trx
        .deleteFrom('iam_users')
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  // ---------------------------------------------------------------- access keys

  async createAccessKey(key: AccessKey, maxPerOwner?: number): Promise<void> {
    try {
      await this.#insertAccessKey(key, maxPerOwner);
    } catch (error) {
      // The key's user does not exist (composite foreign key; root keys have none).
      if (key.userName !== undefined && isForeignKeyViolation(error)) throw new NoSuchUserError(key.userName);
      throw error;
    }
  }

  async #insertAccessKey(key: AccessKey, maxPerOwner: number | undefined): Promise<void> {
    await this.#change(async (trx) => {
      if (maxPerOwner !== undefined) {
        const owned = await trx
          .selectFrom('access_keys')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('account_id', '=', key.accountId)
          .$if(key.userName === undefined, (qb) => qb.where('user_name', 'is', null))
          .$if(key.userName !== undefined, (qb) => qb.where('user_name', '=', key.userName as string))
          .executeTakeFirstOrThrow();
        if (num(owned.n) >= maxPerOwner) throw new LimitExceededError(`Cannot exceed quota for AccessKeysPerUser: ${maxPerOwner}`);
      }
      const result = await trx
        .insertInto('access_keys')
        .values({
          access_key_id: key.accessKeyId,
          account_id: key.accountId,
          user_name: key.userName ?? null,
          sealed_secret: key.sealedSecret,
          status: key.status,
          created_at: key.createdAt,
          last_used_at: key.lastUsedAt ?? null,
          last_used_service: null,
          last_used_region: null,
        })
        .onConflict((oc) => oc.column('access_key_id').doNothing())
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) {
        throw new IdentityConflictError(`access key ${key.accessKeyId} already exists`);
      }
    });
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    const row = await this.#q.getAccessKey.first(this.db, accessKeyId);
    return row && toAccessKey(row);
  }

  async listAccessKeys(accountId: string, userName: string | undefined): Promise<AccessKey[]> {
    const rows = await this.db
      .selectFrom('access_keys')
      .select(KEY_COLUMNS)
      .where('account_id', '=', accountId)
      .$if(userName === undefined, (qb) => qb.where('user_name', 'is', null))
      .$if(userName !== undefined, (qb) => qb.where('user_name', '=', userName as string))
      .orderBy('created_at')
      .orderBy('access_key_id')
      .execute();
    return rows.map(toAccessKey);
  }

  async setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<boolean> {
    return this.#change(async (trx) => {
      const result = await trx
        .updateTable('access_keys')
        .set({ status })
        .where('access_key_id', '=', accessKeyId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result = await trx.deleteFrom('access_keys').where('access_key_id', '=', accessKeyId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async touchAccessKey(accessKeyId: string, usedAt: number, where?: { service: string; region: string }): Promise<void> {
    await this.#q.touchAccessKey.execute(this.db, accessKeyId, usedAt, where?.service ?? null, where?.region ?? null);
  }

  async getAccessKeyLastUse(accessKeyId: string): Promise<AccessKeyLastUse | undefined> {
    const row = await this.db
      .selectFrom('access_keys')
      .select(['last_used_at', 'last_used_service', 'last_used_region'])
      .where('access_key_id', '=', accessKeyId)
      .executeTakeFirst();
    if (!row || row.last_used_at === null) return undefined;
    return { usedAt: num(row.last_used_at), service: row.last_used_service ?? 'N/A', region: row.last_used_region ?? 'N/A' };
  }

  // ---------------------------------------------------------------- inline policies

  async putInlinePolicy(accountId: string, holder: PolicyHolder, policy: InlinePolicy): Promise<void> {
    await this.#change(async (trx) => {
      await this.#requireHolder(trx, accountId, holder);
      if (holder.type === 'user') {
        await trx
          .insertInto('iam_user_policies')
          .values({ account_id: accountId, user_name: holder.name, policy_name: policy.name, document: policy.document })
          .onConflict((oc) => oc.columns(['account_id', 'user_name', 'policy_name']).doUpdateSet({ document: (eb) => eb.ref('excluded.document') }))
          .execute();
      } else {
        await trx
          .insertInto('iam_entity_policies')
          .values({ account_id: accountId, entity_type: holder.type, entity_name: holder.name, policy_name: policy.name, document: policy.document })
          .onConflict((oc) =>
            oc.columns(['account_id', 'entity_type', 'entity_name', 'policy_name']).doUpdateSet({ document: (eb) => eb.ref('excluded.document') }),
          )
          .execute();
      }
    });
  }

  async getInlinePolicy(accountId: string, holder: PolicyHolder, policyName: string): Promise<InlinePolicy | undefined> {
    const [policy] = await this.#inlinePolicies(this.db, accountId, [holder], policyName);
    return policy && { name: policy.name, document: policy.document };
  }

  async listInlinePolicies(accountId: string, holder: PolicyHolder): Promise<InlinePolicy[]> {
    return (await this.#inlinePolicies(this.db, accountId, [holder])).map(({ name, document }) => ({ name, document }));
  }

  /** The inline policies of `holders` (all of one type) with their holder's name, optionally only the one named `policyName`. */
  async #inlinePolicies(db: Executor, accountId: string, holders: PolicyHolder[], policyName?: string): Promise<(InlinePolicy & { holder: string })[]> {
    const type = holders[0]?.type;
    if (type === undefined) return [];
    const names = holders.map((h) => h.name);
    const rows =
      type === 'user'
        ? await db
            .selectFrom('iam_user_policies')
            .select(['user_name as holder', 'policy_name', 'document'])
            .where('account_id', '=', accountId)
            .where('user_name', 'in', names)
            .$if(policyName !== undefined, (qb) => qb.where('policy_name', '=', policyName as string))
            .orderBy('user_name')
            .orderBy('policy_name')
            .execute()
        : await db
            .selectFrom('iam_entity_policies')
            .select(['entity_name as holder', 'policy_name', 'document'])
            .where('account_id', '=', accountId)
            .where('entity_type', '=', type)
            .where('entity_name', 'in', names)
            .$if(policyName !== undefined, (qb) => qb.where('policy_name', '=', policyName as string))
            .orderBy('entity_name')
            .orderBy('policy_name')
            .execute();
    return rows.map((row) => ({ holder: row.holder, name: row.policy_name, document: row.document }));
  }

  async deleteInlinePolicy(accountId: string, holder: PolicyHolder, policyName: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result =
        holder.type === 'user'
          ? await trx
              .deleteFrom('iam_user_policies')
              .where('account_id', '=', accountId)
              .where('user_name', '=', holder.name)
              .where('policy_name', '=', policyName)
              .executeTakeFirst()
          : await trx
              .deleteFrom('iam_entity_policies')
              .where('account_id', '=', accountId)
              .where('entity_type', '=', holder.type)
              .where('entity_name', '=', holder.name)
              .where('policy_name', '=', policyName)
              .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  // ---------------------------------------------------------------- attached policies

  async attachPolicy(accountId: string, holder: PolicyHolder, policyArn: string): Promise<void> {
    await this.#change(async (trx) => {
      await this.#requireHolder(trx, accountId, holder);
      if (!isAwsManagedArn(policyArn)) {
        const policy = await trx.selectFrom('iam_policies').select('arn').where('arn', '=', policyArn).where('account_id', '=', accountId).executeTakeFirst();
        if (!policy) throw new NoSuchEntityError(`Policy ${policyArn} does not exist or is not attachable.`);
      }
      const result =
        holder.type === 'user'
          ? await trx
              .insertInto('iam_user_attached_policies')
              .values({ account_id: accountId, user_name: holder.name, policy_arn: policyArn })
              .onConflict((oc) => oc.columns(['account_id', 'user_name', 'policy_arn']).doNothing())
              .executeTakeFirst()
          : await trx
              .insertInto('iam_entity_attached_policies')
              .values({ account_id: accountId, entity_type: holder.type, entity_name: holder.name, policy_arn: policyArn })
              .onConflict((oc) => oc.columns(['account_id', 'entity_type', 'entity_name', 'policy_arn']).doNothing())
              .executeTakeFirst();
      // Already attached: nothing changed, so the generation stays.
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  async detachPolicy(accountId: string, holder: PolicyHolder, policyArn: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result =
        holder.type === 'user'
          ? await trx
              .deleteFrom('iam_user_attached_policies')
              .where('account_id', '=', accountId)
              .where('user_name', '=', holder.name)
              .where('policy_arn', '=', policyArn)
              .executeTakeFirst()
          : await trx
              .deleteFrom('iam_entity_attached_policies')
              .where('account_id', '=', accountId)
              .where('entity_type', '=', holder.type)
              .where('entity_name', '=', holder.name)
              .where('policy_arn', '=', policyArn)
              .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async listAttachedPolicies(accountId: string, holder: PolicyHolder): Promise<string[]> {
    return this.#attachedPolicies(this.db, accountId, [holder]);
  }

  /** The ARNs attached to `holders` (all of one type), sorted, without repeats. */
  async #attachedPolicies(db: Executor, accountId: string, holders: PolicyHolder[]): Promise<string[]> {
    const type = holders[0]?.type;
    if (type === undefined) return [];
    const names = holders.map((h) => h.name);
    const rows =
      type === 'user'
        ? await db
            .selectFrom('iam_user_attached_policies')
            .select('policy_arn')
            .distinct()
            .where('account_id', '=', accountId)
            .where('user_name', 'in', names)
            .orderBy('policy_arn')
            .execute()
        : await db
            .selectFrom('iam_entity_attached_policies')
            .select('policy_arn')
            .distinct()
            .where('account_id', '=', accountId)
            .where('entity_type', '=', type)
            .where('entity_name', 'in', names)
            .orderBy('policy_arn')
            .execute();
    return rows.map((row) => row.policy_arn);
  }

  async effectivePolicies(accountId: string, holder: PolicyHolder): Promise<EffectivePolicies> {
    const groups = holder.type === 'user' ? (await this.listGroupsForUser(accountId, holder.name)).map((g): PolicyHolder => ({ type: 'group', name: g.name })) : [];
    const [ownInline, ownAttached, groupInline, groupAttached] = await Promise.all([
      this.#inlinePolicies(this.db, accountId, [holder]),
      this.#attachedPolicies(this.db, accountId, [holder]),
      this.#inlinePolicies(this.db, accountId, groups),
      this.#attachedPolicies(this.db, accountId, groups),
    ]);
    const arns = [...new Set([...ownAttached, ...groupAttached])];
    const customerArns = arns.filter((arn) => !isAwsManagedArn(arn));
    const defaults =
      customerArns.length === 0
        ? []
        : await this.db
            .selectFrom('iam_policies as p')
            .innerJoin('iam_policy_versions as v', (join) => join.onRef('v.policy_arn', '=', 'p.arn').onRef('v.version_id', '=', 'p.default_version_id'))
            .select(['p.arn', 'v.document'])
            .where('p.account_id', '=', accountId)
            .where('p.arn', 'in', customerArns)
            .orderBy('p.arn')
            .execute();
    return {
      documents: [
        ...ownInline.map((p) => ({ label: `${holder.type}/${p.holder}/${p.name}`, document: p.document })),
        ...groupInline.map((p) => ({ label: `group/${p.holder}/${p.name}`, document: p.document })),
        ...defaults.map((row) => ({ label: row.arn, document: row.document })),
      ],
      awsManagedArns: arns.filter(isAwsManagedArn),
    };
  }

  // ---------------------------------------------------------------- groups

  async createGroup(group: IamGroup): Promise<void> {
    await this.#change(async (trx) => {
      const result = await trx
        .insertInto('iam_groups')
        .values({ account_id: group.accountId, name: group.name, group_id: group.groupId, path: group.path, arn: group.arn, created_at: group.createdAt })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) throw new IdentityConflictError(`Group with name ${group.name} already exists.`);
    });
  }

  async getGroup(accountId: string, name: string): Promise<IamGroup | undefined> {
    const row = await this.db.selectFrom('iam_groups').select(GROUP_COLUMNS).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
    return row && toGroup(row);
  }

  async listGroups(accountId: string): Promise<IamGroup[]> {
    const rows = await this.db.selectFrom('iam_groups').select(GROUP_COLUMNS).where('account_id', '=', accountId).orderBy('name').execute();
    return rows.map(toGroup);
  }

  async deleteGroup(accountId: string, name: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const holder: PolicyHolder = { type: 'group', name };
      const member = await trx.selectFrom('iam_group_members').select('user_name').where('account_id', '=', accountId).where('group_name', '=', name).executeTakeFirst();
      if (member) throw new DeleteConflictError('Cannot delete entity, must remove users from group first.');
      await this.#requireNoPolicies(trx, accountId, holder);
      const result = await trx.deleteFrom('iam_groups').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /** IAM refuses to delete a group or role that still has inline or attached policies. */
  async #requireNoPolicies(trx: Executor, accountId: string, holder: PolicyHolder): Promise<void> {
    if ((await this.#inlinePolicies(trx, accountId, [holder])).length > 0) throw new DeleteConflictError('Cannot delete entity, must delete policies first.');
    if ((await this.#attachedPolicies(trx, accountId, [holder])).length > 0) throw new DeleteConflictError('Cannot delete entity, must detach all policies first.');
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void> {
    await this.#change(async (trx) => {
      await this.#requireHolder(trx, accountId, { type: 'group', name: groupName });
      await this.#requireHolder(trx, accountId, { type: 'user', name: userName });
      const result = await trx
        .insertInto('iam_group_members')
        .values({ account_id: accountId, group_name: groupName, user_name: userName })
        .onConflict((oc) => oc.columns(['account_id', 'group_name', 'user_name']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result = await trx
        .deleteFrom('iam_group_members')
        .where('account_id', '=', accountId)
        .where('group_name', '=', groupName)
        .where('user_name', '=', userName)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async listGroupMembers(accountId: string, groupName: string): Promise<IamUser[]> {
    const rows = await this.db
      .selectFrom('iam_group_members as m')
      .innerJoin('iam_users as u', (join) => join.onRef('u.account_id', '=', 'm.account_id').onRef('u.name', '=', 'm.user_name'))
      .select(['u.account_id', 'u.name', 'u.user_id', 'u.path', 'u.arn', 'u.created_at'])
      .where('m.account_id', '=', accountId)
      .where('m.group_name', '=', groupName)
      .orderBy('u.name')
      .execute();
    return rows.map(toUser);
  }

  async listGroupsForUser(accountId: string, userName: string): Promise<IamGroup[]> {
    const rows = await this.db
      .selectFrom('iam_group_members as m')
      .innerJoin('iam_groups as g', (join) => join.onRef('g.account_id', '=', 'm.account_id').onRef('g.name', '=', 'm.group_name'))
      .select(['g.account_id', 'g.name', 'g.group_id', 'g.path', 'g.arn', 'g.created_at'])
      .where('m.account_id', '=', accountId)
      .where('m.user_name', '=', userName)
      .orderBy('g.name')
      .execute();
    return rows.map(toGroup);
  }

  // ---------------------------------------------------------------- roles

  async createRole(role: IamRole): Promise<void> {
    await this.#change(async (trx) => {
      const result = await trx
        .insertInto('iam_roles')
        .values({
          account_id: role.accountId,
          name: role.name,
          role_id: role.roleId,
          path: role.path,
          arn: role.arn,
          assume_role_policy: role.assumeRolePolicy,
          description: role.description ?? null,
          max_session_duration: role.maxSessionDuration,
          created_at: role.createdAt,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) throw new IdentityConflictError(`Role with name ${role.name} already exists.`);
    });
  }

  async getRole(accountId: string, name: string): Promise<IamRole | undefined> {
    const row = await this.db.selectFrom('iam_roles').select(ROLE_COLUMNS).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
    return row && toRole(row);
  }

  async listRoles(accountId: string): Promise<IamRole[]> {
    const rows = await this.db.selectFrom('iam_roles').select(ROLE_COLUMNS).where('account_id', '=', accountId).orderBy('name').execute();
    return rows.map(toRole);
  }

  async deleteRole(accountId: string, name: string): Promise<boolean> {
    // Its sessions go with it (ON DELETE CASCADE).
    return this.#change(async (trx) => {
      await this.#requireNoPolicies(trx, accountId, { type: 'role', name });
      const result = await trx.deleteFrom('iam_roles').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async updateAssumeRolePolicy(accountId: string, name: string, document: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result = await trx.updateTable('iam_roles').set({ assume_role_policy: document }).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  // ---------------------------------------------------------------- customer-managed policies

  async createPolicy(policy: Omit<CustomerPolicy, 'defaultVersionId' | 'attachmentCount'>, document: string): Promise<CustomerPolicy> {
    return this.#change(async (trx) => {
      const result = await trx
        .insertInto('iam_policies')
        .values({
          account_id: policy.accountId,
          name: policy.name,
          policy_id: policy.policyId,
          path: policy.path,
          arn: policy.arn,
          description: policy.description ?? null,
          default_version_id: 'v1',
          next_version: 2,
          created_at: policy.createdAt,
          updated_at: policy.updatedAt,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) throw new IdentityConflictError(`A policy called ${policy.name} already exists. Duplicate names are not allowed.`);
      await trx.insertInto('iam_policy_versions').values({ policy_arn: policy.arn, version_id: 'v1', document, created_at: policy.createdAt }).execute();
      return { ...policy, defaultVersionId: 'v1', attachmentCount: 0 };
    });
  }

  async getPolicy(arn: string): Promise<CustomerPolicy | undefined> {
    const row = await this.db.selectFrom('iam_policies').select(POLICY_COLUMNS).where('arn', '=', arn).executeTakeFirst();
    return row && toPolicy(row, await this.#attachmentCount(this.db, row.account_id, arn));
  }

  async listPolicies(accountId: string): Promise<CustomerPolicy[]> {
    const rows = await this.db.selectFrom('iam_policies').select(POLICY_COLUMNS).where('account_id', '=', accountId).orderBy('name').execute();
    const counts = await Promise.all(rows.map((row) => this.#attachmentCount(this.db, accountId, row.arn)));
    return rows.map((row, i) => toPolicy(row, counts[i] ?? 0));
  }

  async listEntitiesForPolicy(accountId: string, arn: string): Promise<{ users: IamUser[]; groups: IamGroup[]; roles: IamRole[] }> {
    const [users, groups, roles] = await Promise.all([
      this.db
        .selectFrom('iam_user_attached_policies as a')
        .innerJoin('iam_users as u', (join) => join.onRef('u.account_id', '=', 'a.account_id').onRef('u.name', '=', 'a.user_name'))
        .select(['u.account_id', 'u.name', 'u.user_id', 'u.path', 'u.arn', 'u.created_at'])
        .where('a.account_id', '=', accountId)
        .where('a.policy_arn', '=', arn)
        .orderBy('u.name')
        .execute(),
      this.db
        .selectFrom('iam_entity_attached_policies as a')
        .innerJoin('iam_groups as g', (join) => join.onRef('g.account_id', '=', 'a.account_id').onRef('g.name', '=', 'a.entity_name'))
        .select(['g.account_id', 'g.name', 'g.group_id', 'g.path', 'g.arn', 'g.created_at'])
        .where('a.account_id', '=', accountId)
        .where('a.entity_type', '=', 'group')
        .where('a.policy_arn', '=', arn)
        .orderBy('g.name')
        .execute(),
      this.db
        .selectFrom('iam_entity_attached_policies as a')
        .innerJoin('iam_roles as r', (join) => join.onRef('r.account_id', '=', 'a.account_id').onRef('r.name', '=', 'a.entity_name'))
        .select(['r.account_id', 'r.name', 'r.role_id', 'r.path', 'r.arn', 'r.assume_role_policy', 'r.description', 'r.max_session_duration', 'r.created_at'])
        .where('a.account_id', '=', accountId)
        .where('a.entity_type', '=', 'role')
        .where('a.policy_arn', '=', arn)
        .orderBy('r.name')
        .execute(),
    ]);
    return { users: users.map(toUser), groups: groups.map(toGroup), roles: roles.map(toRole) };
  }

  async countPolicyAttachments(accountId: string, arn: string): Promise<number> {
    return this.#attachmentCount(this.db, accountId, arn);
  }

  async #attachmentCount(db: Executor, accountId: string, arn: string): Promise<number> {
    const [users, others] = await Promise.all([
      db
        .selectFrom('iam_user_attached_policies')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('policy_arn', '=', arn)
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('iam_entity_attached_policies')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('policy_arn', '=', arn)
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow(),
    ]);
    return num(users.n) + num(others.n);
  }

  async deletePolicy(arn: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const policy = await trx.selectFrom('iam_policies').select(['account_id', 'default_version_id']).where('arn', '=', arn).executeTakeFirst();
      if (!policy) return false;
      if ((await this.#attachmentCount(trx, policy.account_id, arn)) > 0) throw new DeleteConflictError('Cannot delete a policy attached to entities.');
      const others = await trx.selectFrom('iam_policy_versions').select('version_id').where('policy_arn', '=', arn).where('version_id', '<>', policy.default_version_id).executeTakeFirst();
      if (others) {
        throw new DeleteConflictError("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
      }
      // The default version goes with it (ON DELETE CASCADE).
      await trx.deleteFrom('iam_policies').where('arn', '=', arn).execute();
      return true;
    });
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: number, maxVersions: number): Promise<PolicyVersion> {
    return this.#change(async (trx) => {
      const policy = await trx.selectFrom('iam_policies').select(['next_version']).where('arn', '=', arn).executeTakeFirst();
      if (!policy) throw new NoSuchEntityError(`Policy ${arn} was not found.`);
      const versions = await trx.selectFrom('iam_policy_versions').select((eb) => eb.fn.countAll<number | string>().as('n')).where('policy_arn', '=', arn).executeTakeFirstOrThrow();
      if (num(versions.n) >= maxVersions) {
        throw new LimitExceededError(`A managed policy can have up to ${maxVersions} versions. Before you create a new version, you must delete an existing version.`);
      }
      const versionId = `v${policy.next_version}`;
      await trx.insertInto('iam_policy_versions').values({ policy_arn: arn, version_id: versionId, document, created_at: createdAt }).execute();
      await trx
        .updateTable('iam_policies')
        .set({ next_version: policy.next_version + 1, updated_at: createdAt, ...(setAsDefault ? { default_version_id: versionId } : {}) })
        .where('arn', '=', arn)
        .execute();
      return { versionId, document, isDefault: setAsDefault, createdAt };
    });
  }

  async getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersion | undefined> {
    return (await this.#versions(arn, versionId))[0];
  }

  async listPolicyVersions(arn: string): Promise<PolicyVersion[]> {
    return this.#versions(arn);
  }

  async #versions(arn: string, versionId?: string): Promise<PolicyVersion[]> {
    const rows = await this.db
      .selectFrom('iam_policy_versions as v')
      .innerJoin('iam_policies as p', 'p.arn', 'v.policy_arn')
      .select(['v.version_id', 'v.document', 'v.created_at', 'p.default_version_id'])
      .where('v.policy_arn', '=', arn)
      .$if(versionId !== undefined, (qb) => qb.where('v.version_id', '=', versionId as string))
      .orderBy('v.created_at', 'desc')
      .orderBy('v.version_id', 'desc')
      .execute();
    return rows.map((row) => ({ versionId: row.version_id, document: row.document, isDefault: row.version_id === row.default_version_id, createdAt: num(row.created_at) }));
  }

  async deletePolicyVersion(arn: string, versionId: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const policy = await trx.selectFrom('iam_policies').select('default_version_id').where('arn', '=', arn).executeTakeFirst();
      if (!policy) return false;
      if (policy.default_version_id === versionId) throw new DeleteConflictError('Cannot delete the default version of a policy.');
      const result = await trx.deleteFrom('iam_policy_versions').where('policy_arn', '=', arn).where('version_id', '=', versionId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, updatedAt: number): Promise<boolean> {
    return this.#change(async (trx) => {
      const version = await trx.selectFrom('iam_policy_versions').select('version_id').where('policy_arn', '=', arn).where('version_id', '=', versionId).executeTakeFirst();
      if (!version) return false;
      await trx.updateTable('iam_policies').set({ default_version_id: versionId, updated_at: updatedAt }).where('arn', '=', arn).execute();
      return true;
    });
  }

  // ---------------------------------------------------------------- role sessions

  async createRoleSession(session: RoleSession): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('iam_role_sessions').where('expires_at', '<', session.createdAt).execute();
        await trx
          .insertInto('iam_role_sessions')
          .values({
            access_key_id: session.accessKeyId,
            account_id: session.accountId,
            role_name: session.roleName,
            session_name: session.sessionName,
            sealed_secret: session.sealedSecret,
            sealed_token: session.sealedToken,
            expires_at: session.expiresAt,
            created_at: session.createdAt,
          })
          .execute();
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw noSuchHolder({ type: 'role', name: session.roleName });
      throw error;
    }
  }

  async getRoleSession(accessKeyId: string): Promise<RoleSession | undefined> {
    const row = await this.#q.getRoleSession.first(this.db, accessKeyId);
    return row && toSession(row);
  }

  // ---------------------------------------------------------------- generation

  async generation(): Promise<number> {
    const row = await this.#q.generation.first(this.db, 1);
    if (row === undefined) throw new Error('iam_generation has no row: run the metadata store migrations');
    return num(row.value);
  }
}
