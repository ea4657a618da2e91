/**
 * Policy evaluation ("Policy evaluation logic", "Cross-account policy evaluation logic",
 * ecr.md §5.4). SCPs/RCPs, permissions boundaries and session policies are out of scope.
 *
 * 1. Every applicable Deny in any identity or resource policy → ExplicitDeny ("An explicit deny in
 *    any policy overrides any allows").
 * 2. Same account: allow if an identity policy allows, or a resource policy allows the caller by
 *    name (user/role/session ARN, `*`, service) — "If an action is allowed by an identity-based
 *    policy, a resource-based policy, or both, then AWS allows the action". A resource policy that
 *    only names the caller's account delegates to the account, so the identity policy must allow.
 *    The account root user is allowed in its own account ("all requests are implicitly denied with
 *    the exception of the AWS account root user, which has full access").
 * 3. Cross account: the caller's identity policy AND the resource policy must both allow.
 *    Role trust policies (`PolicySet.resourceMustAllow`) must allow within the account too.
 * 4. Anonymous callers and AWS service principals have no identity policies; a resource policy
 *    allow is required and sufficient.
 * 5. Otherwise ImplicitDeny.
 */

import type { ConditionContext } from './conditions.js';
import type { Policy, PolicyStatement } from './parse.js';
import { matchPrincipal, notPrincipalApplies, principalFacts, type PrincipalFacts, type RequestPrincipal } from './principal.js';

/** Request context values: a string, a list (multi-valued keys such as `aws:TagKeys`), or absent. */
export type RequestContext = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface AuthorizationRequest {
  readonly principal: RequestPrincipal;
  /** `service:Action`, e.g. `ecr:BatchGetImage`. */
  readonly action: string;
  /** Resource ARN, or `*` for actions without resource-level permissions (e.g. GetAuthorizationToken). */
  readonly resource: string;
  /** The account that owns the resource (the registry id). */
  readonly resourceAccountId: string;
  /**
   * Request context keys (case-insensitive names): `aws:SourceIp`, `aws:SecureTransport`,
   * `aws:ResourceTag/<k>`, `ecr:ResourceTag/<k>`, `aws:RequestTag/<k>`, `aws:TagKeys`, … The
   * principal keys (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`,
   * `aws:username`, `aws:PrincipalIsAWSService`, `aws:PrincipalServiceName`) and the time keys
   * (`aws:CurrentTime`, `aws:EpochTime`) are derived from `principal` / `time` unless given here.
   */
  readonly context?: RequestContext;
  /** Request time for `aws:CurrentTime` / `aws:EpochTime` (default: now). */
  readonly time?: Date | number;
}

export interface PolicySet {
  /** Identity-based policies of the caller (user + group policies, or role policies). */
  readonly identity: readonly Policy[];
  /** Resource-based policies of the target (repository policy, registry policy). */
  readonly resource?: readonly Policy[];
  /**
   * The resource policy must allow even within the account: a role's trust
   * policy ("Role trust policies and KMS key policies are exceptions to this
   * logic, because they must explicitly allow access for principals"). Naming
   * the caller suffices; naming its account delegates, so the identity
   * policies must then allow too.
   */
  readonly resourceMustAllow?: boolean;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export type DecisionReason =
  /** Allowed by an identity-based policy (same account). */
  | 'IdentityPolicyAllow'
  /** Allowed by a resource-based policy naming the caller (same account, anonymous, service). */
  | 'ResourcePolicyAllow'
  /** Cross-account: allowed by both the identity and the resource policy. */
  | 'IdentityAndResourcePolicyAllow'
  /** The account root user acting in its own account. */
  | 'AccountRootUser'
  | 'IdentityPolicyDeny'
  | 'ResourcePolicyDeny'
  | 'NoIdentityPolicyAllow'
  | 'NoResourcePolicyAllow';

export interface MatchedStatement {
  readonly policyType: 'identity' | 'resource';
  /** Index into `PolicySet.identity` / `PolicySet.resource`. */
  readonly policyIndex: number;
  readonly statementIndex: number;
  readonly sid: string | undefined;
  readonly policyName: string | undefined;
  readonly effect: 'Allow' | 'Deny';
}

export interface EvaluationResult {
  readonly decision: Decision;
  readonly reason: DecisionReason;
  /** The deciding statement: the Deny, or the (first) Allow. */
  readonly matchedStatement?: MatchedStatement;
  /** For a cross-account Allow: the identity and the resource statement. */
  readonly matchedStatements?: readonly MatchedStatement[];
  readonly crossAccount: boolean;
}

const EMPTY: readonly Policy[] = [];

const hasOwn = Object.prototype.hasOwnProperty;

/** Per-evaluation state: lazily built lower-case context and derived keys. */
class Scope implements ConditionContext {
  readonly facts: PrincipalFacts;
  readonly actionLower: string;
  private lowerContext: Map<string, readonly string[] | undefined> | undefined;
  private derived: Map<string, readonly string[] | undefined> | undefined;

