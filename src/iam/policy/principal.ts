/**
 * The `Principal` / `NotPrincipal` element ("AWS JSON policy elements: Principal" / "NotPrincipal").
 *
 * - `"*"` and `{"AWS": "*"}` match everyone, anonymous callers included.
 * - A 12-digit account id is shorthand for `arn:aws:iam::<id>:root`; both name the *account* and
 *   match every principal of it. Such a grant delegates to the account: its identity policies must
 *   also allow (ecr.md §5.4 step 4; "when you specify the account … you delegate").
 * - A role ARN matches sessions of that role (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`);
 *   role paths are not part of the session ARN, so the match is by account + role name.
 * - Wildcards are not allowed except a lone `*` ("You cannot use a wildcard to match part of a
 *   principal name or ARN"); IAM rejects them as "Invalid principal in policy".
 * - NotPrincipal: "AWS might validate the account first, then the role, and then the assumed-role
 *   user", so the statement applies unless *every* link of the caller's chain (session → role →
 *   account, or user → account) is listed.
 */

import { PolicyError } from './errors.js';

export type PrincipalType = 'Account' | 'User' | 'AssumedRole' | 'FederatedUser' | 'AWSService' | 'Anonymous';

/** The authenticated caller. */
export interface RequestPrincipal {
  /** Principal ARN: user ARN, `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, `arn:aws:iam::<acct>:root`,
   * federated-user ARN, the service principal name (e.g. `codebuild.amazonaws.com`) for AWSService,
   * or `anonymous`. */
  readonly arn: string;
  /** 12-digit account id; empty for AWSService / Anonymous. */
  readonly accountId: string;
  readonly type: PrincipalType;
  /** Value of `aws:userid` (e.g. `AIDA…`, `AROA…:session`, the account id for root, `anonymous`). */
  readonly userId: string;
  /** Friendly IAM user name (`aws:username`); only meaningful for `User`. */
  readonly username?: string;
  /** For AssumedRole: the role ARN including its path, if known (default: derived without path). */
  readonly roleArn?: string;
}

export interface PrincipalSpec {
  readonly any: boolean;
  readonly accounts: ReadonlySet<string>;
  /** Exact principal ARNs (users, sessions, federated users), normalised to the `aws` partition. */
  readonly arns: ReadonlySet<string>;
  /** `<account>:<roleName>` for role ARNs. */
  readonly roles: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
  readonly federated: ReadonlySet<string>;
  readonly canonical: ReadonlySet<string>;
  readonly uniqueIds: ReadonlySet<string>;
}

const ACCOUNT_ID = /^\d{12}$/;
const PRINCIPAL_ARN = /^arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)$/;
const UNIQUE_ID = /^A(?:IDA|ROA|IPA|GPA|NPA|NVA|SIA|CCA)[A-Z0-9]{8,}$/;

function invalid(kind: string, value: unknown): PolicyError {
  return new PolicyError(`Invalid principal in policy: "${kind}":${JSON.stringify(value)}`);
}

function stringList(kind: string, value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw invalid(kind, value);
  return list.map((v) => {
    if (typeof v !== 'string' || v === '') throw invalid(kind, v);
    return v;
  });
}

/** Validate and compile a Principal / NotPrincipal value. */
export function compilePrincipal(value: unknown): PrincipalSpec {
  const accounts = new Set<string>();
  const arns = new Set<string>();
  const roles = new Set<string>();
  const services = new Set<string>();
  const federated = new Set<string>();
  const canonical = new Set<string>();
  const uniqueIds = new Set<string>();
  let any = false;

  if (value === '*') {
    any = true;
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) throw new PolicyError('Invalid principal in policy: empty Principal element');
    for (const [kind, raw] of entries) {
      const list = stringList(kind, raw);
      switch (kind) {
        case 'AWS':
          for (const v of list) {
            if (v === '*') {
              any = true;
              continue;
            }
            if (ACCOUNT_ID.test(v)) {
              accounts.add(v);
              continue;
            }
            if (UNIQUE_ID.test(v)) {
              uniqueIds.add(v);
              continue;
            }
            const m = PRINCIPAL_ARN.exec(v);
            if (!m || v.includes('*') || v.includes('?')) throw invalid(kind, v);
            const [, , service, account = '', rest = ''] = m;
            if (service === 'iam' && rest === 'root') accounts.add(account);
            else if (service === 'iam' && /^user\/(?:[^/]+\/)*[^/]+$/.test(rest)) arns.add(`${account}:iam:${rest}`);
            else if (service === 'iam' && /^role\/(?:[^/]+\/)*[^/]+$/.test(rest)) roles.add(`${account}:${rest.slice(rest.lastIndexOf('/') + 1)}`);
            else if (service === 'sts' && /^assumed-role\/[^/]+\/[^/]+$/.test(rest)) arns.add(`${account}:sts:${rest}`);
            else if (service === 'sts' && /^federated-user\/[^/]+$/.test(rest)) arns.add(`${account}:sts:${rest}`);
            else throw invalid(kind, v);
          }
          break;
        case 'Service':
          for (const v of list) {
            if (/[*?\s]/.test(v)) throw invalid(kind, v);
            services.add(v.toLowerCase());
          }
          break;
        case 'Federated':
          for (const v of list) {
            if (/[*?\s]/.test(v)) throw invalid(kind, v);
            federated.add(v);
          }
          break;
        case 'CanonicalUser':
          for (const v of list) {
            if (v === '*' || /[*?\s]/.test(v)) throw invalid(kind, v);
            canonical.add(v);
          }
          break;
        default:
          throw invalid(kind, raw);
      }
    }
  } else {
    throw new PolicyError(`Invalid principal in policy: ${JSON.stringify(value)}`);
  }
  return { any, accounts, arns, roles, services, federated, canonical, uniqueIds };
}

