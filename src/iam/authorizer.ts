import type { RootAccount } from '../accounts/root-account.js';
import type { ServerKey } from '../accounts/server-key.js';
import type { IdentityStore } from './identity-store.js';
import { evaluate, getManagedPolicy, parsePolicy, type EvaluationResult, type Policy, type RequestContext, type RequestPrincipal } from './policy/index.js';

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
    await this.fresh();
    const cached = this.keys.get(accessKeyId);
    if (cached !== undefined) return cached ?? undefined;
    const key = await this.identities.getAccessKey(accessKeyId);
    let credentials: KeyCredentials | null = null;
    if (key && key.status === 'Active') {
      if (key.userName === undefined) {
        credentials = { secretAccessKey: this.serverKey.decrypt(key.sealedSecret), caller: { principal: rootPrincipal(key.accountId), accessKeyId } };
      } else {
        const user = await this.identities.getUser(key.accountId, key.userName);
        if (user) credentials = { secretAccessKey: this.serverKey.decrypt(key.sealedSecret), caller: { principal: userPrincipal(user), accessKeyId } };
      }
    }
    this.keys.set(accessKeyId, credentials);
    return credentials ?? undefined;
  }

  /** Whether a key (e.g. the one that minted a registry token) still exists and is active. */
  async keyIsActive(accessKeyId: string): Promise<boolean> {
    return (await this.credentialsFor(accessKeyId)) !== undefined;
  }

  /** The root of the resource's own account: allowed everything there (no resource policies exist yet that could deny it). */
  isAccountRoot(caller: Caller, resourceAccountId: string): boolean {
    return caller.principal.type === 'Account' && caller.principal.accountId === resourceAccountId;
  }

  /**
   * Decides one action on one resource. The account root is allowed without
   * evaluation (see isAccountRoot); everyone else is evaluated against their
   * identity policies, default deny.
   */
  async authorize(caller: Caller, action: string, resource: string, resourceAccountId: string, context: RequestContext = {}): Promise<EvaluationResult> {
    const { principal } = caller;
    if (this.isAccountRoot(caller, resourceAccountId)) {
      return { decision: 'Allow', reason: 'AccountRootUser', crossAccount: false };
    }
    const identity = principal.type === 'User' && principal.username ? await this.userPolicies(principal.accountId, principal.username) : [];
    return evaluate({ principal, action, resource, resourceAccountId, context }, { identity });
  }

  private async userPolicies(accountId: string, userName: string): Promise<Policy[]> {
    await this.fresh();
    const key = `${accountId}/${userName}`;
    let policies = this.policies.get(key);
    if (!policies) {
      policies = this.loadUserPolicies(accountId, userName);
      this.policies.set(key, policies);
      policies.catch(() => this.policies.delete(key));
    }
    return policies;
  }

  private async loadUserPolicies(accountId: string, userName: string): Promise<Policy[]> {
    const [inline, attached] = await Promise.all([this.identities.listUserPolicies(accountId, userName), this.identities.listAttachedUserPolicies(accountId, userName)]);
    const policies = inline.map((p) => parsePolicy(p.document, { kind: 'identity', name: `${userName}/${p.name}` }));
    for (const arn of attached) {
      const managed = getManagedPolicy(arn);
      if (managed) policies.push(managed.policy);
    }
    return policies;
  }
}