  constructor(readonly request: AuthorizationRequest) {
    this.facts = principalFacts(request.principal);
    this.actionLower = request.action.toLowerCase();
  }

  lookup(keyLower: string, key?: string): readonly string[] | undefined {
    const ctx = this.request.context;
    if (ctx) {
      // Fast path: the policy spells the key as the caller did.
      if (key !== undefined && hasOwn.call(ctx, key)) return normalise(ctx[key]);
      if (!this.lowerContext) {
        this.lowerContext = new Map();
        for (const k of Object.keys(ctx)) this.lowerContext.set(k.toLowerCase(), normalise(ctx[k]));
      }
      if (this.lowerContext.has(keyLower)) return this.lowerContext.get(keyLower);
    }
    this.derived ??= new Map();
    if (this.derived.has(keyLower)) return this.derived.get(keyLower);
    const v = this.derive(keyLower);
    this.derived.set(keyLower, v);
    return v;
  }

  resolve(keyLower: string, key?: string): string | undefined {
    const v = this.lookup(keyLower, key);
    return v !== undefined && v.length === 1 ? v[0] : undefined;
  }

  private derive(keyLower: string): readonly string[] | undefined {
    const p = this.request.principal;
    const f = this.facts;
    const isIdentity = p.type !== 'Anonymous' && p.type !== 'AWSService';
    switch (keyLower) {
      case 'aws:principalarn':
        if (!isIdentity) return undefined;
        if (p.type === 'AssumedRole') return f.roleArn ? [f.roleArn] : [p.arn];
        return [p.arn];
      case 'aws:principalaccount':
        return isIdentity && p.accountId ? [p.accountId] : undefined;
      case 'aws:principaltype':
        return p.type === 'AWSService' ? undefined : [p.type];
      case 'aws:userid':
        return p.userId ? [p.userId] : undefined;
      case 'aws:username':
        return p.type === 'User' && p.username ? [p.username] : undefined;
      case 'aws:principalisawsservice':
        return [p.type === 'AWSService' ? 'true' : 'false'];
      case 'aws:principalservicename':
        return p.type === 'AWSService' ? [p.arn] : undefined;
      case 'aws:currenttime':
        return [new Date(this.timeMs()).toISOString().replace(/\.\d{3}Z$/, 'Z')];
      case 'aws:epochtime':
        return [String(Math.floor(this.timeMs() / 1000))];
      default:
        return undefined;
    }
  }

  private timeMs(): number {
    const t = this.request.time;
    return t === undefined ? Date.now() : typeof t === 'number' ? t : t.getTime();
  }
}

function normalise(v: string | readonly string[] | undefined): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  return v.length === 0 ? undefined : v;
}

/** Action, resource and condition match (principal handled by the caller). */
function statementMatches(s: PolicyStatement, scope: Scope): boolean {
  const req = scope.request;
  const a = s.actions.test(req.action, scope.actionLower, scope);
  if ((a === true) === s.notAction) return false;
  if (s.resources) {
    const r = s.resources.test(req.resource, req.resource, scope);
    if (r === 'invalid') return false;
    if (r === s.notResource) return false;
  }
  for (const c of s.conditions) if (!c.evaluate(scope)) return false;
  return true;
}

/** For resource-policy statements: 'direct' | 'account' | false. */
function principalMatch(s: PolicyStatement, facts: PrincipalFacts): 'direct' | 'account' | false {
  if (!s.principal) return 'direct';
  if (s.notPrincipal) return notPrincipalApplies(s.principal, facts) ? 'direct' : false;
  return matchPrincipal(s.principal, facts);
}

function matched(policyType: 'identity' | 'resource', policyIndex: number, policy: Policy, s: PolicyStatement): MatchedStatement {
  return { policyType, policyIndex, statementIndex: s.index, sid: s.sid, policyName: policy.name, effect: s.effect };
}

