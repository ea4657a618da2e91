import type { RootAccount } from '../accounts/root-account.js';
import type { ServerKey } from '../accounts/server-key.js';
import type { IdentityStore, PolicyHolder } from './identity-store.js';
import { evaluate, getManagedPolicy, parsePolicy, tryParsePolicy, type EvaluationResult, type Policy, type RequestContext, type RequestPrincipal } from './policy/index.js';

/** An authenticated caller: who it is, and the key it used (none for the administrator login). */
export interface Caller {
  principal: RequestPrincipal;
  accessKeyId: string | undefined;
  /** Temporary credentials (a role session) stop working at this instant, ms since the epoch. */
  expiresAt?: number;
  /** Set when the caller logged in to `/v2/` with an ECR Public token, which opens public registries only. */
  tokenService?: 'ecr' | 'ecr-public';
}

export interface KeyCredentials {
  secretAccessKey: string;
  /** Temporary credentials only: the token every request must carry, and their expiry. */
  sessionToken?: string;
  expiration?: Date;
  caller: Caller;
}

/** How long a process trusts its caches before asking whether any key or policy changed. */
const GENERATION_CHECK_MS = 1000;
const MAX_CACHED_KEYS = 10_000;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
/** Use of a key is written at most this often per key and process, off the request's path. */
const KEY_USE_RECORD_MS = 60_000;
const MAX_RECORDED_KEYS = 10_000;

