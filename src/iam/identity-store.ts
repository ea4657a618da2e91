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

export interface AccessKeyLastUse {
  usedAt: number;
  /** The signing name of the call (`ecr`, `iam`, `sts`, …). */
  service: string;
  region: string;
}

export interface IamGroup {
  accountId: string;
  name: string;
  /** `AGPA…`, stable for the life of the group. */
  groupId: string;
  path: string;
  arn: string;
  createdAt: number;
}

export interface IamRole {
  accountId: string;
  name: string;
  /** `AROA…`, stable for the life of the role. */
  roleId: string;
  path: string;
  arn: string;
  /** The trust policy (JSON text), already validated. */
  assumeRolePolicy: string;
  description: string | undefined;
  /** Seconds, 3600–43200. */
  maxSessionDuration: number;
  createdAt: number;
}

/** A customer-managed policy. */
export interface CustomerPolicy {
  accountId: string;
  name: string;
  /** `ANPA…`. */
  policyId: string;
  path: string;
  arn: string;
  description: string | undefined;
  defaultVersionId: string;
  /** Users, groups and roles it is attached to (filled in on reads). */
  attachmentCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface PolicyVersion {
  versionId: string;
  document: string;
  isDefault: boolean;
  createdAt: number;
}

/** Temporary credentials of an assumed role (STS AssumeRole). */
export interface RoleSession {
  /** `ASIA…`. */
  accessKeyId: string;
  accountId: string;
  roleName: string;
  sessionName: string;
  /** Secret key and session token, each sealed with the server key. */
  sealedSecret: string;
  sealedToken: string;
  expiresAt: number;
  createdAt: number;
}

/** What an inline or managed policy is attached to. */
export interface PolicyHolder {
  type: 'user' | 'group' | 'role';
  name: string;
}

/** A holder's own policies and those it gets through its groups, ready to evaluate. */
export interface EffectivePolicies {
  /** Inline documents and the default versions of attached customer-managed policies, each with a label. */
  documents: { label: string; document: string }[];
  /** ARNs of attached AWS-managed policies (`arn:aws:iam::aws:policy/…`), resolved by the caller. */
  awsManagedArns: string[];
}

/** A name or id that is already taken (IAM's EntityAlreadyExists). */
export class IdentityConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityConflictError';
  }
}

/** Something named does not exist (IAM's NoSuchEntity). */
export class NoSuchEntityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoSuchEntityError';
  }
}

/** Thrown when a key or policy names a user that does not exist. */
export class NoSuchUserError extends NoSuchEntityError {
  constructor(userName: string) {
    super(`The user with name ${userName} cannot be found.`);
    this.name = 'NoSuchUserError';
  }
}

/** IAM's DeleteConflict: the entity still has members, policies, attachments or versions. */
export class DeleteConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeleteConflictError';
  }
}

/** IAM's LimitExceeded (access keys per user, versions per policy). */
export class LimitExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitExceededError';
  }
}

/**
 * Changes are serialized (one at a time across every process sharing the
 * database), so the checks they make (limits, conflicts, existence) hold
 * when they commit.
 */
export interface IdentityStore {
  /** Throws IdentityConflictError when the user exists. */
  createUser(user: IamUser): Promise<void>;
  getUser(accountId: string, name: string): Promise<IamUser | undefined>;
  listUsers(accountId: string): Promise<IamUser[]>;
  /**
   * Deletes the user with its keys and policies. False if there was no such
   * user; DeleteConflictError while it is a member of a group.
   */
  deleteUser(accountId: string, name: string): Promise<boolean>;

  /**
   * Throws IdentityConflictError when the id exists, and LimitExceededError
   * when the owner (user, or the account root) already has `maxPerOwner` keys.
   */
  createAccessKey(key: AccessKey, maxPerOwner?: number): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  listAccessKeys(accountId: string, userName: string | undefined): Promise<AccessKey[]>;
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;
  /** Records use of a key (coarse: callers may throttle how often they call this). */
  touchAccessKey(accessKeyId: string, usedAt: number, where?: { service: string; region: string }): Promise<void>;
  getAccessKeyLastUse(accessKeyId: string): Promise<AccessKeyLastUse | undefined>;