/** Per-request facts about the caller, derived once per evaluation. */
export interface PrincipalFacts {
  readonly type: PrincipalType;
  readonly accountId: string;
  /** Normalised exact key (`<acct>:iam:user/…`, `<acct>:sts:assumed-role/…`), if any. */
  readonly exactKey: string | undefined;
  /** `<acct>:<roleName>` for role sessions. */
  readonly roleKey: string | undefined;
  /** Role ARN for sessions (`aws:PrincipalArn`). */
  readonly roleArn: string | undefined;
  readonly uniqueId: string | undefined;
  readonly service: string | undefined;
  readonly arn: string;
}

const factsCache = new WeakMap<RequestPrincipal, PrincipalFacts>();

/** Facts for a principal; cached per principal object (callers reuse it across a request's checks). */
export function principalFacts(p: RequestPrincipal): PrincipalFacts {
  let f = factsCache.get(p);
  if (!f) {
    f = computeFacts(p);
    factsCache.set(p, f);
  }
  return f;
}

function computeFacts(p: RequestPrincipal): PrincipalFacts {
  const m = PRINCIPAL_ARN.exec(p.arn);
  let exactKey: string | undefined;
  let roleKey: string | undefined;
  let roleArn: string | undefined;
  if (m) {
    const [, partition = 'aws', service, account = '', rest = ''] = m;
    if (rest !== 'root') exactKey = `${account}:${service}:${rest}`;
    const session = service === 'sts' ? /^assumed-role\/([^/]+)\/[^/]+$/.exec(rest) : null;
    if (session?.[1]) {
      roleKey = `${account}:${session[1]}`;
      roleArn = p.roleArn ?? `arn:${partition}:iam::${account}:role/${session[1]}`;
    }
  }
  const colon = p.userId.indexOf(':');
  return {
    type: p.type,
    accountId: p.accountId,
    exactKey,
    roleKey,
    roleArn,
    uniqueId: colon < 0 ? p.userId : p.userId.slice(0, colon),
    service: p.type === 'AWSService' ? p.arn.toLowerCase() : undefined,
    arn: p.arn,
  };
}

/**
 * How a Principal element matches the caller: 'direct' (named specifically, or `*`), 'account'
 * (only through the caller's account — a delegation), or false.
 */
export function matchPrincipal(spec: PrincipalSpec, f: PrincipalFacts): 'direct' | 'account' | false {
  if (spec.any) return 'direct';
  switch (f.type) {
    case 'Anonymous':
      return false;
    case 'AWSService':
      return f.service !== undefined && spec.services.has(f.service) ? 'direct' : false;
    default:
      break;
  }
  if (f.exactKey !== undefined && spec.arns.has(f.exactKey)) return 'direct';
  if (f.roleKey !== undefined && spec.roles.has(f.roleKey)) return 'direct';
  if (f.type === 'FederatedUser' && spec.federated.has(f.arn)) return 'direct';
  if (f.uniqueId !== undefined && f.type !== 'Account' && spec.uniqueIds.has(f.uniqueId)) return 'direct';
  if (f.accountId !== '' && spec.accounts.has(f.accountId)) return 'account';
  return false;
}

/** Whether a NotPrincipal statement applies to the caller (some link of its chain is not excluded). */
export function notPrincipalApplies(spec: PrincipalSpec, f: PrincipalFacts): boolean {
  if (spec.any) return false;
  switch (f.type) {
    case 'Anonymous':
      return true;
    case 'AWSService':
      return !(f.service !== undefined && spec.services.has(f.service));
    default:
      break;
  }
  // The principal itself (user, session, federated user); root is only its account.
  if (f.type !== 'Account') {
    const self =
      (f.exactKey !== undefined && spec.arns.has(f.exactKey)) ||
      // a role ARN names all of its sessions (the session link), but the role link below still needs it
      (f.roleKey !== undefined && spec.roles.has(f.roleKey)) ||
      (f.uniqueId !== undefined && spec.uniqueIds.has(f.uniqueId)) ||
      (f.type === 'FederatedUser' && spec.federated.has(f.arn));
    if (!self) return true;
  }
  if (f.roleKey !== undefined && !spec.roles.has(f.roleKey)) return true;
  return !spec.accounts.has(f.accountId);
}
