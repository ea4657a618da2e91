import type { RootAccount } from '../accounts/root-account.js';
import type { ServerKey } from '../accounts/server-key.js';
import type { IdentityStore } from './identity-store.js';
import { evaluate, getManagedPolicy, parsePolicy, tryParsePolicy, type EvaluationResult, type Policy, type RequestContext, type RequestPrincipal } from './policy/index.js';

/** An authenticated caller: who it is, and the key it used (none for the administrator login). */
export interface Caller {
  principal: RequestPrincipal;
  accessKeyId: string | undefined;
}

export interface KeyCredentials {
  secretAccessKey: string;
  caller: Caller;
}

/** How long a process trusts its caches before asking whether any key or policy changed. */
const GENERATION_CHECK_MS = 1000;
const MAX_CACHED_KEYS = 10_000;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/** What an account root may do in its own account: everything (AWS grants it implicitly, no policy needed). */
const ROOT_IDENTITY: readonly Policy[] = [parsePolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', { kind: 'identity', name: 'account-root' })];

export function rootPrincipal(accountId: string): RequestPrincipal {
  return { arn: `arn:aws:iam::${accountId}:root`, accountId, type: 'Account', userId: accountId };
}

export function userPrincipal(user: { accountId: string; arn: string; userId: string; name: string }): RequestPrincipal {
  return { arn: user.arn, accountId: user.accountId, type: 'User', userId: user.userId, username: user.name };
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

  constructor(
    private readonly identities: IdentityStore,
    private readonly serverKey: ServerKey,
    private readonly root: RootAccount,
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

  /** Whether a key (e.g. the one that minted a registry token) still exists and is active. */
  async keyIsActive(accessKeyId: string): Promise<boolean> {
    return (await this.credentialsFor(accessKeyId)) !== undefined;
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
    const identity =
      principal.type === 'Account' ? ROOT_IDENTITY : principal.type === 'User' && principal.username ? await this.userPolicies(principal.accountId, principal.username) : [];
    return evaluate({ principal, action, resource, resourceAccountId, context }, { identity, resource: resourcePolicies });
  }

  private async userPolicies(accountId: string, userName: string): Promise<Policy[]> {
    await this.fresh();
    const key = `${accountId}/${userName}`;
    const cache = this.policies;
    let policies = cache.get(key);
    if (!policies) {
      policies = this.loadUserPolicies(accountId, userName);
      cache.set(key, policies);
      policies.catch(() => cache.delete(key));
    }
    return policies;
  }

  private async loadUserPolicies(accountId: string, userName: string): Promise<Policy[]> {
    const [inline, attached] = await Promise.all([this.identities.listUserPolicies(accountId, userName), this.identities.listAttachedUserPolicies(accountId, userName)]);
    const policies: Policy[] = [];
    for (const p of inline) {
      // Stored documents were validated when put; one that no longer parses grants nothing (fails closed).
      const parsed = tryParsePolicy(p.document, { kind: 'identity', name: `${userName}/${p.name}` });
      if (parsed.ok) policies.push(parsed.policy);
    }
    for (const arn of attached) {
      const managed = getManagedPolicy(arn);
      if (managed) policies.push(managed.policy);
    }
    return policies;
  }
}
