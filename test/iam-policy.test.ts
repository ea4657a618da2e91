/**
 * Table-driven tests for the IAM policy engine (src/iam/policy). Every case names the AWS rule it
 * checks in `rule` (a short quote or the IAM User Guide page it comes from).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AWS_MANAGED_ECR_POLICIES,
  AmazonEC2ContainerRegistryFullAccess,
  AmazonEC2ContainerRegistryPowerUser,
  AmazonEC2ContainerRegistryPullOnly,
  AmazonEC2ContainerRegistryReadOnly,
  ECR_ACTIONS,
  ECR_API_ACTIONS,
  PolicyError,
  accessDeniedMessage,
  evaluate,
  getManagedPolicy,
  parsePolicy,
  principalFromArn,
  tryParsePolicy,
  validatePolicy,
  type Decision,
  type DecisionReason,
  type ParseOptions,
  type Policy,
  type RequestContext,
  type RequestPrincipal,
} from '../src/iam/policy/index.js';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const A = '111122223333';
const B = '444455556666';
const REPO = `arn:aws:ecr:us-east-1:${A}:repository/app`;
const PROD_REPO = `arn:aws:ecr:us-east-1:${A}:repository/prod-api`;
const T = '2024-06-01T12:00:00Z';

const alice = principalFromArn(`arn:aws:iam::${A}:user/alice`, { userId: 'AIDAALICE0000000000' });
const bob = principalFromArn(`arn:aws:iam::${A}:user/bob`, { userId: 'AIDABOB00000000000' });
const devAlice = principalFromArn(`arn:aws:iam::${A}:user/dev/alice2`);
const ciSession = principalFromArn(`arn:aws:sts::${A}:assumed-role/ci/build-1`, { userId: 'AROACI000000000000:build-1' });
const ciSession2 = principalFromArn(`arn:aws:sts::${A}:assumed-role/ci/build-2`);
const deploySession = principalFromArn(`arn:aws:sts::${A}:assumed-role/deploy/run`, { roleArn: `arn:aws:iam::${A}:role/team/deploy` });
const fedUser = principalFromArn(`arn:aws:sts::${A}:federated-user/fred`);
const rootA = principalFromArn(`arn:aws:iam::${A}:root`);
const carol = principalFromArn(`arn:aws:iam::${B}:user/carol`);
const ciB = principalFromArn(`arn:aws:sts::${B}:assumed-role/ci/build-1`);
const rootB = principalFromArn(`arn:aws:iam::${B}:root`);
const anonymous: RequestPrincipal = { arn: 'anonymous', accountId: '', type: 'Anonymous', userId: 'anonymous' };
const codebuild: RequestPrincipal = { arn: 'codebuild.amazonaws.com', accountId: '', type: 'AWSService', userId: 'codebuild.amazonaws.com' };

type Doc = Record<string, unknown>;
const V12 = '2012-10-17';

/** Identity policy: Allow ecr:* on * plus overrides. */
const allowDoc = (extra: Doc = {}, version = V12): Doc => ({ Version: version, Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*', ...extra }] });
const denyDoc = (extra: Doc = {}): Doc => ({ Version: V12, Statement: [{ Effect: 'Deny', Action: 'ecr:*', Resource: '*', ...extra }] });
const resDoc = (...Statement: Doc[]): Doc => ({ Version: V12, Statement });

// Rules quoted repeatedly.
const R = {
  missing:
    'Condition operators: "If the key that you specify in a policy condition is not present in the request context, the values do not match and the condition is false"',
  negMissing:
    'Condition operators: "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition is true"',
  or: 'Conditions with multiple keys or values: "If a single condition operator includes multiple values for a context key, those values are evaluated using a logical OR"',
  nor: 'Conditions with multiple keys or values: "If a single negated matching condition operator includes multiple values for a context key, those values are evaluated using a logical NOR"',
  andOps: 'Conditions with multiple keys or values: "If your policy statement has multiple condition operators, the condition operators are evaluated using a logical AND"',
  andKeys:
    'Conditions with multiple keys or values: "If your policy statement has multiple context keys attached to a single condition operator, the context keys are evaluated using a logical AND"',
  string: 'Condition operators, String: "StringEquals — Exact matching, case sensitive"',
  like: 'Condition operators, String: "StringLike — Case-sensitive matching. The values can include multi-character match wildcards (*) and single-character match wildcards (?)"',
  numeric: 'Condition operators, Numeric: "restrict access based on comparing a key to an integer or decimal value"',
  date: 'Condition operators, Date: "You must specify date/time values with one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time"',
  bool: 'Condition operators, Boolean: "restrict access based on comparing a key to \\"true\\" or \\"false\\""',
  ip: 'Condition operators, IP address: "The value must be in the standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64)"',
  arn: 'Condition operators, ARN: "Each of the six colon-delimited components of the ARN is checked separately and each can include multi-character match wildcards (*) or single-character match wildcards (?)"',
  ifExists: 'Condition operators, ...IfExists: "If the policy key is present in the context of the request, process the key as specified in the policy. If the key is not present, evaluate the condition element as true."',
  nullOp: 'Condition operators, Null: "use either true (the key doesn\'t exist — it is null) or false (the key exists and its value is not null)"',
  forAll:
    'Set operators: "ForAllValues … returns true if every context key value in the request matches at least one context key value in the policy. It also returns true if there are no context keys in the request"',
  forAny: 'Set operators: "ForAnyValue … returns true if at least one of the context key values in the request matches … If there are no context keys in the request, the condition returns false"',
  vars: 'IAM policy elements: Variables and tags: "When the policy is evaluated, the policy variables are replaced with values that come from the context of the request itself"',
  action: 'IAM JSON policy elements: Action — action names are case-insensitive and may use * and ? wildcards',
  resource: 'IAM JSON policy elements: Resource: "You can use wildcard characters (* and ?) within any ARN segment (the parts separated by colons)"',
  sameAccount: 'Policy evaluation logic: "If an action is allowed by an identity-based policy, a resource-based policy, or both, then AWS allows the action"',
  crossAccount:
    'Cross-account policy evaluation logic: the identity-based policy in the trusted account and the resource-based policy in the trusting account must both allow the request',
  explicitDeny: 'Policy evaluation logic: "An explicit deny in any policy overrides any allows"',
  implicitDeny: 'Policy evaluation logic: "By default, all requests are implicitly denied"',
  delegation: 'ecr.md §5.4 step 4: "A resource policy naming the account root arn:aws:iam::<acct>:root delegates to the account, so the identity policy must then allow"',
  rolePrincipal:
    'Policy evaluation logic: "When you assume a role and make a request, the principal making the request is the IAM role session ARN"; resource-based policies that grant permissions to an IAM role ARN apply to its sessions',
  notPrincipal:
    'NotPrincipal: "AWS might validate the account first, then the role, and then the assumed-role user … include both the ARN for a role and the ARN for the account containing that role"',
  managed: 'AWS Managed Policy reference (ecr.md §5.3)',
  trust: 'Policy evaluation logic: "Role trust policies and AWS KMS key policies are exceptions to this logic, because they must explicitly allow access for principals"',
};

// ---------------------------------------------------------------------------------------------
// Evaluation cases
// ---------------------------------------------------------------------------------------------

interface EvalCase {
  readonly name: string;
  readonly rule: string;
  readonly identity?: readonly (Doc | Policy)[];
  readonly resourcePolicies?: readonly Doc[];
  readonly principal?: RequestPrincipal;
  readonly action?: string;
  readonly resource?: string;
  readonly resourceAccountId?: string;
  readonly context?: RequestContext;
  readonly time?: string;
  readonly expect: Decision;
  readonly reason?: DecisionReason;
  /** Evaluate as a role's trust policy (PolicySet.resourceMustAllow). */
  readonly trustPolicy?: boolean;
}

/** An identity Allow guarded by one condition: allowed iff the condition holds. */
function cond(name: string, rule: string, Condition: Doc, context: RequestContext, holds: boolean, extra: Partial<EvalCase> = {}): EvalCase {
  return { name, rule, identity: [allowDoc({ Condition })], context, expect: holds ? 'Allow' : 'ImplicitDeny', ...extra };
}

/** An identity Allow-all plus a Deny guarded by one condition: denied iff the condition holds. */
function denyIf(name: string, rule: string, Condition: Doc, context: RequestContext, holds: boolean, extra: Partial<EvalCase> = {}): EvalCase {
  return { name, rule, identity: [allowDoc(), denyDoc({ Condition })], context, expect: holds ? 'ExplicitDeny' : 'Allow', ...extra };
}

const evalCases: EvalCase[] = [
  // --- String operators -------------------------------------------------------------------
  cond('StringEquals matches exactly', R.string, { StringEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'prod' }, true),
  cond('StringEquals is case-sensitive', R.string, { StringEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'PROD' }, false),
  cond('StringEquals: several policy values are ORed', R.or, { StringEquals: { 'aws:ResourceTag/env': ['dev', 'prod'] } }, { 'aws:ResourceTag/env': 'prod' }, true),
  cond('StringEquals: missing key is false', R.missing, { StringEquals: { 'aws:ResourceTag/env': 'prod' } }, {}, false),
  cond('StringEquals: * is literal, not a wildcard', R.string, { StringEquals: { 'aws:ResourceTag/env': 'pr*' } }, { 'aws:ResourceTag/env': 'prod' }, false),
  cond('StringNotEquals: different value holds', R.string, { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'dev' }, true),
  cond('StringNotEquals: equal value fails', R.string, { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'prod' }, false),
  cond('StringNotEquals: several values are NORed', R.nor, { StringNotEquals: { 'aws:ResourceTag/env': ['dev', 'prod'] } }, { 'aws:ResourceTag/env': 'prod' }, false),
  cond('StringNotEquals: value outside all listed values holds', R.nor, { StringNotEquals: { 'aws:ResourceTag/env': ['dev', 'prod'] } }, { 'aws:ResourceTag/env': 'qa' }, true),
  cond('StringNotEquals: missing key is true', R.negMissing, { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } }, {}, true),
  cond('StringEqualsIgnoreCase ignores case', 'Condition operators: "StringEqualsIgnoreCase — Exact matching, ignoring case"', { StringEqualsIgnoreCase: { 'aws:ResourceTag/env': 'PROD' } }, { 'aws:ResourceTag/env': 'prod' }, true),
  cond('StringEqualsIgnoreCase still needs the same letters', 'Condition operators: "StringEqualsIgnoreCase — Exact matching, ignoring case"', { StringEqualsIgnoreCase: { 'aws:ResourceTag/env': 'PROD' } }, { 'aws:ResourceTag/env': 'prd' }, false),
  cond('StringNotEqualsIgnoreCase: same letters other case fails', 'Condition operators: "StringNotEqualsIgnoreCase — Negated matching, ignoring case"', { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/env': 'PROD' } }, { 'aws:ResourceTag/env': 'Prod' }, false),
  cond('StringNotEqualsIgnoreCase: other value holds', 'Condition operators: "StringNotEqualsIgnoreCase — Negated matching, ignoring case"', { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/env': 'PROD' } }, { 'aws:ResourceTag/env': 'dev' }, true),
  cond('StringLike * matches any run', R.like, { StringLike: { 'aws:ResourceTag/team': 'plat*' } }, { 'aws:ResourceTag/team': 'platform-eng' }, true),
  cond('StringLike ? matches exactly one character', R.like, { StringLike: { 'aws:ResourceTag/team': 'te?m' } }, { 'aws:ResourceTag/team': 'team' }, true),
  cond('StringLike ? does not match two characters', R.like, { StringLike: { 'aws:ResourceTag/team': 'te?m' } }, { 'aws:ResourceTag/team': 'teaam' }, false),
  cond('StringLike is case-sensitive', R.like, { StringLike: { 'aws:ResourceTag/team': 'plat*' } }, { 'aws:ResourceTag/team': 'Platform' }, false),
  cond('StringLike without wildcards is an exact match', 'Condition operators: "You must specify wildcards to achieve partial string matches"', { StringLike: { 'aws:ResourceTag/team': 'plat' } }, { 'aws:ResourceTag/team': 'platform' }, false),
  cond('StringNotLike: matching value fails', 'Condition operators: "StringNotLike — Negated case-sensitive matching"', { StringNotLike: { 'aws:ResourceTag/team': 'plat*' } }, { 'aws:ResourceTag/team': 'platform' }, false),
  cond('StringNotLike: non-matching value holds', 'Condition operators: "StringNotLike — Negated case-sensitive matching"', { StringNotLike: { 'aws:ResourceTag/team': 'plat*' } }, { 'aws:ResourceTag/team': 'data' }, true),
  cond('StringNotLike: missing key is true', R.negMissing, { StringNotLike: { 'aws:ResourceTag/team': 'plat*' } }, {}, true),

  // --- Numeric ------------------------------------------------------------------------------
  cond('NumericEquals integer', R.numeric, { NumericEquals: { 'ecr:count': '10' } }, { 'ecr:count': '10' }, true),
  cond('NumericEquals compares numbers, not text', R.numeric, { NumericEquals: { 'ecr:count': 10 } }, { 'ecr:count': '10.0' }, true),
  cond('NumericNotEquals holds for a different number', R.numeric, { NumericNotEquals: { 'ecr:count': '10' } }, { 'ecr:count': '11' }, true),
  cond('NumericNotEquals fails for the same number', R.numeric, { NumericNotEquals: { 'ecr:count': '10' } }, { 'ecr:count': '10' }, false),
  cond('NumericLessThan holds below', 'Condition operators: "NumericLessThan — \\"Less than\\" matching"', { NumericLessThan: { 'ecr:count': '10' } }, { 'ecr:count': '5' }, true),
  cond('NumericLessThan fails at the bound', 'Condition operators: "NumericLessThan — \\"Less than\\" matching"', { NumericLessThan: { 'ecr:count': '10' } }, { 'ecr:count': '10' }, false),
  cond('NumericLessThanEquals holds at the bound', 'Condition operators: "NumericLessThanEquals — \\"Less than or equals\\" matching"', { NumericLessThanEquals: { 'ecr:count': '10' } }, { 'ecr:count': '10' }, true),
  cond('NumericLessThanEquals fails above', 'Condition operators: "NumericLessThanEquals — \\"Less than or equals\\" matching"', { NumericLessThanEquals: { 'ecr:count': '10' } }, { 'ecr:count': '10.5' }, false),
  cond('NumericGreaterThan holds above', 'Condition operators: "NumericGreaterThan — \\"Greater than\\" matching"', { NumericGreaterThan: { 'ecr:count': '10' } }, { 'ecr:count': '11' }, true),
  cond('NumericGreaterThan fails at the bound', 'Condition operators: "NumericGreaterThan — \\"Greater than\\" matching"', { NumericGreaterThan: { 'ecr:count': '10' } }, { 'ecr:count': '10' }, false),
  cond('NumericGreaterThanEquals holds at the bound', 'Condition operators: "NumericGreaterThanEquals — \\"Greater than or equals\\" matching"', { NumericGreaterThanEquals: { 'ecr:count': '10' } }, { 'ecr:count': '10' }, true),
  cond('Numeric: a non-numeric request value does not match', R.numeric, { NumericGreaterThanEquals: { 'ecr:count': '10' } }, { 'ecr:count': 'many' }, false),
  cond('Numeric: missing key is false', R.missing, { NumericLessThan: { 'ecr:count': '10' } }, {}, false),

  // --- Date ---------------------------------------------------------------------------------
  cond('DateLessThan before a future bound (aws:CurrentTime)', R.date, { DateLessThan: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' } }, {}, true, { time: T }),
  cond('DateLessThan after a past bound fails', R.date, { DateLessThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } }, {}, false, { time: T }),
  cond('DateGreaterThan after a past bound', R.date, { DateGreaterThan: { 'aws:CurrentTime': '2024-01-01' } }, {}, true, { time: T }),
  cond('DateGreaterThan fails at the exact instant', R.date, { DateGreaterThan: { 'aws:CurrentTime': T } }, {}, false, { time: T }),
  cond('DateGreaterThanEquals holds at the exact instant', R.date, { DateGreaterThanEquals: { 'aws:CurrentTime': T } }, {}, true, { time: T }),
  cond('DateLessThanEquals holds at the exact instant', R.date, { DateLessThanEquals: { 'aws:CurrentTime': T } }, {}, true, { time: T }),
  cond('DateEquals compares instants across formats', R.date, { DateEquals: { 'aws:CurrentTime': '2024-06-01T14:00:00+02:00' } }, {}, true, { time: T }),
  cond('DateNotEquals holds for another instant', R.date, { DateNotEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, {}, true, { time: T }),
  cond('DateNotEquals fails for the same instant', R.date, { DateNotEquals: { 'aws:CurrentTime': T } }, {}, false, { time: T }),
  cond('Date policy value in epoch seconds', R.date, { DateGreaterThan: { 'aws:CurrentTime': '1700000000' } }, {}, true, { time: T }),
  cond('aws:EpochTime compared with an ISO date', 'AWS global condition keys: "aws:EpochTime … the date in epoch or Unix time, for use with date/time conditions"', { DateGreaterThan: { 'aws:EpochTime': '2024-01-01T00:00:00Z' } }, {}, true, { time: T }),
  cond('Date: explicit context value overrides the derived time', R.date, { DateLessThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2023-05-05T00:00:00Z' }, true, { time: T }),

  // --- Bool ---------------------------------------------------------------------------------
  cond('Bool true matches aws:SecureTransport=true', R.bool, { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }, true),
  cond('Bool true does not match false', R.bool, { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'false' }, false),
  cond('Bool is case-insensitive on true/false', R.bool, { Bool: { 'aws:SecureTransport': 'TRUE' } }, { 'aws:SecureTransport': 'true' }, true),
  cond('Bool accepts a JSON boolean in the policy', R.bool, { Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'true' }, true),
  denyIf('Bool deny when not over TLS', 'Condition operators, Boolean example: deny "if the request is not over SSL"', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' }, true),
  denyIf('Bool deny does not fire over TLS', 'Condition operators, Boolean example: deny "if the request is not over SSL"', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' }, false),

  // --- IP address ---------------------------------------------------------------------------
  cond('IpAddress inside a /24', R.ip, { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.77' }, true),
  cond('IpAddress outside a /24', R.ip, { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.114.1' }, false),
  cond('IpAddress bare address means /32 (match)', 'Condition operators: "If you specify an IP address without the associated routing prefix, IAM uses the default prefix value of /32"', { IpAddress: { 'aws:SourceIp': '198.51.100.7' } }, { 'aws:SourceIp': '198.51.100.7' }, true),
  cond('IpAddress bare address means /32 (no match)', 'Condition operators: "If you specify an IP address without the associated routing prefix, IAM uses the default prefix value of /32"', { IpAddress: { 'aws:SourceIp': '198.51.100.7' } }, { 'aws:SourceIp': '198.51.100.8' }, false),
  cond('IpAddress IPv6 CIDR match', R.ip, { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5678:abcd::1' }, true),
  cond('IpAddress IPv6 CIDR no match', R.ip, { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5679::1' }, false),
  cond('IpAddress IPv4 CIDR never matches an IPv6 caller', R.ip, { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '2001:db8::1' }, false),
  cond('IpAddress mixes IPv4 and IPv6 ranges (OR)', 'Condition operators: "how to mix IPv4 and IPv6 addresses to cover all of your organization\'s valid IP addresses"', { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } }, { 'aws:SourceIp': '2001:db8:1234:5678::9' }, true),
  cond('IpAddress: IPv4-mapped IPv6 caller compared as IPv4', R.ip, { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '::ffff:203.0.113.9' }, true),
  cond('IpAddress /0 matches every IPv4 address', R.ip, { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '8.8.8.8' }, true),
  cond('IpAddress: missing aws:SourceIp is false', 'Condition operators, IP: "In this case, the condition returns false and the request is implicitly denied by this statement"', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, {}, false),
  cond('NotIpAddress outside the range holds', 'Condition operators: "NotIpAddress — All IP addresses except the specified IP address or range"', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '192.0.2.1' }, true),
  cond('NotIpAddress inside the range fails', 'Condition operators: "NotIpAddress — All IP addresses except the specified IP address or range"', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.1' }, false),
  cond('NotIpAddress: missing key is true', R.negMissing, { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, {}, true),

  // --- ARN ----------------------------------------------------------------------------------
  cond('ArnLike wildcard within a segment', R.arn, { ArnLike: { 'aws:SourceArn': 'arn:aws:codebuild:*:111122223333:project/*' } }, { 'aws:SourceArn': 'arn:aws:codebuild:us-east-1:111122223333:project/app' }, true),
  cond('ArnLike * does not span colon-delimited segments', 'Condition operators, ARN: "With an ArnLike condition, which matches elements between colons, the match fails"', { ArnLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt' }, false),
  cond('StringLike on the same ARN does span colons', 'Condition operators, ARN: "With a StringLike condition, the match succeeds"', { StringLike: { 'aws:SourceArn': 'arn:aws:someservice:*:111122223333:finance/*' } }, { 'aws:SourceArn': 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt' }, true),
  cond('ArnEquals behaves like ArnLike', 'Condition operators: "The ArnEquals and ArnLike condition operators behave identically"', { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:topic-?' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic-1' }, true),
  cond('ArnLike is case-sensitive', R.arn, { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:Topic' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic' }, false),
  cond('ArnNotLike: matching ARN fails', 'Condition operators: "ArnNotEquals, ArnNotLike — Negated matching for ARN"', { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:*' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t' }, false),
  cond('ArnNotEquals: other ARN holds', 'Condition operators: "ArnNotEquals, ArnNotLike — Negated matching for ARN"', { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:*' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:999999999999:t' }, true),
  cond('ArnNotLike: missing key is true', R.negMissing, { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {}, true),

  // --- Null / Binary ------------------------------------------------------------------------
  cond('Null true: key absent', R.nullOp, { Null: { 'aws:TokenIssueTime': 'true' } }, {}, true),
  cond('Null true: key present', R.nullOp, { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': T }, false),
  cond('Null false: key present', R.nullOp, { Null: { 'aws:ResourceTag/env': 'false' } }, { 'aws:ResourceTag/env': 'x' }, true),
  cond('Null false: key absent', R.nullOp, { Null: { 'aws:ResourceTag/env': false } }, {}, false),
  cond('Null: an empty multi-valued key counts as absent', 'Set operators: "If the key values in the request resolve to an empty data set" the key is treated as not present', { Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] }, true),
  cond('BinaryEquals compares the base-64 value', 'Condition operators: "It compares the value of the specified key byte for byte against a base-64 encoded representation of the binary value in the policy"', { BinaryEquals: { 'ecr:blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, { 'ecr:blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, true),

  // --- IfExists -----------------------------------------------------------------------------
  cond('StringEqualsIfExists: missing key is true', R.ifExists, { StringEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } }, {}, true),
  cond('StringEqualsIfExists: present and matching', R.ifExists, { StringEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'prod' }, true),
  cond('StringEqualsIfExists: present and different', R.ifExists, { StringEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'dev' }, false),
  denyIf('StringNotEqualsIfExists Deny still denies when the key is missing', 'Condition operators, ...IfExists: "If you are using an \\"Effect\\": \\"Deny\\" element with a negated condition operator like StringNotEqualsIfExists, the request is still denied even if the tag is missing"', { StringNotEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } }, {}, true),
  cond('NumericLessThanIfExists: missing key is true', R.ifExists, { NumericLessThanIfExists: { 'ecr:count': '3' } }, {}, true),
  cond('IpAddressIfExists: missing key is true', R.ifExists, { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true),
  cond('IpAddressIfExists: present outside fails', R.ifExists, { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '11.0.0.1' }, false),
  cond('DateLessThanIfExists: present and earlier holds', R.ifExists, { DateLessThanIfExists: { 'aws:TokenIssueTime': '2030-01-01T00:00:00Z' } }, { 'aws:TokenIssueTime': T }, true),
  cond('ArnLikeIfExists: missing key is true', R.ifExists, { ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:s3:::bucket' } }, {}, true),
  cond('BoolIfExists: missing key is true', R.ifExists, { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } }, {}, true),

  // --- Set operators ------------------------------------------------------------------------
  cond('ForAllValues: every request value listed', R.forAll, { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'team'] }, true),
  cond('ForAllValues: one request value not listed', R.forAll, { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'cost'] }, false),
  cond('ForAllValues: subset of the policy values', R.forAll, { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team', 'cost'] } }, { 'aws:TagKeys': ['team'] }, true),
  cond('ForAllValues: absent key is true', R.forAll, { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, true),
  cond('ForAllValues: empty set is true', R.forAll, { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': [] }, true),
  cond('ForAllValues:StringLike with wildcards', R.forAll, { 'ForAllValues:StringLike': { 'aws:TagKeys': 'Created*' } }, { 'aws:TagKeys': ['CreatedBy', 'CreatedAt'] }, true),
  cond('ForAnyValue: one request value listed', R.forAny, { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['team', 'env'] }, true),
  cond('ForAnyValue: no request value listed', R.forAny, { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': ['team', 'cost'] }, false),
  cond('ForAnyValue: absent key is false', R.forAny, { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, false),
  cond('ForAnyValue: empty set is false', 'Multivalued context keys (older text): "If the key values in the request resolve to an empty data set … a condition operator modified by ForAnyValue returns false"', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': [] }, false),
  cond('ForAnyValue:StringNotEquals: some value outside the list', R.forAny, { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'cost'] }, true),
  cond('ForAnyValue:StringNotEquals: every value inside the list', R.forAny, { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'team'] }, false),
  denyIf('ForAllValues:StringNotLike deny: key1 prefixed tags are not denied', 'Multivalued context key examples: "ForAllValues:StringNotLike" { "aws:TagKeys": "key1*" } with key1:legal → "No match"', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } }, { 'aws:TagKeys': ['key1:legal'] }, false),
  denyIf('ForAllValues:StringNotLike deny: other tags are denied', 'Multivalued context key examples: "ForAllValues:StringNotLike" { "aws:TagKeys": "key1*" } with key2:audit → "Match"', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } }, { 'aws:TagKeys': ['key2:audit'] }, true),
  denyIf('ForAllValues:StringNotLike deny: no aws:TagKeys in the request matches', 'Multivalued context key examples: "No aws:TagKeys in the request context → Match"', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } }, {}, true),
  cond('ForAllValues guarded by Null=false rejects a missing key', 'Multivalued context key examples: "You can prevent missing context keys … from evaluating to true by including a Null condition operator with a false value"', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] }, Null: { 'aws:TagKeys': 'false' } }, {}, false),
  cond('ForAnyValue:StringEqualsIfExists: missing key is true', R.ifExists, { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': ['env'] } }, {}, true),
  cond('ForAllValues:StringEqualsIgnoreCase', R.forAll, { 'ForAllValues:StringEqualsIgnoreCase': { 'aws:TagKeys': ['ENV'] } }, { 'aws:TagKeys': ['env', 'Env'] }, true),
  cond('Multi-valued key without a set operator is matched like ForAnyValue', 'Single-valued vs. multivalued context keys: "Multivalued context keys require a condition set operator" (behaviour without one: Berth decision, see report)', { StringEquals: { 'aws:TagKeys': 'env' } }, { 'aws:TagKeys': ['team', 'env'] }, true),
  cond('Single-element list behaves like a single value', 'Single-valued vs. multivalued context keys: "depends on the number of values in the request context"', { StringEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': ['prod'] }, true),

  // --- AND / OR across keys and operators ------------------------------------------------------
  cond('Two keys under one operator are ANDed (one fails)', R.andKeys, { StringEquals: { 'aws:ResourceTag/env': 'prod', 'aws:ResourceTag/team': 'core' } }, { 'aws:ResourceTag/env': 'prod', 'aws:ResourceTag/team': 'web' }, false),
  cond('Two keys under one operator are ANDed (both hold)', R.andKeys, { StringEquals: { 'aws:ResourceTag/env': 'prod', 'aws:ResourceTag/team': 'core' } }, { 'aws:ResourceTag/env': 'prod', 'aws:ResourceTag/team': 'core' }, true),
  cond('Two operators are ANDed (both hold)', R.andOps, { StringEquals: { 'aws:ResourceTag/env': 'prod' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:ResourceTag/env': 'prod', 'aws:SourceIp': '10.1.2.3' }, true),
  cond('Two operators are ANDed (one fails)', R.andOps, { StringEquals: { 'aws:ResourceTag/env': 'prod' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:ResourceTag/env': 'prod', 'aws:SourceIp': '192.168.0.1' }, false),
  cond('Condition key names are case-insensitive', 'Variables and tags: "Key names are case-insensitive. For example, aws:CurrentTime is equivalent to AWS:currenttime"', { StringEquals: { 'AWS:SOURCEVPC': 'vpc-1' } }, { 'aws:SourceVpc': 'vpc-1' }, true),

  // --- Global keys derived from the principal ---------------------------------------------------
  cond('aws:PrincipalArn of a role session is the role ARN', 'Global condition keys: aws:PrincipalArn — for an IAM role session it is the ARN of the role', { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/ci` } }, {}, true, { principal: ciSession }),
  cond('aws:PrincipalArn keeps the role path when known', 'Global condition keys: aws:PrincipalArn — "the ARN of the role" (including its path)', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/team/*` } }, {}, true, { principal: deploySession }),
  cond('aws:PrincipalArn of an IAM user', 'Global condition keys: aws:PrincipalArn — the ARN of the IAM user', { StringEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/alice` } }, {}, true),
  cond('aws:PrincipalAccount', 'Global condition keys: "aws:PrincipalAccount — the AWS account to which the requesting principal belongs"', { StringEquals: { 'aws:PrincipalAccount': A } }, {}, true),
  cond('aws:PrincipalType AssumedRole', 'Variables and tags: "aws:PrincipalType — whether the principal is an account, user, federated, or assumed role"', { StringEquals: { 'aws:PrincipalType': 'AssumedRole' } }, {}, true, { principal: ciSession }),
  cond('aws:PrincipalType User', 'Variables and tags: "aws:PrincipalType — whether the principal is an account, user, federated, or assumed role"', { StringEquals: { 'aws:PrincipalType': 'User' } }, {}, true),
  cond('aws:userid of a role session', 'Variables and tags, principal key values: aws:userid is role-id:caller-specified-role-name for an assumed role', { StringLike: { 'aws:userid': 'AROACI*:build-1' } }, {}, true, { principal: ciSession }),
  cond('aws:username of an IAM user', 'Variables and tags: "aws:username — the friendly name of the current user"', { StringEquals: { 'aws:username': 'alice' } }, {}, true),
  cond('aws:username is absent for a role session', 'Variables and tags, principal key values: aws:username is "not present" for an assumed role', { StringEquals: { 'aws:username': 'ci' } }, {}, false, { principal: ciSession }),
  cond('aws:ResourceTag/<key>', 'Service Authorization Reference (ECR): aws:ResourceTag/${TagKey} on repository-scoped actions', { StringEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'prod' }, true),
  cond('ecr:ResourceTag/<key>', 'Service Authorization Reference (ECR): ecr:ResourceTag/${TagKey}', { StringEquals: { 'ecr:ResourceTag/env': 'prod' } }, { 'ecr:ResourceTag/env': 'prod' }, true, { action: 'ecr:PutImage' }),
  cond('aws:RequestTag/<key>', 'Service Authorization Reference (ECR): aws:RequestTag/${TagKey} on CreateRepository and TagResource', { StringEquals: { 'aws:RequestTag/team': 'core' } }, { 'aws:RequestTag/team': 'core' }, true, { action: 'ecr:CreateRepository' }),
  cond('aws:PrincipalIsAWSService is false for users', 'Global condition keys: aws:PrincipalIsAWSService', { Bool: { 'aws:PrincipalIsAWSService': 'false' } }, {}, true),
  cond('aws:SourceIp from the request context', 'Global condition keys: "aws:SourceIp — the requester\'s IP address"', { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } }, { 'aws:SourceIp': '192.0.2.10' }, true),

  // --- Policy variables -----------------------------------------------------------------------
  {
    name: 'Resource ${aws:username} resolves to the caller',
    rule: R.vars,
    identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:*:${A}:repository/\${aws:username}/*` } }],
    resource: `arn:aws:ecr:us-east-1:${A}:repository/alice/app`,
    expect: 'Allow',
  },
  {
    name: 'Resource ${aws:username} does not match another user\'s prefix',
    rule: R.vars,
    identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:*:${A}:repository/\${aws:username}/*` } }],
    resource: `arn:aws:ecr:us-east-1:${A}:repository/bob/app`,
    expect: 'ImplicitDeny',
  },
  {
    name: 'Version 2008-10-17 treats ${aws:username} literally',
    rule: 'Variables and tags: "Variables were introduced in version 2012-10-17 … variables like ${aws:username} are treated as literal strings in the policy"',
    identity: [{ Version: '2008-10-17', Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:*:${A}:repository/\${aws:username}/*` } }],
    resource: `arn:aws:ecr:us-east-1:${A}:repository/alice/app`,
    expect: 'ImplicitDeny',
  },
  {
    name: 'A policy without Version also treats variables literally',
    rule: 'Variables and tags: "If you don\'t include the Version element … variables … are treated as literal strings"',
    identity: [{ Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:*:${A}:repository/\${aws:username}` } }],
    resource: `arn:aws:ecr:us-east-1:${A}:repository/\${aws:username}`,
    expect: 'Allow',
  },
  cond('Condition value variable (StringEquals)', 'Variables and tags: "You can use a policy variable for Condition values in any condition that involves the string operators"', { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } }, { 'aws:ResourceTag/owner': 'alice' }, true),
  cond('Condition value variable (StringLike with wildcard)', 'Variables and tags: StringLike with "home/${aws:username}/*"', { StringLike: { 'ecr:path': 'home/${aws:username}/*' } }, { 'ecr:path': 'home/alice/x' }, true),
  cond('Variable from another request key (aws:PrincipalTag)', 'Variables and tags: "To replace part of an ARN with a tag value, surround the prefix and key name with ${}"', { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } }, { 'aws:ResourceTag/team': 'core', 'aws:PrincipalTag/team': 'core' }, true),
  cond('Variable default value when the key is absent', 'Variables and tags, Specifying default values: "anonymous users will not populate the ${aws:userid} variable. You can set the default value to anonymous"', { StringEquals: { 'aws:ResourceTag/owner': "${aws:PrincipalTag/owner, 'nobody'}" } }, { 'aws:ResourceTag/owner': 'nobody' }, true),
  cond('Unresolvable variable without default does not match', 'Variables and tags: "If AWS cannot resolve a variable this might cause the entire statement to be invalid"', { StringEquals: { 'aws:ResourceTag/owner': '${aws:PrincipalTag/owner}' } }, { 'aws:ResourceTag/owner': '' }, false),
  cond('${*} is a literal asterisk in StringLike', 'Variables and tags, Special characters: "${*} - use where you need an * (asterisk) character"', { StringLike: { 'ecr:path': 'a${*}b' } }, { 'ecr:path': 'aXb' }, false),
  cond('${*} matches a literal asterisk', 'Variables and tags, Special characters: "${*} - use where you need an * (asterisk) character"', { StringLike: { 'ecr:path': 'a${*}b' } }, { 'ecr:path': 'a*b' }, true),
  cond('A multi-valued key cannot be used as a variable', 'Single-valued vs. multivalued context keys: "you cannot use multivalued context keys as policy variables"', { StringEquals: { 'aws:ResourceTag/owner': '${aws:TagKeys}' } }, { 'aws:ResourceTag/owner': 'a', 'aws:TagKeys': ['a', 'b'] }, false),
  {
    name: 'Unresolvable variable in NotResource invalidates the statement',
    rule: 'Variables and tags: "If AWS cannot resolve a variable this might cause the entire statement to be invalid"',
    identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', NotResource: `arn:aws:ecr:*:${A}:repository/\${aws:username}` } }],
    principal: ciSession,
    expect: 'ImplicitDeny',
  },

  // --- Action / NotAction ---------------------------------------------------------------------
  { name: 'Action names are case-insensitive', rule: R.action, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ECR:batchgetimage', Resource: '*' } }], expect: 'Allow' },
  { name: 'Action prefix wildcard ecr:Batch*', rule: R.action, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:Batch*', Resource: '*' } }], expect: 'Allow' },
  { name: 'ecr:Batch* does not cover ecr:PutImage', rule: R.action, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:Batch*', Resource: '*' } }], action: 'ecr:PutImage', expect: 'ImplicitDeny' },
  { name: 'Action ? wildcard', rule: R.action, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:?utImage', Resource: '*' } }], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'Action * covers every service', rule: R.action, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }], action: 'ecr:DeleteRepository', expect: 'Allow' },
  { name: 'ecr:* does not cover ecr-public actions', rule: R.action, identity: [allowDoc()], action: 'ecr-public:PutImage', expect: 'ImplicitDeny' },
  { name: 'NotAction allows every other action', rule: 'IAM JSON policy elements: NotAction — "matches everything except the specified list of actions"', identity: [{ Version: V12, Statement: { Effect: 'Allow', NotAction: 'ecr:DeleteRepository', Resource: '*' } }], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'NotAction does not allow the listed action', rule: 'IAM JSON policy elements: NotAction — "matches everything except the specified list of actions"', identity: [{ Version: V12, Statement: { Effect: 'Allow', NotAction: 'ecr:Delete*', Resource: '*' } }], action: 'ecr:DeleteRepository', expect: 'ImplicitDeny' },
  { name: 'Deny with NotAction denies everything else', rule: 'IAM JSON policy elements: NotAction with Deny — "deny access to all of the listed resources except for the actions specified"', identity: [allowDoc(), { Version: V12, Statement: { Effect: 'Deny', NotAction: 'ecr:BatchGetImage', Resource: '*' } }], action: 'ecr:PutImage', expect: 'ExplicitDeny', reason: 'IdentityPolicyDeny' },
  { name: 'Deny with NotAction leaves the listed action alone', rule: 'IAM JSON policy elements: NotAction with Deny', identity: [allowDoc(), { Version: V12, Statement: { Effect: 'Deny', NotAction: 'ecr:BatchGetImage', Resource: '*' } }], action: 'ecr:BatchGetImage', expect: 'Allow' },

  // --- Resource / NotResource -----------------------------------------------------------------
  { name: 'Resource exact ARN', rule: R.resource, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: REPO } }], expect: 'Allow' },
  { name: 'Resource exact ARN does not match another repository', rule: R.resource, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: REPO } }], resource: PROD_REPO, expect: 'ImplicitDeny' },
  { name: 'Resource wildcard repository/prod-*', rule: R.resource, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:us-east-1:${A}:repository/prod-*` } }], resource: PROD_REPO, expect: 'Allow' },
  { name: 'Resource matching is case-sensitive', rule: 'IAM identifiers: ARNs are case-sensitive', identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:us-east-1:${A}:repository/Prod-*` } }], resource: PROD_REPO, expect: 'ImplicitDeny' },
  { name: 'Resource wildcard region and account segments', rule: R.resource, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:aws:ecr:*:*:repository/app' } }], expect: 'Allow' },
  { name: 'Resource * in one segment does not span colons', rule: R.resource, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:aws:ecr:*:repository/app' } }], expect: 'ImplicitDeny' },
  { name: 'Resource wildcard in the resource id spans slashes', rule: R.resource, identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:us-east-1:${A}:repository/team/*` } }], resource: `arn:aws:ecr:us-east-1:${A}:repository/team/a/b`, expect: 'Allow' },
  { name: 'Resource * does not match a registry-level action target other than *', rule: 'ecr.md §5.1: "Registry-level actions need \\"Resource\\": \\"*\\""', identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: REPO } }], action: 'ecr:GetAuthorizationToken', resource: '*', expect: 'ImplicitDeny' },
  { name: 'NotResource allows other repositories', rule: 'IAM JSON policy elements: NotResource — "matches every resource except those specified"', identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', NotResource: PROD_REPO } }], expect: 'Allow' },
  { name: 'NotResource excludes the listed repository', rule: 'IAM JSON policy elements: NotResource — "matches every resource except those specified"', identity: [{ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:*', NotResource: `arn:aws:ecr:*:*:repository/prod-*` } }], resource: PROD_REPO, expect: 'ImplicitDeny' },
  { name: 'Deny with NotResource protects everything but one repository', rule: 'IAM JSON policy elements: NotResource with Deny', identity: [allowDoc(), { Version: V12, Statement: { Effect: 'Deny', Action: 'ecr:*', NotResource: REPO } }], resource: PROD_REPO, expect: 'ExplicitDeny' },
  { name: 'Repository policy without Resource applies to its repository', rule: 'ecr.md §3.8: "No Resource element (implicit: this repository)"', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 'ecr:BatchGetImage' })], expect: 'Allow', reason: 'ResourcePolicyAllow' },

  // --- Principal matching (resource policies, same account) ------------------------------------
  { name: 'Same account: resource policy naming the user allows without identity policy', rule: R.sameAccount, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'ecr:*' })], expect: 'Allow', reason: 'ResourcePolicyAllow' },
  { name: 'Same account: resource policy naming another user does not allow', rule: R.implicitDeny, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: bob.arn }, Action: 'ecr:*' })], expect: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow' },
  { name: 'Same account: account-root principal delegates (no identity policy → deny)', rule: R.delegation, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'ecr:*' })], expect: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow' },
  { name: 'Same account: bare account id is the account root', rule: 'AWS JSON policy elements: Principal — an account id is equivalent to arn:aws:iam::<id>:root', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: A }, Action: 'ecr:*' })], expect: 'ImplicitDeny' },
  { name: 'Same account: account-root delegation + identity allow', rule: R.delegation, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: A }, Action: 'ecr:*' })], expect: 'Allow', reason: 'IdentityPolicyAllow' },
  { name: 'Same account: Principal "*" allows everyone', rule: 'AWS JSON policy elements: Principal — "*" grants access to everyone', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' })], expect: 'Allow' },
  { name: 'Same account: {"AWS":"*"} allows everyone', rule: 'AWS JSON policy elements: Principal — {"AWS": "*"} matches all principals', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'ecr:BatchGetImage' })], expect: 'Allow' },
  { name: 'Role ARN principal matches a session of the role', rule: R.rolePrincipal, principal: ciSession, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/ci` }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Role ARN with a path matches the session (role name)', rule: R.rolePrincipal, principal: deploySession, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/team/deploy` }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Session ARN principal matches exactly that session', rule: 'AWS JSON policy elements: Principal — role session principals "arn:aws:sts::AWS-account-ID:assumed-role/role-name/role-session-name"', principal: ciSession, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: ciSession.arn }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Session ARN principal does not match another session', rule: 'AWS JSON policy elements: Principal — role session principals name one session', principal: ciSession2, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: ciSession.arn }, Action: 'ecr:*' })], expect: 'ImplicitDeny' },
  { name: 'Role of the same name in another account does not match', rule: R.rolePrincipal, principal: ciSession, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:role/ci` }, Action: 'ecr:*' })], expect: 'ImplicitDeny' },
  { name: 'Federated user principal', rule: 'AWS JSON policy elements: Principal — IAM federated user session principals', principal: fedUser, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: fedUser.arn }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Unique-id principal matches the user', rule: 'AWS JSON policy elements: Principal — a deleted principal is shown by its unique id (AIDA…)', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: 'AIDAALICE0000000000' }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Service principal allows the service', rule: 'AWS JSON policy elements: Principal — AWS service principals {"Service": "codebuild.amazonaws.com"}', principal: codebuild, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'ecr:BatchGetImage' })], expect: 'Allow', reason: 'ResourcePolicyAllow' },
  { name: 'Service principal does not match IAM users', rule: 'AWS JSON policy elements: Principal — a service principal names only that service', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'ecr:BatchGetImage' })], expect: 'ImplicitDeny' },
  { name: 'Service condition aws:SourceAccount scopes the service', rule: 'ecr.md §3.8: "Service principals … should be scoped with aws:SourceArn / aws:SourceAccount"', principal: codebuild, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'ecr:BatchGetImage', Condition: { StringEquals: { 'aws:SourceAccount': A } } })], context: { 'aws:SourceAccount': B }, expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { name: 'Anonymous caller allowed by Principal "*"', rule: 'AWS JSON policy elements: Principal — "*" includes anonymous users', principal: anonymous, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' })], expect: 'Allow' },
  { name: 'Anonymous caller without resource policy', rule: R.implicitDeny, principal: anonymous, identity: [], expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { name: 'Anonymous caller is not part of any account', rule: R.delegation, principal: anonymous, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: A }, Action: 'ecr:*' })], expect: 'ImplicitDeny' },
  { name: 'Anonymous caller ignores identity policies', rule: 'Policy evaluation logic: identity-based policies are attached to IAM identities; anonymous requests have none', principal: anonymous, identity: [allowDoc()], expect: 'ImplicitDeny' },
  { name: 'Statement with unrelated principal does not apply', rule: R.implicitDeny, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/ci` }, Action: 'ecr:*' })], expect: 'ImplicitDeny' },

  // --- NotPrincipal ---------------------------------------------------------------------------
  { name: 'Deny NotPrincipal [user, account]: that user is not denied', rule: R.notPrincipal, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: [alice.arn, `arn:aws:iam::${A}:root`] }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Deny NotPrincipal [user, account]: other users are denied', rule: 'NotPrincipal: "the actions specified in the policy statement are explicitly denied to all principals except for the ones specified"', principal: bob, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: [alice.arn, `arn:aws:iam::${A}:root`] }, Action: 'ecr:*' })], expect: 'ExplicitDeny', reason: 'ResourcePolicyDeny' },
  { name: 'Deny NotPrincipal with only the user ARN still denies (account link)', rule: 'NotPrincipal: "If the NotPrincipal element contained only Bob\'s ARN, the effect of the policy might be to explicitly deny access to the AWS account that contains the user Bob"', identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: alice.arn }, Action: 'ecr:*' })], expect: 'ExplicitDeny' },
  { name: 'Deny NotPrincipal [role, account] exempts the role\'s session', rule: R.notPrincipal, principal: ciSession, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${A}:role/ci`, `arn:aws:iam::${A}:root`] }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Deny NotPrincipal [session, account] without the role denies', rule: 'NotPrincipal: "If the NotPrincipal element was missing the ARN of the role, the effect of the policy might be to explicitly deny access to the role"', principal: ciSession, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: [ciSession.arn, `arn:aws:iam::${A}:root`] }, Action: 'ecr:*' })], expect: 'ExplicitDeny' },
  { name: 'Deny NotPrincipal [session, role, account] exempts the session', rule: R.notPrincipal, principal: ciSession, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: [ciSession.arn, `arn:aws:iam::${A}:role/ci`, `arn:aws:iam::${A}:root`] }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Allow NotPrincipal grants everyone else (even anonymous)', rule: 'NotPrincipal With Allow: "you might grant access to anonymous (unauthenticated) users"', principal: anonymous, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', NotPrincipal: { AWS: alice.arn }, Action: 'ecr:BatchGetImage' })], expect: 'Allow' },
  { name: 'Allow NotPrincipal does not grant the listed principal chain', rule: 'NotPrincipal With Allow: "allows all principals except the one named"', identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', NotPrincipal: { AWS: [alice.arn, A] }, Action: 'ecr:BatchGetImage' })], expect: 'ImplicitDeny' },
  { name: 'Deny NotPrincipal with "*" never applies', rule: 'NotPrincipal: the statement applies to principals except those listed; "*" lists all', identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', NotPrincipal: { AWS: '*' }, Action: 'ecr:*' })], expect: 'Allow' },

  // --- Cross-account --------------------------------------------------------------------------
  { name: 'Cross account: identity allow + resource grants the account', rule: R.crossAccount, principal: carol, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'ecr:BatchGetImage' })], expect: 'Allow', reason: 'IdentityAndResourcePolicyAllow' },
  { name: 'Cross account: identity allow without a resource policy', rule: R.crossAccount, principal: carol, identity: [allowDoc()], expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { name: 'Cross account: resource policy names the user but identity does not allow', rule: R.crossAccount, principal: carol, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: carol.arn }, Action: 'ecr:*' })], expect: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow' },
  { name: 'Cross account: role session with both allows', rule: R.crossAccount, principal: ciB, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:role/ci` }, Action: ['ecr:BatchGetImage', 'ecr:PutImage'] })], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'Cross account: resource grants a different account', rule: R.crossAccount, principal: carol, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: '999988887777' }, Action: 'ecr:*' })], expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { name: 'Cross account: resource policy action does not cover the request', rule: R.crossAccount, principal: carol, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: B }, Action: 'ecr:BatchGetImage' })], action: 'ecr:PutImage', expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { name: 'Cross account: other account\'s root user needs only the resource grant', rule: 'Policy evaluation logic: "with the exception of the AWS account root user, which has full access" (in its own account) + cross-account resource grant', principal: rootB, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: B }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Cross account: Principal "*" plus identity allow', rule: R.crossAccount, principal: carol, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' })], expect: 'Allow' },
  { name: 'Cross account: aws:PrincipalOrgID condition in the repository policy', rule: 'ecr.md §3.8 OrgPull: "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-abc123xyz" } }', principal: carol, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123xyz' } } })], context: { 'aws:PrincipalOrgID': 'o-other' }, expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { name: 'Registry policy: cross-account ReplicateImage into prod-* (§3.9)', rule: 'ecr.md §3.9 registry policy example', principal: rootB, action: 'ecr:ReplicateImage', resource: `arn:aws:ecr:us-west-2:${A}:repository/prod-web`, identity: [], resourcePolicies: [resDoc({ Sid: 'ReplicateFromSource', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:us-west-2:${A}:repository/prod-*` })], expect: 'Allow' },
  { name: 'Registry policy: Resource restricts to prod-*', rule: 'ecr.md §3.9 registry policy example', principal: rootB, action: 'ecr:ReplicateImage', resource: `arn:aws:ecr:us-west-2:${A}:repository/dev-web`, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:us-west-2:${A}:repository/prod-*` })], expect: 'ImplicitDeny' },

  // --- Explicit deny precedence / root user ------------------------------------------------------
  { name: 'Identity Deny overrides identity Allow', rule: R.explicitDeny, identity: [allowDoc(), denyDoc({ Action: 'ecr:BatchGetImage' })], expect: 'ExplicitDeny', reason: 'IdentityPolicyDeny' },
  { name: 'Resource Deny overrides identity Allow', rule: R.explicitDeny, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', Principal: '*', Action: 'ecr:*' })], expect: 'ExplicitDeny', reason: 'ResourcePolicyDeny' },
  { name: 'Identity Deny overrides resource Allow', rule: R.explicitDeny, identity: [denyDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 'ecr:*' })], expect: 'ExplicitDeny', reason: 'IdentityPolicyDeny' },
  { name: 'Deny within the same policy overrides its Allow', rule: R.explicitDeny, identity: [{ Version: V12, Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }, { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: REPO }] }], expect: 'ExplicitDeny' },
  { name: 'Resource Deny naming another principal does not apply', rule: 'AWS JSON policy elements: Principal — a statement applies only to the principals it names', identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Deny', Principal: { AWS: bob.arn }, Action: 'ecr:*' })], expect: 'Allow' },
  { name: 'Cross-account Deny still wins', rule: R.explicitDeny, principal: carol, identity: [allowDoc()], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: B }, Action: 'ecr:*' }, { Effect: 'Deny', Principal: { AWS: carol.arn }, Action: 'ecr:PutImage' })], action: 'ecr:PutImage', expect: 'ExplicitDeny', reason: 'ResourcePolicyDeny' },
  { name: 'Repository OfficeOnly deny outside the office range (§3.8)', rule: 'ecr.md §3.8 OfficeOnly: Deny ecr:* with NotIpAddress aws:SourceIp 203.0.113.0/24', identity: [allowDoc()], resourcePolicies: [resDoc({ Sid: 'OfficeOnly', Effect: 'Deny', Principal: '*', Action: 'ecr:*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })], context: { 'aws:SourceIp': '198.51.100.1' }, expect: 'ExplicitDeny' },
  { name: 'Repository OfficeOnly deny does not fire inside the range', rule: 'ecr.md §3.8 OfficeOnly', identity: [allowDoc()], resourcePolicies: [resDoc({ Sid: 'OfficeOnly', Effect: 'Deny', Principal: '*', Action: 'ecr:*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })], context: { 'aws:SourceIp': '203.0.113.4' }, expect: 'Allow' },
  { name: 'Root user has full access in its own account', rule: 'Policy evaluation logic: "all requests are implicitly denied with the exception of the AWS account root user, which has full access"', principal: rootA, identity: [], action: 'ecr:DeleteRepository', expect: 'Allow', reason: 'AccountRootUser' },
  { name: 'Root user is still subject to an explicit resource deny', rule: R.explicitDeny, principal: rootA, identity: [], resourcePolicies: [resDoc({ Effect: 'Deny', Principal: '*', Action: 'ecr:DeleteRepository' })], action: 'ecr:DeleteRepository', expect: 'ExplicitDeny' },
  { name: 'No policies at all is an implicit deny', rule: R.implicitDeny, identity: [], expect: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow' },
  { name: 'IAM user with a path', rule: 'IAM identifiers: user ARNs include the path (arn:aws:iam::acct:user/path/name)', principal: devAlice, identity: [], resourcePolicies: [resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/dev/alice2` }, Action: 'ecr:*' })], expect: 'Allow' },

  // --- AWS managed policies ---------------------------------------------------------------------
  { name: 'PullOnly allows ecr:BatchGetImage', rule: R.managed, identity: [AmazonEC2ContainerRegistryPullOnly.policy], expect: 'Allow' },
  { name: 'PullOnly does not allow ecr:PutImage', rule: R.managed, identity: [AmazonEC2ContainerRegistryPullOnly.policy], action: 'ecr:PutImage', expect: 'ImplicitDeny' },
  { name: 'PullOnly allows ecr:GetAuthorizationToken on *', rule: R.managed, identity: [AmazonEC2ContainerRegistryPullOnly.policy], action: 'ecr:GetAuthorizationToken', resource: '*', expect: 'Allow' },
  { name: 'PullOnly allows ecr:BatchImportUpstreamImage', rule: R.managed, identity: [AmazonEC2ContainerRegistryPullOnly.policy], action: 'ecr:BatchImportUpstreamImage', expect: 'Allow' },
  { name: 'PullOnly does not allow ecr:BatchCheckLayerAvailability', rule: R.managed, identity: [AmazonEC2ContainerRegistryPullOnly.policy], action: 'ecr:BatchCheckLayerAvailability', expect: 'ImplicitDeny' },
  { name: 'PowerUser allows ecr:PutImage (push)', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:PutImage', expect: 'Allow' },
  { name: 'PowerUser allows ecr:InitiateLayerUpload', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:InitiateLayerUpload', expect: 'Allow' },
  { name: 'PowerUser allows ecr:UploadLayerPart', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:UploadLayerPart', expect: 'Allow' },
  { name: 'PowerUser allows ecr:CompleteLayerUpload', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:CompleteLayerUpload', expect: 'Allow' },
  { name: 'PowerUser does not allow ecr:DeleteRepository', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:DeleteRepository', expect: 'ImplicitDeny' },
  { name: 'PowerUser does not allow ecr:SetRepositoryPolicy', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:SetRepositoryPolicy', expect: 'ImplicitDeny' },
  { name: 'PowerUser does not allow ecr:BatchDeleteImage', rule: R.managed, identity: [AmazonEC2ContainerRegistryPowerUser.policy], action: 'ecr:BatchDeleteImage', expect: 'ImplicitDeny' },
  { name: 'ReadOnly allows ecr:DescribeImages', rule: R.managed, identity: [AmazonEC2ContainerRegistryReadOnly.policy], action: 'ecr:DescribeImages', expect: 'Allow' },
  { name: 'ReadOnly allows ecr:BatchCheckLayerAvailability', rule: R.managed, identity: [AmazonEC2ContainerRegistryReadOnly.policy], action: 'ecr:BatchCheckLayerAvailability', expect: 'Allow' },
  { name: 'ReadOnly does not allow ecr:PutImage', rule: R.managed, identity: [AmazonEC2ContainerRegistryReadOnly.policy], action: 'ecr:PutImage', expect: 'ImplicitDeny' },
  { name: 'ReadOnly does not allow ecr:InitiateLayerUpload', rule: R.managed, identity: [AmazonEC2ContainerRegistryReadOnly.policy], action: 'ecr:InitiateLayerUpload', expect: 'ImplicitDeny' },
  { name: 'FullAccess allows ecr:DeleteRepository', rule: R.managed, identity: [AmazonEC2ContainerRegistryFullAccess.policy], action: 'ecr:DeleteRepository', expect: 'Allow' },
  { name: 'FullAccess allows cloudtrail:LookupEvents', rule: R.managed, identity: [AmazonEC2ContainerRegistryFullAccess.policy], action: 'cloudtrail:LookupEvents', resource: '*', expect: 'Allow' },
  { name: 'FullAccess allows iam:CreateServiceLinkedRole for replication', rule: R.managed, identity: [AmazonEC2ContainerRegistryFullAccess.policy], action: 'iam:CreateServiceLinkedRole', resource: '*', context: { 'iam:AWSServiceName': 'replication.ecr.amazonaws.com' }, expect: 'Allow' },
  { name: 'FullAccess does not allow iam:CreateServiceLinkedRole for other services', rule: R.managed, identity: [AmazonEC2ContainerRegistryFullAccess.policy], action: 'iam:CreateServiceLinkedRole', resource: '*', context: { 'iam:AWSServiceName': 'elasticbeanstalk.amazonaws.com' }, expect: 'ImplicitDeny' },
  { name: 'FullAccess does not cover ecr-public', rule: R.managed, identity: [AmazonEC2ContainerRegistryFullAccess.policy], action: 'ecr-public:PutImage', expect: 'ImplicitDeny' },
  { name: 'Managed PullOnly cross-account still needs the repository policy', rule: R.crossAccount, principal: carol, identity: [AmazonEC2ContainerRegistryPullOnly.policy], expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },

  // Role trust policies (sts:AssumeRole): the trust policy must allow, even within the account.
  { ...trustCase('same account: an identity allow without the trust policy naming the caller or its account is denied', trustDoc(`arn:aws:iam::${A}:user/bob`), [assumeDoc()]), expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { ...trustCase('same account: a trust policy naming the caller suffices without an identity policy', trustDoc(`arn:aws:iam::${A}:user/alice`)), expect: 'Allow', reason: 'ResourcePolicyAllow' },
  { ...trustCase('same account: a trust policy naming the account delegates, so no identity allow means deny', trustDoc(A)), expect: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow' },
  { ...trustCase('same account: a trust policy naming the account root plus an identity allow', trustDoc(`arn:aws:iam::${A}:root`), [assumeDoc()]), expect: 'Allow', reason: 'IdentityAndResourcePolicyAllow' },
  { ...trustCase('same account: an identity Deny beats a trust policy naming the caller', trustDoc(`arn:aws:iam::${A}:user/alice`), [{ Version: V12, Statement: [{ Effect: 'Deny', Action: 'sts:AssumeRole', Resource: '*' }] }]), expect: 'ExplicitDeny', reason: 'IdentityPolicyDeny' },
  { ...trustCase('a Deny in the trust policy beats everything', { Version: V12, Statement: [{ Effect: 'Allow', Principal: { AWS: A }, Action: 'sts:AssumeRole' }, { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' }] }, [assumeDoc()]), expect: 'ExplicitDeny', reason: 'ResourcePolicyDeny' },
  { ...trustCase('a trust policy naming a role allows its sessions (role chaining)', trustDoc(`arn:aws:iam::${A}:role/ci`)), principal: ciSession, expect: 'Allow', reason: 'ResourcePolicyAllow' },
  { ...trustCase('cross account: the trust policy naming the caller\'s account and its identity allow', trustDoc(`arn:aws:iam::${B}:root`), [assumeDoc()]), principal: carol, expect: 'Allow', reason: 'IdentityAndResourcePolicyAllow' },
  { ...trustCase('cross account: a trust policy naming the caller is not enough without its identity allow', trustDoc(`arn:aws:iam::${B}:user/carol`)), principal: carol, expect: 'ImplicitDeny', reason: 'NoIdentityPolicyAllow' },
  { ...trustCase('cross account: an identity allow without the trust policy naming the caller\'s account is denied', trustDoc(A), [assumeDoc()]), principal: carol, expect: 'ImplicitDeny', reason: 'NoResourcePolicyAllow' },
  { ...trustCase('the sts:ExternalId condition of a trust policy', trustDoc(`arn:aws:iam::${A}:user/alice`, { StringEquals: { 'sts:ExternalId': 'tenant-42' } })), context: { 'sts:ExternalId': 'tenant-7' }, expect: 'ImplicitDeny' },
];

/** A case evaluating sts:AssumeRole on role `ci` of account A with `trust` as its trust policy. */
function trustCase(name: string, trust: Doc, identity: Doc[] = []): Omit<EvalCase, 'expect'> {
  return { name, rule: R.trust, identity, resourcePolicies: [trust], trustPolicy: true, action: 'sts:AssumeRole', resource: `arn:aws:iam::${A}:role/ci` };
}

function trustDoc(principal: string, Condition?: Doc): Doc {
  return { Version: V12, Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole', ...(Condition ? { Condition } : {}) }] };
}

function assumeDoc(): Doc {
  return { Version: V12, Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${A}:role/ci` }] };
}

// ---------------------------------------------------------------------------------------------
// Validation cases
// ---------------------------------------------------------------------------------------------

interface ParseCase {
  readonly name: string;
  readonly rule: string;
  readonly doc: Doc | string;
  readonly options?: Partial<ParseOptions>;
  readonly kind?: 'identity' | 'resource';
  /** Expected error message (substring or RegExp); omitted = the document is valid. */
  readonly error?: string | RegExp;
}

const idStmt = (extra: Doc): Doc => ({ Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*', ...extra } });
const resStmt = (extra: Doc): Doc => ({ Version: V12, Statement: { Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage', ...extra } });

const parseCases: ParseCase[] = [
  { name: 'valid identity policy', rule: 'IAM JSON policy grammar', doc: idStmt({}) },
  {
    name: 'valid repository policy (ecr.md §3.8)',
    rule: 'ecr.md §3.8 repository policy example',
    kind: 'resource',
    doc: {
      Version: V12,
      Statement: [
        { Sid: 'OrgPull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123xyz' } } },
        { Sid: 'CiPush', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:role/ci' }, Action: ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:BatchGetImage'] },
        { Sid: 'OfficeOnly', Effect: 'Deny', Principal: '*', Action: 'ecr:*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } },
      ],
    },
  },
  {
    name: 'valid registry policy (ecr.md §3.9)',
    rule: 'ecr.md §3.9 registry policy example',
    kind: 'resource',
    doc: { Version: V12, Statement: [{ Sid: 'ReplicateFromSource', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: 'arn:aws:ecr:us-west-2:444455556666:repository/prod-*' }] },
  },
  { name: 'missing Effect', rule: 'IAM JSON policy grammar: <effect_block> = "Effect" : ("Allow" | "Deny") is required', doc: { Version: V12, Statement: { Action: 'ecr:BatchGetImage', Resource: '*' } }, error: 'Missing required field Effect' },
  { name: 'Effect is case-sensitive', rule: 'IAM JSON policy elements: Effect — "Valid values for Effect are Allow and Deny. The Effect value is case sensitive"', doc: idStmt({ Effect: 'allow' }), error: 'Invalid effect: allow' },
  { name: 'both Action and NotAction', rule: 'IAM JSON policy grammar: <action_block> = ("Action" | "NotAction") — one of them', doc: idStmt({ NotAction: 'ecr:PutImage' }), error: /both Action and NotAction/ },
  { name: 'neither Action nor NotAction', rule: 'IAM JSON policy elements: Action — "Statements must include either an Action or NotAction element"', doc: { Version: V12, Statement: { Effect: 'Allow', Resource: '*' } }, error: 'Policy statement must contain actions.' },
  { name: 'empty Action list', rule: 'IAM JSON policy grammar: <action_string_list>', doc: idStmt({ Action: [] }), error: /Action must not be empty/ },
  { name: 'unknown top-level key', rule: 'IAM JSON policy grammar: policy = { <version_block>? <id_block>? <statement_block> }', doc: { Version: V12, Statement: idStmt({}).Statement, Comment: 'x' }, error: /Unknown field Comment/ },
  { name: 'unknown statement key', rule: 'IAM JSON policy grammar: <statement> elements', doc: idStmt({ Effects: 'Allow' }), error: /Unknown field Effects/ },
  { name: 'invalid Version', rule: 'IAM JSON policy elements: Version — "2012-10-17" or "2008-10-17"', doc: { ...idStmt({}), Version: '2020-01-01' }, error: 'The policy must contain a valid version string' },
  { name: 'Version omitted is allowed (defaults to 2008-10-17)', rule: 'IAM JSON policy elements: Version — "If you do not include a Version element, the value defaults to 2008-10-17"', doc: { Statement: { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' } } },
  { name: 'Version 2008-10-17 accepted', rule: 'ecr.md §3.8: "accept both versions"', kind: 'resource', doc: { ...resStmt({}), Version: '2008-10-17' } },
  { name: 'Statement as a single object', rule: 'IAM JSON policy grammar: <statement_block> = "Statement" : [ <statement>, … ] | <statement>', doc: idStmt({}) },
  { name: 'missing Statement', rule: 'IAM JSON policy grammar: <statement_block> is required', doc: { Version: V12 }, error: 'Missing required field Statement' },
  { name: 'empty Statement list', rule: 'IAM JSON policy grammar: <statement_block> needs a statement', doc: { Version: V12, Statement: [] }, error: /Statement must not be empty/ },
  { name: 'not JSON', rule: 'IAM: MalformedPolicyDocument "Syntax errors in policy."', doc: '{"Version": "2012-10-17", "Statement": [', error: 'Syntax errors in policy.' },
  { name: 'JSON array document', rule: 'IAM JSON policy grammar: a policy is a JSON object', doc: '[]', error: 'Syntax errors in policy.' },
  { name: 'Statement entry not an object', rule: 'IAM JSON policy grammar: <statement> = { … }', doc: { Version: V12, Statement: ['x'] }, error: /Syntax errors in policy/ },
  { name: 'unknown condition operator', rule: 'Condition operators: the operator must be one of the documented ones', doc: idStmt({ Condition: { StringEqual: { 'aws:ResourceTag/a': 'b' } } }), error: 'Invalid Condition type : StringEqual' },
  { name: 'NullIfExists is not an operator', rule: 'Condition operators: "You can add IfExists to the end of any condition operator name except the Null condition"', doc: idStmt({ Condition: { NullIfExists: { 'aws:TokenIssueTime': 'true' } } }), error: /Invalid Condition type : NullIfExists/ },
  { name: 'ForAnyValue:Null is not an operator', rule: 'Set operators apply to comparison operators, not the Null existence check', doc: idStmt({ Condition: { 'ForAnyValue:Null': { 'aws:TagKeys': 'true' } } }), error: /Invalid Condition type/ },
  { name: 'ForAnyValue:StringLikeIfExists accepted', rule: 'Condition operators: IfExists on "any condition operator" plus set operators', doc: idStmt({ Condition: { 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'a*' } } }) },
  { name: 'every documented operator accepted', rule: 'IAM JSON policy elements: Condition operators (String, Numeric, Date, Bool, Binary, IP, ARN, Null)', doc: idStmt({ Condition: { StringEquals: { 'a:b': 'x' }, StringNotEquals: { 'a:b': 'x' }, StringEqualsIgnoreCase: { 'a:b': 'x' }, StringNotEqualsIgnoreCase: { 'a:b': 'x' }, StringLike: { 'a:b': 'x' }, StringNotLike: { 'a:b': 'x' }, NumericEquals: { 'a:b': '1' }, NumericNotEquals: { 'a:b': '1' }, NumericLessThan: { 'a:b': '1' }, NumericLessThanEquals: { 'a:b': '1' }, NumericGreaterThan: { 'a:b': '1' }, NumericGreaterThanEquals: { 'a:b': '1' }, DateEquals: { 'a:b': T }, DateNotEquals: { 'a:b': T }, DateLessThan: { 'a:b': T }, DateLessThanEquals: { 'a:b': T }, DateGreaterThan: { 'a:b': T }, DateGreaterThanEquals: { 'a:b': T }, Bool: { 'a:b': 'true' }, BinaryEquals: { 'a:b': 'AA==' }, IpAddress: { 'a:b': '10.0.0.0/8' }, NotIpAddress: { 'a:b': '::1' }, ArnEquals: { 'a:b': 'arn:aws:s3:::x' }, ArnLike: { 'a:b': 'arn:*' }, ArnNotEquals: { 'a:b': 'arn:aws:s3:::x' }, ArnNotLike: { 'a:b': 'arn:*' }, Null: { 'a:b': 'true' } } }) },
  { name: 'oversized document', rule: 'IAM quotas: "Cannot exceed quota for PolicySize"; ECR policyText ≤ 10,240 characters', doc: idStmt({ Sid: 'x'.repeat(200) }), options: { maxLength: 150 }, error: 'Cannot exceed quota for PolicySize: 150' },
  { name: 'document exactly at maxLength is accepted', rule: 'ECR SetRepositoryPolicy: policyText length 0–10,240', doc: '{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}', options: { maxLength: 64 } },
  { name: 'IAM size ignores whitespace', rule: 'IAM quotas: "IAM doesn\'t count white space when calculating the size of a policy"', doc: JSON.stringify(idStmt({}), null, 8), options: { maxLength: 110, lengthExcludesWhitespace: true } },
  { name: 'ecr:PushImage is not an ECR action', rule: 'ecr.md §1.5: invalid actions → "Invalid repository policy provided"; Service Authorization Reference lists no PushImage', doc: idStmt({ Action: 'ecr:PushImage' }), error: 'Invalid action: ecr:PushImage' },
  { name: 'ecr:Batch* matches known actions', rule: 'Action wildcards name the actions they match (Service Authorization Reference, ecr)', doc: idStmt({ Action: 'ecr:Batch*' }) },
  { name: 'ecr:Frobnicate* matches no ECR action', rule: 'A wildcard must match at least one action of the service (Berth decision; IAM Access Analyzer reports it as undefined)', doc: idStmt({ Action: 'ecr:Frobnicate*' }), error: 'Invalid action: ecr:Frobnicate*' },
  { name: 'ECR actions are validated case-insensitively', rule: R.action, doc: idStmt({ Action: 'ecr:batchgetimage' }) },
  { name: 'permission-only ecr:ReplicateImage is valid', rule: 'Service Authorization Reference (ecr): permission-only ReplicateImage', doc: idStmt({ Action: 'ecr:ReplicateImage' }) },
  { name: 'permission-only ecr:GetImageCopyStatus is valid', rule: 'Service Authorization Reference (ecr): permission-only GetImageCopyStatus', doc: idStmt({ Action: 'ecr:GetImageCopyStatus' }) },
  { name: 'ecr-public:PutImage is valid', rule: 'botocore ecr-public 2020-10-30 operations', doc: idStmt({ Action: 'ecr-public:PutImage' }) },
  { name: 'ecr-public:BatchGetImage is not an ECR Public action', rule: 'ecr.md §2.2: ECR Public has no BatchGetImage', doc: idStmt({ Action: 'ecr-public:BatchGetImage' }), error: 'Invalid action: ecr-public:BatchGetImage' },
  { name: 'sts:GetServiceBearerToken is valid', rule: 'ecr.md §2.2: ECR Public auth needs sts:GetServiceBearerToken', doc: idStmt({ Action: 'sts:GetServiceBearerToken' }) },
  { name: 'iam:PassRole is valid', rule: 'ecr.md §5.1: templates need iam:PassRole', doc: idStmt({ Action: 'iam:PassRole' }) },
  { name: 'sts:AssumeRoles is not an STS action', rule: 'Service Authorization Reference (sts)', doc: idStmt({ Action: 'sts:AssumeRoles' }), error: 'Invalid action: sts:AssumeRoles' },
  { name: 'unknown service prefixes are not validated', rule: 'IAM accepts actions of services it does not validate (only known prefixes are checked)', doc: idStmt({ Action: 's3:GetObject' }) },
  { name: 'validateActions=false accepts unknown ECR actions', rule: 'IAM identity policies do not reject undefined actions (Access Analyzer only warns)', doc: idStmt({ Action: 'ecr:PushImage' }), options: { validateActions: false } },
  { name: 'action without a vendor prefix', rule: 'IAM: "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."', doc: idStmt({ Action: 'BatchGetImage' }), error: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.' },
  { name: 'wildcard in the vendor prefix', rule: 'IAM JSON policy elements: Action — "service-prefix:action-name"; the prefix names one service', doc: idStmt({ Action: 'ec*:BatchGetImage' }), error: /vendors must not contain wildcards/ },
  { name: 'identity policy with Principal', rule: 'IAM: "Policy document should not specify a principal."', doc: idStmt({ Principal: '*' }), error: 'Policy document should not specify a principal.' },
  { name: 'identity policy with NotPrincipal', rule: 'NotPrincipal: "You cannot use the NotPrincipal element in an IAM identity-based policy"', doc: idStmt({ NotPrincipal: { AWS: A } }), error: 'Policy document should not specify a principal.' },
  { name: 'resource policy without Principal', rule: 'AWS JSON policy elements: Principal — "You must use the Principal element in resource-based policies"', kind: 'resource', doc: { Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:BatchGetImage' } }, error: 'Missing required field Principal' },
  { name: 'resource policy with both Principal and NotPrincipal', rule: 'IAM JSON policy grammar: <principal_block> = ("Principal" | "NotPrincipal")', kind: 'resource', doc: resStmt({ NotPrincipal: { AWS: A } }), error: /both Principal and NotPrincipal/ },
  { name: 'wildcard inside a principal ARN', rule: 'AWS JSON policy elements: Principal — "You cannot use a wildcard to match part of a principal name or ARN"', kind: 'resource', doc: resStmt({ Principal: { AWS: 'arn:aws:iam::123456789012:*' } }), error: 'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:*"' },
  { name: 'unknown principal type key', rule: 'AWS JSON policy elements: Principal — AWS, Service, Federated, CanonicalUser', kind: 'resource', doc: resStmt({ Principal: { User: 'alice' } }), error: /Invalid principal in policy: "User"/ },
  { name: 'Principal string other than "*"', rule: 'AWS JSON policy elements: Principal — "Principal": "*" or an object', kind: 'resource', doc: resStmt({ Principal: 'arn:aws:iam::123456789012:root' }), error: /Invalid principal in policy/ },
  { name: 'group ARN is not a principal', rule: 'AWS JSON policy elements: Principal — "You cannot identify a user group as a principal"', kind: 'resource', doc: resStmt({ Principal: { AWS: 'arn:aws:iam::123456789012:group/devs' } }), error: /Invalid principal in policy/ },
  { name: 'account id, role, session and service principals accepted', rule: 'AWS JSON policy elements: Principal', kind: 'resource', doc: resStmt({ Principal: { AWS: ['123456789012', 'arn:aws:iam::123456789012:role/path/r', 'arn:aws:sts::123456789012:assumed-role/r/s', 'arn:aws:sts::123456789012:federated-user/f'], Service: ['codebuild.amazonaws.com'] } }) },
  { name: 'identity policy without Resource', rule: 'IAM JSON policy elements: Resource — "Statements must include either a Resource or a NotResource element"', doc: { Version: V12, Statement: { Effect: 'Allow', Action: 'ecr:BatchGetImage' } }, error: 'Policy statement must contain resources.' },
  { name: 'repository policy without Resource is fine', rule: 'ecr.md §3.8: "No Resource element (implicit: this repository)"', kind: 'resource', doc: resStmt({}) },
  { name: 'Resource forbidden for ECR repository policies', rule: 'awsdocs/amazon-ecr-user-guide#20: a Resource element gave "Invalid repository policy provided"', kind: 'resource', options: { resourceElement: 'forbidden' }, doc: resStmt({ Resource: REPO }), error: 'Has prohibited field Resource' },
  { name: 'Resource that is not an ARN', rule: 'IAM: "Resource … must be in ARN format or \\"*\\""', doc: idStmt({ Resource: 'repository/app' }), error: 'Resource repository/app must be in ARN format or "*".' },
  { name: 'both Resource and NotResource', rule: 'IAM JSON policy grammar: <resource_block> = ("Resource" | "NotResource")', doc: idStmt({ NotResource: REPO }), error: /both Resource and NotResource/ },
  { name: 'duplicate Sid', rule: 'IAM: "Statement IDs (SID) in a single policy must be unique."', doc: { Version: V12, Statement: [{ Sid: 'A', Effect: 'Allow', Action: 'ecr:*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: 'ecr:*', Resource: '*' }] }, error: 'Statement IDs (SID) in a single policy must be unique.' },
  { name: 'identity Sid must be alphanumeric', rule: 'IAM JSON policy elements: Sid — "In IAM, the Sid value is limited to ASCII uppercase letters (A-Z), lowercase letters (a-z), and numbers (0-9)"', doc: idStmt({ Sid: 'allow pull' }), error: /must be alpha-numeric/ },
  { name: 'repository policy Sid may contain spaces', rule: 'IAM JSON policy elements: Sid — other services (ECR) accept a wider Sid alphabet', kind: 'resource', doc: resStmt({ Sid: 'allow pull' }) },
  { name: 'condition key without a vendor', rule: 'IAM: "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."', doc: idStmt({ Condition: { StringEquals: { SourceIp: 'x' } } }), error: /must be prefaced by a vendor/ },
  { name: 'condition value that is an object', rule: 'IAM JSON policy grammar: <condition_value_list> = <condition_value> | [<condition_value>, …]', doc: idStmt({ Condition: { StringEquals: { 'aws:a': { x: 1 } } } }), error: /Syntax errors in policy/ },
  { name: 'Condition that is not an object', rule: 'IAM JSON policy grammar: <condition_block> = "Condition" : { <condition_map> }', doc: idStmt({ Condition: ['x'] }), error: /Condition must be a JSON object/ },
  { name: 'invalid CIDR', rule: 'Condition operators, IP: "The value must be in the standard CIDR format"', doc: idStmt({ Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1/24' } } }), error: /Invalid IP address or CIDR/ },
  { name: 'invalid CIDR prefix length', rule: 'Condition operators, IP: "The value must be in the standard CIDR format"', doc: idStmt({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), error: /Invalid IP address or CIDR/ },
  { name: 'invalid numeric value', rule: 'Condition operators, Numeric: "an integer or decimal value"', doc: idStmt({ Condition: { NumericLessThan: { 'ecr:count': 'ten' } } }), error: /Invalid numeric value/ },
  { name: 'invalid date value', rule: R.date, doc: idStmt({ Condition: { DateLessThan: { 'aws:CurrentTime': 'next tuesday' } } }), error: /Invalid date value/ },
  { name: 'Null value other than true/false', rule: R.nullOp, doc: idStmt({ Condition: { Null: { 'aws:TokenIssueTime': 'maybe' } } }), error: /Invalid value for Null condition/ },
  { name: 'Id element accepted', rule: 'IAM JSON policy elements: Id — "an optional identifier for the policy"', doc: { ...idStmt({}), Id: 'policy-1' } },
  { name: 'managed FullAccess document is valid', rule: R.managed, doc: AmazonEC2ContainerRegistryFullAccess.document },
  { name: 'managed PowerUser document is valid', rule: R.managed, doc: AmazonEC2ContainerRegistryPowerUser.document },
  { name: 'managed ReadOnly document is valid', rule: R.managed, doc: AmazonEC2ContainerRegistryReadOnly.document },
  { name: 'managed PullOnly document is valid', rule: R.managed, doc: AmazonEC2ContainerRegistryPullOnly.document },
];

// ---------------------------------------------------------------------------------------------
// Runners
// ---------------------------------------------------------------------------------------------

function toPolicy(d: Doc | Policy, kind: 'identity' | 'resource'): Policy {
  if ('statements' in d && Array.isArray(d.statements)) return d as Policy;
  return parsePolicy(JSON.stringify(d), { kind });
}

describe('IAM policy evaluation (table)', () => {
  for (const c of evalCases) {
    test(`${c.name} — ${c.rule}`, () => {
      const principal = c.principal ?? alice;
      const request = {
        principal,
        action: c.action ?? 'ecr:BatchGetImage',
        resource: c.resource ?? REPO,
        resourceAccountId: c.resourceAccountId ?? A,
        context: c.context ?? {},
        time: c.time === undefined ? undefined : new Date(c.time),
      };
      const result = evaluate(request, {
        identity: (c.identity ?? []).map((d) => toPolicy(d, 'identity')),
        resource: (c.resourcePolicies ?? []).map((d) => toPolicy(d, 'resource')),
        resourceMustAllow: c.trustPolicy === true,
      });
      assert.equal(result.decision, c.expect, `decision (reason ${result.reason})`);
      if (c.reason) assert.equal(result.reason, c.reason);
    });
  }
});

describe('IAM policy validation (table)', () => {
  for (const c of parseCases) {
    test(`${c.name} — ${c.rule}`, () => {
      const text = typeof c.doc === 'string' ? c.doc : JSON.stringify(c.doc);
      const options: ParseOptions = { kind: c.kind ?? 'identity', ...c.options };
      if (c.error === undefined) {
        assert.doesNotThrow(() => parsePolicy(text, options));
        return;
      }
      assert.throws(
        () => parsePolicy(text, options),
        (e: unknown) => {
          assert.ok(e instanceof PolicyError, 'PolicyError');
          assert.equal(e.code, 'MalformedPolicyDocument');
          if (typeof c.error === 'string') assert.equal(e.message, c.error);
          else assert.match(e.message, c.error as RegExp);
          return true;
        },
      );
    });
  }
});

test('the suite has at least 150 table cases', () => {
  assert.ok(evalCases.length + parseCases.length >= 150, `${evalCases.length + parseCases.length} cases`);
});

// ---------------------------------------------------------------------------------------------
// API details
// ---------------------------------------------------------------------------------------------

describe('AccessDenied messages (ecr.md §2.1)', () => {
  const base = { principal: alice, action: 'ecr:PutImage', resource: REPO, resourceAccountId: A };
  const head = `User: ${alice.arn} is not authorized to perform: ecr:PutImage on resource: ${REPO}`;

  test('no identity-based policy allows', () => {
    const r = evaluate(base, { identity: [] });
    assert.equal(accessDeniedMessage(base, r), `${head} because no identity-based policy allows the ecr:PutImage action`);
  });

  test('no resource-based policy allows (cross-account)', () => {
    const req = { ...base, principal: carol };
    const r = evaluate(req, { identity: [toPolicy(allowDoc(), 'identity')] });
    assert.equal(
      accessDeniedMessage(req, r),
      `User: ${carol.arn} is not authorized to perform: ecr:PutImage on resource: ${REPO} because no resource-based policy allows the ecr:PutImage action`,
    );
  });

  test('explicit deny in an identity-based policy (with the policy ARN when known)', () => {
    const deny = parsePolicy(JSON.stringify(denyDoc()), { kind: 'identity', name: `arn:aws:iam::${A}:policy/NoPush` });
    const r = evaluate(base, { identity: [deny] });
    assert.equal(accessDeniedMessage(base, r), `${head} with an explicit deny in an identity-based policy: arn:aws:iam::${A}:policy/NoPush`);
    const anon = evaluate(base, { identity: [toPolicy(denyDoc(), 'identity')] });
    assert.equal(accessDeniedMessage(base, anon), `${head} with an explicit deny in an identity-based policy`);
  });

  test('explicit deny in a resource-based policy', () => {
    const r = evaluate(base, { identity: [toPolicy(allowDoc(), 'identity')], resource: [toPolicy(resDoc({ Effect: 'Deny', Principal: '*', Action: 'ecr:*' }), 'resource')] });
    assert.equal(accessDeniedMessage(base, r), `${head} with an explicit deny in a resource-based policy`);
  });

  test('an allowed request has no AccessDenied message', () => {
    const r = evaluate(base, { identity: [AmazonEC2ContainerRegistryPowerUser.policy] });
    assert.throws(() => accessDeniedMessage(base, r), RangeError);
  });
});

describe('evaluation result details', () => {
  test('matchedStatement names the deciding statement', () => {
    const p = parsePolicy(JSON.stringify({ Version: V12, Statement: [{ Sid: 'Pull', Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' }, { Sid: 'NoDelete', Effect: 'Deny', Action: 'ecr:Delete*', Resource: '*' }] }), { kind: 'identity', name: 'team' });
    const allow = evaluate({ principal: alice, action: 'ecr:BatchGetImage', resource: REPO, resourceAccountId: A }, { identity: [p] });
    assert.deepEqual(allow.matchedStatement, { policyType: 'identity', policyIndex: 0, statementIndex: 0, sid: 'Pull', policyName: 'team', effect: 'Allow' });
    const deny = evaluate({ principal: alice, action: 'ecr:DeleteRepository', resource: REPO, resourceAccountId: A }, { identity: [p] });
    assert.equal(deny.matchedStatement?.sid, 'NoDelete');
    assert.equal(deny.matchedStatement?.statementIndex, 1);
  });

  test('cross-account allow reports both statements', () => {
    const r = evaluate(
      { principal: carol, action: 'ecr:BatchGetImage', resource: REPO, resourceAccountId: A },
      { identity: [toPolicy(allowDoc(), 'identity')], resource: [toPolicy(resDoc({ Effect: 'Allow', Principal: { AWS: B }, Action: 'ecr:*' }), 'resource')] },
    );
    assert.equal(r.crossAccount, true);
    assert.deepEqual(r.matchedStatements?.map((s) => s.policyType), ['identity', 'resource']);
  });

  test('tryParsePolicy / validatePolicy return the typed error', () => {
    const bad = '{"Statement":{"Action":"ecr:*","Resource":"*"}}';
    assert.deepEqual(tryParsePolicy(bad, { kind: 'identity' }), { ok: false, error: { code: 'MalformedPolicyDocument', message: 'Missing required field Effect' } });
    assert.deepEqual(validatePolicy(bad, { kind: 'identity' }), { code: 'MalformedPolicyDocument', message: 'Missing required field Effect' });
    assert.equal(validatePolicy(JSON.stringify(allowDoc()), { kind: 'identity' }), undefined);
    const ok = tryParsePolicy(JSON.stringify(allowDoc()), { kind: 'identity' });
    assert.ok(ok.ok && ok.policy.version === V12);
  });

  test('principalFromArn classifies ARNs', () => {
    assert.equal(principalFromArn(`arn:aws:iam::${A}:root`).type, 'Account');
    assert.equal(principalFromArn(`arn:aws:iam::${A}:user/x`).username, 'x');
    assert.equal(principalFromArn(`arn:aws:sts::${A}:assumed-role/r/s`).type, 'AssumedRole');
    assert.equal(principalFromArn(`arn:aws:sts::${A}:federated-user/f`).type, 'FederatedUser');
    assert.throws(() => principalFromArn('arn:aws:s3:::bucket'), TypeError);
  });
});

describe('AWS managed ECR policies', () => {
  test('names, ARNs and lookup', () => {
    assert.deepEqual([...AWS_MANAGED_ECR_POLICIES.keys()], [
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly',
    ]);
    assert.equal(getManagedPolicy('AmazonEC2ContainerRegistryPullOnly'), AmazonEC2ContainerRegistryPullOnly);
    assert.equal(getManagedPolicy('arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly'), AmazonEC2ContainerRegistryReadOnly);
    assert.equal(getManagedPolicy('Nope'), undefined);
  });

  test('documents match the AWS Managed Policy reference', () => {
    const readOnly = ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:GetRepositoryPolicy', 'ecr:DescribeRepositories', 'ecr:ListImages', 'ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:GetLifecyclePolicy', 'ecr:GetLifecyclePolicyPreview', 'ecr:ListTagsForResource', 'ecr:DescribeImageScanFindings'];
    assert.deepEqual(AmazonEC2ContainerRegistryReadOnly.document, { Version: V12, Statement: [{ Effect: 'Allow', Action: readOnly, Resource: '*' }] });
    assert.deepEqual(AmazonEC2ContainerRegistryPowerUser.document, { Version: V12, Statement: [{ Effect: 'Allow', Action: [...readOnly, 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'], Resource: '*' }] });
    assert.deepEqual(AmazonEC2ContainerRegistryPullOnly.document, { Version: V12, Statement: [{ Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchImportUpstreamImage'], Resource: '*' }] });
    assert.deepEqual(AmazonEC2ContainerRegistryFullAccess.document, {
      Version: V12,
      Statement: [
        { Effect: 'Allow', Action: ['ecr:*', 'cloudtrail:LookupEvents'], Resource: '*' },
        { Effect: 'Allow', Action: ['iam:CreateServiceLinkedRole'], Resource: '*', Condition: { StringEquals: { 'iam:AWSServiceName': ['replication.ecr.amazonaws.com'] } } },
      ],
    });
  });

  test('FullAccess allows every ECR action', () => {
    for (const action of ECR_ACTIONS) {
      const r = evaluate({ principal: alice, action: `ecr:${action}`, resource: REPO, resourceAccountId: A }, { identity: [AmazonEC2ContainerRegistryFullAccess.policy] });
      assert.equal(r.decision, 'Allow', action);
    }
  });

  test('the ECR action list has the 58 API operations', () => {
    assert.equal(ECR_API_ACTIONS.length, 58);
    assert.equal(ECR_ACTIONS.length, 61);
  });
});

describe('a hot-path shaped request', () => {
  test('PowerUser, an IP-conditioned deny and a tag-matching resource grant: allowed', () => {
    const identity = [AmazonEC2ContainerRegistryPowerUser.policy, toPolicy(denyDoc({ Action: 'ecr:Delete*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), 'identity')];
    const resource = [toPolicy(resDoc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/ci` }, Action: 'ecr:*', Condition: { StringEquals: { 'aws:ResourceTag/env': '${aws:PrincipalTag/env}' } } }), 'resource')];
    const request = { principal: ciSession, action: 'ecr:PutImage', resource: REPO, resourceAccountId: A, context: { 'aws:SourceIp': '10.1.1.1', 'aws:ResourceTag/env': 'prod', 'aws:PrincipalTag/env': 'prod' } };
    assert.equal(evaluate(request, { identity, resource }).decision, 'Allow');
  });
});