/** What an account root may do in its own account: everything (AWS grants it implicitly, no policy needed). */
const ROOT_IDENTITY: readonly Policy[] = [parsePolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', { kind: 'identity', name: 'account-root' })];

export function rootPrincipal(accountId: string): RequestPrincipal {
  return { arn: `arn:aws:iam::${accountId}:root`, accountId, type: 'Account', userId: accountId };
}

export function userPrincipal(user: { accountId: string; arn: string; userId: string; name: string }): RequestPrincipal {
  return { arn: user.arn, accountId: user.accountId, type: 'User', userId: user.userId, username: user.name };
}

/** A session of a role: `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, `aws:userid` `AROA…:<session>`, `aws:PrincipalArn` the role's ARN. */
export function roleSessionPrincipal(role: { accountId: string; name: string; roleId: string; arn: string }, sessionName: string): RequestPrincipal {
  return {
    arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`,
    accountId: role.accountId,
    type: 'AssumedRole',
    userId: `${role.roleId}:${sessionName}`,
    roleArn: role.arn,
  };
}

/** Whose identity policies apply to a principal: a user's, a session's role's, or none (root, anonymous, services). */
function policyHolderOf(principal: RequestPrincipal): PolicyHolder | undefined {
  if (principal.type === 'User' && principal.username) return { type: 'user', name: principal.username };
  if (principal.type === 'AssumedRole') {
    const role = /^arn:[^:]+:sts::\d{12}:assumed-role\/([^/]+)\//.exec(principal.arn)?.[1];
    if (role) return { type: 'role', name: role };
  }
  return undefined;
}

/**
 * Authentication material and authorization decisions for every surface,
 * from one place. Keys and identity policies are cached per process; the
 * caches are dropped when the identity store's generation moves (checked
 * at most once a second) and at once after this process changes anything,
 * so a deleted key or a new deny takes effect within a second everywhere.
 */
export class Authorizer {
  private keys = new Map<string, KeyCredentials | null>();
  private policies = new Map<string, Promise<Policy[]>>();
  private generation = -1;
  private checkedAt = 0;
  /** When this process last wrote each key's use. */
  private readonly keyUseRecordedAt = new Map<string, number>();

  constructor(
    private readonly identities: IdentityStore,
    private readonly serverKey: ServerKey,
    private readonly root: RootAccount,
    private readonly onBackgroundError: (error: unknown) => void = (error) => process.emitWarning(`recording an access key's last use failed: ${String(error)}`),
  ) {}

  /** Drops every cached key and policy (after this process changed one). */
  invalidate(): void {
    this.keys = new Map();
    this.policies = new Map();
    this.checkedAt = 0;
  }

  private async fresh(): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt < GENERATION_CHECK_MS) return;
    this.checkedAt = now;
    const generation = await this.identities.generation();
    if (generation !== this.generation) {
      this.generation = generation;
      this.keys = new Map();
      this.policies = new Map();
    }
  }

  /** The secret and the caller of an active access key (for SigV4), or undefined. */
  async credentialsFor(accessKeyId: string): Promise<KeyCredentials | undefined> {
    if (accessKeyId === this.root.accessKeyId) {
      return { secretAccessKey: this.root.secretAccessKey, caller: { principal: rootPrincipal(this.root.accountId), accessKeyId } };
    }
    // Anything else a caller sends is looked up only if it can be a key id, so junk cannot fill the cache.
    if (!ACCESS_KEY_ID.test(accessKeyId)) return undefined;
    await this.fresh();
    // The map as of now: if an invalidation replaces it while we read, what we read is not cached.
    const keys = this.keys;
    const cached = keys.get(accessKeyId);
    if (cached !== undefined) return cached ?? undefined;
    const credentials = await this.loadKey(accessKeyId);
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(accessKeyId, credentials);
    return credentials ?? undefined;
  }

  private async loadKey(accessKeyId: string): Promise<KeyCredentials | null> {
    if (accessKeyId.startsWith('ASIA')) return this.loadRoleSession(accessKeyId);
    const key = await this.identities.getAccessKey(accessKeyId);
    if (!key || key.status !== 'Active') return null;
    let principal: RequestPrincipal;
    if (key.userName === undefined) {
      principal = rootPrincipal(key.accountId);
    } else {
      const user = await this.identities.getUser(key.accountId, key.userName);
      if (!user) return null;
      principal = userPrincipal(user);
    }
    try {
      return { secretAccessKey: this.serverKey.decrypt(key.sealedSecret), caller: { principal, accessKeyId } };
    } catch {
      // Sealed with another server key, or damaged: the key cannot be used.
      return null;
    }
  }

  /** Temporary credentials: usable while the session and its role exist (its expiry is checked by whoever uses them). */
  private async loadRoleSession(accessKeyId: string): Promise<KeyCredentials | null> {
    const session = await this.identities.getRoleSession(accessKeyId);
    if (!session) return null;
    const role = await this.identities.getRole(session.accountId, session.roleName);
    if (!role) return null;
    try {
      return {
        secretAccessKey: this.serverKey.decrypt(session.sealedSecret),
        sessionToken: this.serverKey.decrypt(session.sealedToken),
        expiration: new Date(session.expiresAt),
        caller: { principal: roleSessionPrincipal(role, session.sessionName), accessKeyId, expiresAt: session.expiresAt },
      };
    } catch {
      return null;
    }
  }

  /** Whether a key (e.g. the one that minted a registry token) still exists, is active and, for temporary credentials, unexpired. */
  async keyIsActive(accessKeyId: string): Promise<boolean> {
    const credentials = await this.credentialsFor(accessKeyId);
    return credentials !== undefined && (credentials.expiration === undefined || credentials.expiration.getTime() > Date.now());
  }

  /**
   * Notes that a long-term access key was used, for GetAccessKeyLastUsed: at
   * most once a minute per key in this process, written in the background
   * so no request waits for it.
   */
  recordKeyUse(accessKeyId: string, service: string, region: string = this.root.region): void {
    if (accessKeyId === this.root.accessKeyId || accessKeyId.startsWith('ASIA')) return;
    const now = Date.now();
    const last = this.keyUseRecordedAt.get(accessKeyId);
    if (last !== undefined && now - last < KEY_USE_RECORD_MS) return;
    if (this.keyUseRecordedAt.size >= MAX_RECORDED_KEYS) this.keyUseRecordedAt.clear();
    this.keyUseRecordedAt.set(accessKeyId, now);
    this.identities.touchAccessKey(accessKeyId, now, { service, region }).catch(this.onBackgroundError);
  }

  /** The root of the resource's own account: allowed everything there that no resource policy explicitly denies. */
  isAccountRoot(caller: Caller, resourceAccountId: string): boolean {
    return caller.principal.type === 'Account' && caller.principal.accountId === resourceAccountId;
  }

  /**
   * Decides one action on one resource with AWS's logic: the caller's
   * identity policies and the resource's policies (repository and registry
   * policy), explicit deny first; within the resource's account an allow
   * from either side suffices, across accounts both must allow. An account
   * root holds every permission of its own account (an implicit identity
   * allow), which only an explicit deny in a resource policy takes away.
   */
  async authorize(
    caller: Caller,
    action: string,
    resource: string,
    resourceAccountId: string,
    context: RequestContext = {},
    resourcePolicies: readonly Policy[] = [],
  ): Promise<EvaluationResult> {
    const { principal } = caller;
    return evaluate({ principal, action, resource, resourceAccountId, context }, { identity: await this.identityOf(principal), resource: resourcePolicies });
  }

  /**
   * Decides `sts:AssumeRole` on a role: its trust policy must allow the
   * caller, by name, or by naming the caller's account, which delegates to
   * the caller's identity policies (AWS: "Role trust policies … must
   * explicitly allow access for principals", within the account too); from
   * another account the identity policies must allow as well.
   */
  async authorizeAssumeRole(caller: Caller, role: { arn: string; accountId: string }, context: RequestContext, trustPolicy: Policy): Promise<EvaluationResult> {
    const { principal } = caller;
    return evaluate(
      { principal, action: 'sts:AssumeRole', resource: role.arn, resourceAccountId: role.accountId, context },
      { identity: await this.identityOf(principal), resource: [trustPolicy], resourceMustAllow: true },
    );
  }

  private async identityOf(principal: RequestPrincipal): Promise<readonly Policy[]> {
    if (principal.type === 'Account') return ROOT_IDENTITY;
    const holder = policyHolderOf(principal);
    return holder ? this.identityPolicies(principal.accountId, holder) : [];
  }

  /** A user's policies (its own and its groups') or a role's, parsed once per generation. */
  private async identityPolicies(accountId: string, holder: PolicyHolder): Promise<Policy[]> {
    await this.fresh();
    const key = `${accountId}/${holder.type}/${holder.name}`;
    const cache = this.policies;
    let policies = cache.get(key);
    if (!policies) {
      policies = this.loadIdentityPolicies(accountId, holder);
      cache.set(key, policies);
      policies.catch(() => cache.delete(key));
    }
    return policies;
  }

  private async loadIdentityPolicies(accountId: string, holder: PolicyHolder): Promise<Policy[]> {
    const { documents, awsManagedArns } = await this.identities.effectivePolicies(accountId, holder);
    const policies: Policy[] = [];
    for (const { label, document } of documents) {
      // Stored documents were validated when put; one that no longer parses grants nothing (fails closed).
      const parsed = tryParsePolicy(document, { kind: 'identity', name: label });
      if (parsed.ok) policies.push(parsed.policy);
    }
    for (const arn of awsManagedArns) {
      const managed = getManagedPolicy(arn);
      if (managed) policies.push(managed.policy);
    }
    return policies;
  }
}