/** Evaluate one request against the caller's identity policies and the target's resource policies. */
export function evaluate(request: AuthorizationRequest, policies: PolicySet): EvaluationResult {
  const scope = new Scope(request);
  const facts = scope.facts;
  const type = request.principal.type;
  const hasIdentity = type !== 'Anonymous' && type !== 'AWSService';
  const identity = hasIdentity ? policies.identity : EMPTY;
  const resource = policies.resource ?? EMPTY;
  const crossAccount = hasIdentity && request.principal.accountId !== request.resourceAccountId;

  // 1. Explicit deny anywhere wins.
  for (let i = 0; i < identity.length; i++) {
    const p = identity[i] as Policy;
    for (const s of p.denies) {
      if (statementMatches(s, scope)) {
        return { decision: 'ExplicitDeny', reason: 'IdentityPolicyDeny', matchedStatement: matched('identity', i, p, s), crossAccount };
      }
    }
  }
  for (let i = 0; i < resource.length; i++) {
    const p = resource[i] as Policy;
    for (const s of p.denies) {
      if (principalMatch(s, facts) !== false && statementMatches(s, scope)) {
        return { decision: 'ExplicitDeny', reason: 'ResourcePolicyDeny', matchedStatement: matched('resource', i, p, s), crossAccount };
      }
    }
  }

  // 2. Allows.
  let identityAllow: MatchedStatement | undefined;
  outer: for (let i = 0; i < identity.length; i++) {
    const p = identity[i] as Policy;
    for (const s of p.allows) {
      if (statementMatches(s, scope)) {
        identityAllow = matched('identity', i, p, s);
        break outer;
      }
    }
  }
  const rootUser = type === 'Account';

  const resourceMustAllow = policies.resourceMustAllow === true;
  if (hasIdentity && !crossAccount && !resourceMustAllow) {
    if (rootUser) return { decision: 'Allow', reason: 'AccountRootUser', crossAccount };
    if (identityAllow) return { decision: 'Allow', reason: 'IdentityPolicyAllow', matchedStatement: identityAllow, crossAccount };
  }
  if (crossAccount && !identityAllow && !rootUser) {
    return { decision: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow', crossAccount };
  }

  // Resource policies: a direct grant suffices where identity is not required; an account-level
  // grant only satisfies the resource side of a cross-account request.
  let direct: MatchedStatement | undefined;
  let viaAccount: MatchedStatement | undefined;
  for (let i = 0; i < resource.length && !direct; i++) {
    const p = resource[i] as Policy;
    for (const s of p.allows) {
      const pm = principalMatch(s, facts);
      if (pm === false || (pm === 'account' && viaAccount)) continue;
      if (!statementMatches(s, scope)) continue;
      if (pm === 'direct') {
        direct = matched('resource', i, p, s);
        break;
      }
      viaAccount = matched('resource', i, p, s);
    }
  }

  if (resourceMustAllow && hasIdentity && !crossAccount) {
    if (direct) return { decision: 'Allow', reason: 'ResourcePolicyAllow', matchedStatement: direct, crossAccount };
    if (!viaAccount) return { decision: 'ImplicitDeny', reason: 'NoResourcePolicyAllow', crossAccount };
    if (rootUser) return { decision: 'Allow', reason: 'AccountRootUser', crossAccount };
    if (!identityAllow) return { decision: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow', crossAccount };
    return { decision: 'Allow', reason: 'IdentityAndResourcePolicyAllow', matchedStatement: viaAccount, matchedStatements: [identityAllow, viaAccount], crossAccount };
  }
  if (crossAccount) {
    const res = direct ?? viaAccount;
    if (!res) return { decision: 'ImplicitDeny', reason: 'NoResourcePolicyAllow', crossAccount };
    const both = identityAllow ? [identityAllow, res] : [res];
    return { decision: 'Allow', reason: 'IdentityAndResourcePolicyAllow', matchedStatement: res, matchedStatements: both, crossAccount };
  }
  if (direct) return { decision: 'Allow', reason: 'ResourcePolicyAllow', matchedStatement: direct, crossAccount };
  return {
    decision: 'ImplicitDeny',
    reason: hasIdentity ? 'NoIdentityPolicyAllow' : 'NoResourcePolicyAllow',
    crossAccount,
  };
}

/** Convenience: true when {@link evaluate} allows. */
export function isAllowed(request: AuthorizationRequest, policies: PolicySet): boolean {
  return evaluate(request, policies).decision === 'Allow';
}
