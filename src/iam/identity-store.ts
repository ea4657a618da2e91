/**
 * IAM identities of Berth's accounts: users, their access keys and their
 * policies. Kept in the metadata database (SQLite or PostgreSQL) beside the
 * registry's tables; secrets are stored sealed by the server key, never in
 * the clear. Implementation: `./sql-identity-store.ts`, run by
 * `test/identity-store.test.ts` on both backends.
 *
 * Timestamps are milliseconds since the epoch.
 */

export interface IamUser {
  accountId: string;
  name: string;
  /** `AIDA…`, stable for the life of the user. */
  userId: string;
  path: string;
  arn: string;
  createdAt: number;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface AccessKey {
  accessKeyId: string;
  accountId: string;
  /** The owning user; undefined for an account root key. */
  userName: string | undefined;
  /** Sealed with the server key (ServerKey.encrypt). */
  sealedSecret: string;
  status: AccessKeyStatus;
  createdAt: number;
  lastUsedAt: number | undefined;
}

export interface InlinePolicy {
  name: string;
  /** The policy document as given (JSON text), already validated. */
  document: string;
}

export class IdentityConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityConflictError';
  }
}

/** Thrown when a key or policy names a user that does not exist. */
export class NoSuchUserError extends Error {
  constructor(accountId: string, userName: string) {
    super(`no IAM user ${userName} in account ${accountId}`);
    this.name = 'NoSuchUserError';
  }
}

export interface IdentityStore {
  /** Throws IdentityConflictError when the user exists. */
  createUser(user: IamUser): Promise<void>;
  getUser(accountId: string, name: string): Promise<IamUser | undefined>;
  listUsers(accountId: string): Promise<IamUser[]>;
  /** Deletes the user with its keys and policies. False if there was no such user. */
  deleteUser(accountId: string, name: string): Promise<boolean>;

  /** Throws IdentityConflictError when the id exists. */
  createAccessKey(key: AccessKey): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  listAccessKeys(accountId: string, userName: string | undefined): Promise<AccessKey[]>;
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;
  /** Records use of a key (coarse: callers may throttle how often they call this). */
  touchAccessKey(accessKeyId: string, usedAt: number): Promise<void>;

  /** Creates or replaces an inline policy. */
  putUserPolicy(accountId: string, userName: string, policy: InlinePolicy): Promise<void>;
  getUserPolicy(accountId: string, userName: string, policyName: string): Promise<InlinePolicy | undefined>;
  listUserPolicies(accountId: string, userName: string): Promise<InlinePolicy[]>;
  deleteUserPolicy(accountId: string, userName: string, policyName: string): Promise<boolean>;

  /** Attaches a managed policy by ARN (idempotent). */
  attachUserPolicy(accountId: string, userName: string, policyArn: string): Promise<void>;
  detachUserPolicy(accountId: string, userName: string, policyArn: string): Promise<boolean>;
  listAttachedUserPolicies(accountId: string, userName: string): Promise<string[]>;

  /**
   * A number that changes whenever any key or policy changes (for any
   * account), so caches of authorization decisions can tell they are stale
   * with one cheap read.
   */
  generation(): Promise<number>;
}
