import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { PUBLIC_ALIAS, type BerthConfig } from '../config.js';
import type { AccessKey, AccessKeyStatus, IdentityStore } from '../iam/identity-store.js';
import { AccountConflictError, type Account, type MetadataStore } from '../storage/metadata-store.js';
import { openStores } from '../storage/sql/open.js';
import { ensureDefaultAccount } from './default-account.js';
import { newAccessKey, ROOT_KEY_FILE, storedRootKeyId, storeRootKey, type NewAccessKey } from './root-account.js';
import { ServerKey } from './server-key.js';

/** An error meant for the operator: its message says all there is to say (printed without a stack trace). */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

/** Root keys per account, as IAM allows access keys per principal. */
export const MAX_ROOT_KEYS = 2;

const ACCOUNT_ID = /^\d{12}$/;
const ID_ATTEMPTS = 20;

export interface RootKeyListing {
  accessKeyId: string;
  status: AccessKeyStatus;
  /** Unknown for a key from the configuration. */
  createdAt: number | undefined;
  /** `database`: a root key in the identity store; the default account's own key comes from the `configuration` or the `data-dir` file. */
  source: 'database' | 'configuration' | 'data-dir';
}

export interface AccountListing {
  accountId: string;
  publicAlias: string;
  createdAt: number;
  /** The default account (BERTH_ACCOUNT_ID), whose own root key is not kept in the database. */
  isDefault: boolean;
  rootKeys: RootKeyListing[];
}

export interface CreatedAccount {
  account: Account;
  rootKey: NewAccessKey;
}

export interface RetiredKey {
  accessKeyId: string;
  /** `replaced`: the default account's key file now holds the new key. */
  outcome: 'deleted' | 'deactivated' | 'replaced';
}

export interface RotatedKeys {
  accountId: string;
  rootKey: NewAccessKey;
  retired: RetiredKey[];
  /** Previous keys that could not be retired (the new key exists regardless and must still be shown). */
  notRetired: { accessKeyId: string; reason: string }[];
  /** Where the new key is written, when running servers only load it at start (the default account). */
  keyFile: string | undefined;
}

/** What the commands need to know of the default account, which the configuration defines. */
export interface DefaultAccountSettings {
  accountId: string;
  dataDir: string;
  /** BERTH_ROOT_ACCESS_KEY_ID, when the default account's root key comes from the configuration. */
  configuredRootKeyId: string | undefined;
}

