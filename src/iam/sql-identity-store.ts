import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AccessKeysTable, Database, IamUsersTable, SqlDialectName } from '../storage/sql/database.js';
import { PreparedQuery } from '../storage/sql/prepared.js';
import {
  IdentityConflictError,
  NoSuchUserError,
  type AccessKey,
  type AccessKeyStatus,
  type IamUser,
  type IdentityStore,
  type InlinePolicy,
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

function toAccessKey(row: Selectable<AccessKeysTable>): AccessKey {
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

/** The queries on the authentication path, compiled once per store (see PreparedQuery). */
function prepareQueries(db: Kysely<Database>) {
  return {
    getAccessKey: new PreparedQuery(1, (accessKeyId: string) =>
      db.selectFrom('access_keys').select(KEY_COLUMNS).where('access_key_id', '=', accessKeyId),
    ),
    // Monotonic: a late, throttled touch never moves last_used_at backwards.
    touchAccessKey: new PreparedQuery(2, (accessKeyId: string, usedAt: number) =>
      db
        .updateTable('access_keys')
        .set({ last_used_at: usedAt })
        .where('access_key_id', '=', accessKeyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', usedAt)])),
    ),
    generation: new PreparedQuery(1, (id: number) =>
      db.selectFrom('iam_generation').select('value').where('id', '=', id),
    ),
  };
}

/**
 * IdentityStore over Kysely, on the metadata database (SQLite or
 * PostgreSQL; tables from migration `0003_iam_identities`, applied by the
 * metadata store's `migrate()`). It does not own its Kysely instance and has
 * no `close()`: whoever opened the database closes it (see `openStores` in
 * `../storage/sql/open.js`).
 *
 * Every change to users, keys or policies bumps `iam_generation` in the same
 * transaction, so a reader that sees the new generation also sees the change.
 * Using a key (`touchAccessKey`) does not.
 *
 * `createAccessKey` for a user, `putUserPolicy` and `attachUserPolicy` throw
 * NoSuchUserError when the user does not exist.
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

  /** Runs `change` in a transaction; bumps the generation if it returns true. */
  async #change<T extends boolean | void>(
    change: (trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
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

  /** `run`, with a foreign-key violation reported as the missing user. */
  async #forUser<T>(accountId: string, userName: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NoSuchUserError(accountId, userName);
      throw error;
    }
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
    // Keys and policies go with the user (ON DELETE CASCADE).
    return this.#change(async (trx) => {
      const result = await trx
        .deleteFrom('iam_users')
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  // ---------------------------------------------------------------- access keys

  async createAccessKey(key: AccessKey): Promise<void> {
    const insert = (): Promise<void> =>
      this.#change(async (trx) => {
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
          })
          .onConflict((oc) => oc.column('access_key_id').doNothing())
          .executeTakeFirst();
        if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) {
          throw new IdentityConflictError(`access key ${key.accessKeyId} already exists`);
        }
      });
    if (key.userName === undefined) return insert();
    return this.#forUser(key.accountId, key.userName, insert);
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

  async touchAccessKey(accessKeyId: string, usedAt: number): Promise<void> {
    await this.#q.touchAccessKey.execute(this.db, accessKeyId, usedAt);
  }

  // ---------------------------------------------------------------- inline policies

  async putUserPolicy(accountId: string, userName: string, policy: InlinePolicy): Promise<void> {
    await this.#forUser(accountId, userName, () =>
      this.#change(async (trx) => {
        await trx
          .insertInto('iam_user_policies')
          .values({ account_id: accountId, user_name: userName, policy_name: policy.name, document: policy.document })
          .onConflict((oc) =>
            oc
              .columns(['account_id', 'user_name', 'policy_name'])
              .doUpdateSet({ document: (eb) => eb.ref('excluded.document') }),
          )
          .execute();
      }),
    );
  }

  async getUserPolicy(accountId: string, userName: string, policyName: string): Promise<InlinePolicy | undefined> {
    const row = await this.db
      .selectFrom('iam_user_policies')
      .select(['policy_name', 'document'])
      .where('account_id', '=', accountId)
      .where('user_name', '=', userName)
      .where('policy_name', '=', policyName)
      .executeTakeFirst();
    return row && { name: row.policy_name, document: row.document };
  }

  async listUserPolicies(accountId: string, userName: string): Promise<InlinePolicy[]> {
    const rows = await this.db
      .selectFrom('iam_user_policies')
      .select(['policy_name', 'document'])
      .where('account_id', '=', accountId)
      .where('user_name', '=', userName)
      .orderBy('policy_name')
      .execute();
    return rows.map((row) => ({ name: row.policy_name, document: row.document }));
  }

  async deleteUserPolicy(accountId: string, userName: string, policyName: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result = await trx
        .deleteFrom('iam_user_policies')
        .where('account_id', '=', accountId)
        .where('user_name', '=', userName)
        .where('policy_name', '=', policyName)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  // ---------------------------------------------------------------- attached policies

  async attachUserPolicy(accountId: string, userName: string, policyArn: string): Promise<void> {
    await this.#forUser(accountId, userName, () =>
      this.#change(async (trx) => {
        const result = await trx
          .insertInto('iam_user_attached_policies')
          .values({ account_id: accountId, user_name: userName, policy_arn: policyArn })
          .onConflict((oc) => oc.columns(['account_id', 'user_name', 'policy_arn']).doNothing())
          .executeTakeFirst();
        // Already attached: nothing changed, so the generation stays.
        return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
      }),
    );
  }

  async detachUserPolicy(accountId: string, userName: string, policyArn: string): Promise<boolean> {
    return this.#change(async (trx) => {
      const result = await trx
        .deleteFrom('iam_user_attached_policies')
        .where('account_id', '=', accountId)
        .where('user_name', '=', userName)
        .where('policy_arn', '=', policyArn)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async listAttachedUserPolicies(accountId: string, userName: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('iam_user_attached_policies')
      .select('policy_arn')
      .where('account_id', '=', accountId)
      .where('user_name', '=', userName)
      .orderBy('policy_arn')
      .execute();
    return rows.map((row) => row.policy_arn);
  }

  // ---------------------------------------------------------------- generation

  async generation(): Promise<number> {
    const row = await this.#q.generation.first(this.db, 1);
    if (row === undefined) throw new Error('iam_generation has no row: run the metadata store migrations');
    return num(row.value);
  }
}