  /** Creates or replaces an inline policy. NoSuchEntityError (NoSuchUserError for users) when the holder does not exist. */
  putInlinePolicy(accountId: string, holder: PolicyHolder, policy: InlinePolicy): Promise<void>;
  getInlinePolicy(accountId: string, holder: PolicyHolder, policyName: string): Promise<InlinePolicy | undefined>;
  listInlinePolicies(accountId: string, holder: PolicyHolder): Promise<InlinePolicy[]>;
  deleteInlinePolicy(accountId: string, holder: PolicyHolder, policyName: string): Promise<boolean>;
  /**
   * Attaches by ARN (idempotent). A customer-managed ARN must name an
   * existing policy of the account (NoSuchEntityError); AWS-managed ARNs are
   * the caller's to check.
   */
  attachPolicy(accountId: string, holder: PolicyHolder, policyArn: string): Promise<void>;
  detachPolicy(accountId: string, holder: PolicyHolder, policyArn: string): Promise<boolean>;
  listAttachedPolicies(accountId: string, holder: PolicyHolder): Promise<string[]>;
  /** How many users, groups and roles of the account a policy (customer or AWS-managed) is attached to. */
  countPolicyAttachments(accountId: string, policyArn: string): Promise<number>;
  /** The users, groups and roles of the account a policy is attached to, each sorted by name. */
  listEntitiesForPolicy(accountId: string, policyArn: string): Promise<{ users: IamUser[]; groups: IamGroup[]; roles: IamRole[] }>;
  /** A user's (with its groups') or a role's identity policies. */
  effectivePolicies(accountId: string, holder: PolicyHolder): Promise<EffectivePolicies>;

  /** Throws IdentityConflictError when the group exists. */
  createGroup(group: IamGroup): Promise<void>;
  getGroup(accountId: string, name: string): Promise<IamGroup | undefined>;
  listGroups(accountId: string): Promise<IamGroup[]>;
  /** False if there was no such group; DeleteConflictError while it has members or policies. */
  deleteGroup(accountId: string, name: string): Promise<boolean>;
  /** Idempotent; NoSuchEntityError when the group or the user does not exist. */
  addUserToGroup(accountId: string, groupName: string, userName: string): Promise<void>;
  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<boolean>;
  listGroupMembers(accountId: string, groupName: string): Promise<IamUser[]>;
  listGroupsForUser(accountId: string, userName: string): Promise<IamGroup[]>;

  /** Throws IdentityConflictError when the role exists. */
  createRole(role: IamRole): Promise<void>;
  getRole(accountId: string, name: string): Promise<IamRole | undefined>;
  listRoles(accountId: string): Promise<IamRole[]>;
  /** False if there was no such role; DeleteConflictError while it has policies. Ends its sessions. */
  deleteRole(accountId: string, name: string): Promise<boolean>;
  updateAssumeRolePolicy(accountId: string, name: string, document: string): Promise<boolean>;

  /** Throws IdentityConflictError when a policy of that name exists. The document becomes version v1, the default. */
  createPolicy(policy: Omit<CustomerPolicy, 'defaultVersionId' | 'attachmentCount'>, document: string): Promise<CustomerPolicy>;
  getPolicy(arn: string): Promise<CustomerPolicy | undefined>;
  listPolicies(accountId: string): Promise<CustomerPolicy[]>;
  /** False if there was no such policy; DeleteConflictError while attached or with versions besides the default. */
  deletePolicy(arn: string): Promise<boolean>;
  /** NoSuchEntityError without the policy; LimitExceededError at `maxVersions`. */
  createPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: number, maxVersions: number): Promise<PolicyVersion>;
  getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersion | undefined>;
  listPolicyVersions(arn: string): Promise<PolicyVersion[]>;
  /** False if there was no such version; DeleteConflictError for the default one. */
  deletePolicyVersion(arn: string, versionId: string): Promise<boolean>;
  /** False if there was no such version. */
  setDefaultPolicyVersion(arn: string, versionId: string, updatedAt: number): Promise<boolean>;

  /** Records a session; also forgets expired ones. NoSuchEntityError when the role is gone. */
  createRoleSession(session: RoleSession): Promise<void>;
  /** A session by its access key id, expired or not. */
  getRoleSession(accessKeyId: string): Promise<RoleSession | undefined>;

  /**
   * A number that changes whenever any identity, key or policy changes (for
   * any account), so caches of authorization decisions can tell they are
   * stale with one cheap read. New role sessions do not change it: nothing
   * cached can depend on a key id that did not exist.
   */
  generation(): Promise<number>;
}