/** The operator's account commands (`berth admin account …`), over the stores a server uses. */
export class AccountAdmin {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly identities: IdentityStore,
    private readonly serverKey: ServerKey,
    private readonly defaults: DefaultAccountSettings,
  ) {}

  /**
   * Creates an account and its root access key. Either both exist afterwards
   * or neither: the key is created inactive, the account next, and the key is
   * activated last; if the account cannot be created the key is deleted, so
   * the key never authenticates for an account that another process created
   * with the same id in the meantime.
   */
  async createAccount(request: { accountId?: string | undefined; publicAlias?: string | undefined }): Promise<CreatedAccount> {
    const accountId = request.accountId ?? (await this.unusedAccountId());
    if (!ACCOUNT_ID.test(accountId)) throw new AdminError(`an account id is 12 digits, got '${accountId}'`);
    const publicAlias = request.publicAlias ?? accountId;
    // ECR Public's alias rule, as for the default account's alias (src/config.ts).
    if (publicAlias.length < 2 || publicAlias.length > 50 || !PUBLIC_ALIAS.test(publicAlias)) {
      throw new AdminError(`a public alias is 2–50 lower-case letters, digits and single hyphens, got '${publicAlias}'`);
    }
    if (await this.metadata.getAccount(accountId)) throw new AdminError(`account ${accountId} exists`);
    const aliasOwner = await this.metadata.getAccountByAlias(publicAlias);
    if (aliasOwner) throw new AdminError(`public alias '${publicAlias}' is taken by account ${aliasOwner.accountId}`);

    const rootKey = newAccessKey();
    const account: Account = { accountId, publicAlias, registryPolicy: null, createdAt: Date.now() };
    await this.identities.createAccessKey(this.storedKey(accountId, rootKey, 'Inactive', account.createdAt), MAX_ROOT_KEYS);
    try {
      await this.metadata.createAccount(account);
    } catch (error) {
      await this.identities.deleteAccessKey(rootKey.accessKeyId);
      if (error instanceof AccountConflictError) throw new AdminError(`account ${accountId} or public alias '${publicAlias}' was taken meanwhile; nothing was created`);
      throw error;
    }
    try {
      await this.identities.setAccessKeyStatus(rootKey.accessKeyId, 'Active');
    } catch (error) {
      throw new AdminError(
        `account ${accountId} was created, but activating its root key failed (${error instanceof Error ? error.message : String(error)}); ` +
          `give it a working key with: berth admin account rotate-keys --account ${accountId}`,
      );
    }
    return { account, rootKey };
  }

  /** Every account, the default one included, with its root keys. */
  async listAccounts(): Promise<AccountListing[]> {
    const accounts = await this.metadata.listAccounts();
    return Promise.all(
      accounts.map(async (account) => {
        const isDefault = account.accountId === this.defaults.accountId;
        const storedKeys = await this.identities.listAccessKeys(account.accountId, undefined);
        const rootKeys: RootKeyListing[] = [
          ...(isDefault ? await this.defaultAccountKey() : []),
          ...storedKeys.map((key): RootKeyListing => ({ accessKeyId: key.accessKeyId, status: key.status, createdAt: key.createdAt, source: 'database' })),
        ];
        return { accountId: account.accountId, publicAlias: account.publicAlias, createdAt: account.createdAt, isDefault, rootKeys };
      }),
    );
  }

  /**
   * AWS's rotation: a new root key first, then the previous ones deleted
   * (or, with `keepOld`, deactivated so the operator can delete them once
   * nothing uses them). The default account's key is its data directory's
   * key file, which servers read at start; a configured key is refused.
   */
  async rotateRootKeys(accountId: string, options: { keepOld: boolean }): Promise<RotatedKeys> {
    if (!ACCOUNT_ID.test(accountId)) throw new AdminError(`an account id is 12 digits, got '${accountId}'`);
    if (!(await this.metadata.getAccount(accountId))) throw new AdminError(`there is no account ${accountId}`);
    if (accountId === this.defaults.accountId) return this.rotateDefaultAccountKey(options.keepOld);

    const previous = await this.identities.listAccessKeys(accountId, undefined);
    if (options.keepOld && previous.length >= MAX_ROOT_KEYS) {
      throw new AdminError(
        `account ${accountId} has ${previous.length} root keys, the most it may have, so none can be kept beside a new one; ` +
          `rotate without --keep-old to replace them all, or first delete one with 'aws iam delete-access-key --access-key-id <id>' signed with a root key of the account`,
      );
    }
    const retired: RetiredKey[] = [];
    // At the limit the new key needs room: the keys that go anyway are deleted first, inactive ones (which authenticate nothing) before the oldest active one.
    const makeRoom = options.keepOld ? [] : byRetirementOrder(previous).slice(0, Math.max(0, previous.length + 1 - MAX_ROOT_KEYS));
    for (const key of makeRoom) {
      await this.identities.deleteAccessKey(key.accessKeyId);
      retired.push({ accessKeyId: key.accessKeyId, outcome: 'deleted' });
    }

    const rootKey = newAccessKey();
    await this.identities.createAccessKey(this.storedKey(accountId, rootKey, 'Active', Date.now()), MAX_ROOT_KEYS);

    const notRetired: RotatedKeys['notRetired'] = [];
    for (const key of previous.filter((k) => !makeRoom.includes(k))) {
      try {
        if (options.keepOld) await this.identities.setAccessKeyStatus(key.accessKeyId, 'Inactive');
        else await this.identities.deleteAccessKey(key.accessKeyId);
        retired.push({ accessKeyId: key.accessKeyId, outcome: options.keepOld ? 'deactivated' : 'deleted' });
      } catch (error) {
        notRetired.push({ accessKeyId: key.accessKeyId, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { accountId, rootKey, retired, notRetired, keyFile: undefined };
  }

  private async rotateDefaultAccountKey(keepOld: boolean): Promise<RotatedKeys> {
    const { accountId, dataDir, configuredRootKeyId } = this.defaults;
    if (configuredRootKeyId !== undefined) {
      throw new AdminError(
        `the root key of the default account ${accountId} (${configuredRootKeyId}) comes from the configuration; ` +
          'to rotate it, change BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY (rootAccessKeyId, rootSecretAccessKey) and restart the servers',
      );
    }
    const keyFile = join(dataDir, ROOT_KEY_FILE);
    if (keepOld) {
      throw new AdminError(
        `the default account ${accountId} has one root key of its own, in ${keyFile}, so --keep-old does not apply; ` +
          'without it, running servers go on accepting the old key until they restart',
      );
    }
    const previous = await storedRootKeyId(dataDir);
    const rootKey = newAccessKey();
    await storeRootKey(dataDir, this.serverKey, rootKey);
    return { accountId, rootKey, retired: previous ? [{ accessKeyId: previous.accessKeyId, outcome: 'replaced' }] : [], notRetired: [], keyFile };
  }

  private async defaultAccountKey(): Promise<RootKeyListing[]> {
    const { configuredRootKeyId, dataDir } = this.defaults;
    if (configuredRootKeyId !== undefined) return [{ accessKeyId: configuredRootKeyId, status: 'Active', createdAt: undefined, source: 'configuration' }];
    const stored = await storedRootKeyId(dataDir);
    return stored ? [{ accessKeyId: stored.accessKeyId, status: 'Active', createdAt: stored.createdAt, source: 'data-dir' }] : [];
  }

  private storedKey(accountId: string, key: NewAccessKey, status: AccessKeyStatus, createdAt: number): AccessKey {
    return { accessKeyId: key.accessKeyId, accountId, userName: undefined, sealedSecret: this.serverKey.encrypt(key.secretAccessKey), status, createdAt, lastUsedAt: undefined };
  }

  /** A random 12-digit id that names no account and no account's alias (an account's alias defaults to its id). */
  private async unusedAccountId(): Promise<string> {
    for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
      const accountId = String(randomInt(0, 1e12)).padStart(12, '0');
      if (!(await this.metadata.getAccount(accountId)) && !(await this.metadata.getAccountByAlias(accountId))) return accountId;
    }
    throw new AdminError(`found no unused account id in ${ID_ATTEMPTS} attempts; give one with --id`);
  }
}

/** Inactive keys first, then the oldest. */
function byRetirementOrder(keys: AccessKey[]): AccessKey[] {
  return [...keys].sort((a, b) => Number(a.status === 'Active') - Number(b.status === 'Active') || a.createdAt - b.createdAt);
}

/**
 * A key sealed with another server key would be printed but refused by every
 * server; with PostgreSQL the data directory is easily not the servers' one.
 * One root key that the loaded server key can open is proof enough.
 */
async function assertSealedWith(serverKey: ServerKey, identities: IdentityStore, accounts: Account[], dataDir: string): Promise<void> {
  for (const account of accounts) {
    const [key] = await identities.listAccessKeys(account.accountId, undefined);
    if (key === undefined) continue;
    try {
      serverKey.decrypt(key.sealedSecret);
      return;
    } catch {
      throw new AdminError(
        `the server key in ${join(dataDir, 'server-key')} did not seal the keys in this database; ` +
          "run the command with the servers' data directory (BERTH_DATA_DIR or --data-dir)",
      );
    }
  }
}

/**
 * Prepares the data directory as a server start does (server key,
 * migrations, the default account) and opens the account commands on it,
 * so they work before the first `berth serve` and beside running servers.
 */
export async function openAccountAdmin(config: BerthConfig): Promise<{ admin: AccountAdmin; close(): Promise<void> }> {
  const serverKey = await ServerKey.load(config.dataDir);
  const stores = await openStores(config.databaseUrl);
  try {
    await stores.metadata.migrate();
    const accounts = await stores.metadata.listAccounts();
    // Servers create their default account at start, so its absence among existing accounts means this command is not configured as they are.
    if (accounts.length > 0 && !accounts.some((account) => account.accountId === config.accountId)) {
      throw new AdminError(
        `the database has accounts but not the default account ${config.accountId}; run the command with the servers' settings ` +
          '(BERTH_ACCOUNT_ID or accountId in their config file), or start a server with the new default account first',
      );
    }
    await ensureDefaultAccount(stores.metadata, config);
    await assertSealedWith(serverKey, stores.identities, accounts, config.dataDir);
  } catch (error) {
    await stores.close();
    throw error;
  }
  const defaults: DefaultAccountSettings = { accountId: config.accountId, dataDir: config.dataDir, configuredRootKeyId: config.rootAccessKeyId };
  return { admin: new AccountAdmin(stores.metadata, stores.identities, serverKey, defaults), close: () => stores.close() };
}
