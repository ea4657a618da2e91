/**
 * Condition operators ("IAM JSON policy elements: Condition operators") compiled once per policy.
 *
 * Semantics implemented (quotes from the IAM User Guide):
 * - Multiple operators in a Condition block, and multiple keys under one operator, are ANDed;
 *   multiple values for one key are ORed, and for a negated operator NORed ("If a single negated
 *   matching condition operator includes multiple values for a context key, those values are
 *   evaluated using a logical NOR").
 * - Missing key: "the values do not match and the condition is false. If the policy condition
 *   requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is
 *   not present, the condition is true. This logic applies to all condition operators except
 *   ...IfExists and Null check."
 * - `…IfExists`: "If the key is not present, evaluate the condition element as true." Not allowed
 *   on `Null`.
 * - `ForAllValues:` "returns true if every context key value in the request matches at least one
 *   context key value in the policy. It also returns true if there are no context keys in the
 *   request"; `ForAnyValue:` returns true if at least one request value matches and false when the
 *   key is absent / resolves to an empty set.
 * - A multi-valued request key used without a set operator is evaluated like `ForAnyValue:`
 *   (AWS only says "Multivalued context keys require a condition set operator"; see report).
 * - Policy variables are honoured for String, ARN and Bool operators only ("You can use a policy
 *   variable for Condition values in any condition that involves the string operators or the ARN
 *   operators"; "You can use a policy variable with the Boolean condition operator").
 * - Date values: "W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time".
 *   A value of only digits is taken as epoch seconds.
 * - IP values: CIDR, bare address = /32 (IPv6: /128).
 */

import { cidrContains, parseCidr, parseIp, type Cidr } from './ip.js';
import { NO_VARIABLES, PatternSet, parseTemplate, renderText, type Template, type VariableResolver } from './wildcard.js';
import { PolicyError } from './errors.js';

type BaseOperator =
  | 'StringEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringLike'
  | 'NumericEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'DateEquals'
  | 'DateLessThan'
  | 'DateLessThanEquals'
  | 'DateGreaterThan'
  | 'DateGreaterThanEquals'
  | 'Bool'
  | 'BinaryEquals'
  | 'IpAddress'
  | 'ArnLike'
  | 'Null';

/** Every operator name accepted (before `IfExists` / set-operator decoration) → base + negation. */
const OPERATORS: ReadonlyMap<string, { name: string; base: BaseOperator; negated: boolean }> = new Map(
  (
    [
      ['StringEquals', 'StringEquals', false],
      ['StringNotEquals', 'StringEquals', true],
      ['StringEqualsIgnoreCase', 'StringEqualsIgnoreCase', false],
      ['StringNotEqualsIgnoreCase', 'StringEqualsIgnoreCase', true],
      ['StringLike', 'StringLike', false],
      ['StringNotLike', 'StringLike', true],
      ['NumericEquals', 'NumericEquals', false],
      ['NumericNotEquals', 'NumericEquals', true],
      ['NumericLessThan', 'NumericLessThan', false],
      ['NumericLessThanEquals', 'NumericLessThanEquals', false],
      ['NumericGreaterThan', 'NumericGreaterThan', false],
      ['NumericGreaterThanEquals', 'NumericGreaterThanEquals', false],
      ['DateEquals', 'DateEquals', false],
      ['DateNotEquals', 'DateEquals', true],
      ['DateLessThan', 'DateLessThan', false],
      ['DateLessThanEquals', 'DateLessThanEquals', false],
      ['DateGreaterThan', 'DateGreaterThan', false],
      ['DateGreaterThanEquals', 'DateGreaterThanEquals', false],
      ['Bool', 'Bool', false],
      ['BinaryEquals', 'BinaryEquals', false],
      ['IpAddress', 'IpAddress', false],
      ['NotIpAddress', 'IpAddress', true],
      ['ArnEquals', 'ArnLike', false],
      ['ArnLike', 'ArnLike', false],
      ['ArnNotEquals', 'ArnLike', true],
      ['ArnNotLike', 'ArnLike', true],
      ['Null', 'Null', false],
    ] as const
  ).map(([name, base, negated]) => [name.toLowerCase(), { name, base, negated }]),
);

/** The operator names (without decoration), for documentation and tests. */
export const CONDITION_OPERATORS: readonly string[] = [...OPERATORS.values()].map((o) => o.name);

type SetOp = 'None' | 'ForAnyValue' | 'ForAllValues';

/** Result of testing one request value: 0 = no match, 1 = match, 2 = unresolvable policy variable. */
type Tri = 0 | 1 | 2;

/** The request context seen by conditions. */
export interface ConditionContext extends VariableResolver {
  /** A context key's values (key lower-cased, `key` as written), or undefined when absent / an empty set. */
  lookup(keyLower: string, key: string): readonly string[] | undefined;
}

export interface CompiledCondition {
  /** The operator as written in the policy (e.g. `ForAnyValue:StringLikeIfExists`). */
  readonly operator: string;
  readonly key: string;
  readonly keyLower: string;
  evaluate(ctx: ConditionContext): boolean;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;
// W3C profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm(:ss(.s+)?)?TZD
const W3C_DATE = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

function parseNumber(text: string): number | undefined {
  const s = text.trim();
  return NUMBER.test(s) ? Number(s) : undefined;
}

/** Epoch milliseconds of a date value (ISO 8601 / W3C, or epoch seconds), or undefined. */
export function parseDate(text: string): number | undefined {
  const s = text.trim();
  if (EPOCH.test(s)) return Number(s) * 1000;
  if (!W3C_DATE.test(s)) return undefined;
  // A date-time without a zone designator is read as UTC (Date.parse would use local time).
  const withZone = /T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(s) ? s + 'Z' : s;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}

type Scalar = string | number | boolean;

function toStrings(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const out: string[] = [];
  for (const v of list) {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v as Scalar));
    else throw new PolicyError(`Syntax errors in policy. Condition value for ${where} must be a string, number, boolean or an array of them`);
  }
  return out;
}

/** Parse an operator name with optional `ForAnyValue:` / `ForAllValues:` prefix and `IfExists` suffix. */
function parseOperator(op: string): { base: BaseOperator; negated: boolean; set: SetOp; ifExists: boolean } {
  let rest = op;
  let set: SetOp = 'None';
  const lower = rest.toLowerCase();
  if (lower.startsWith('foranyvalue:')) {
    set = 'ForAnyValue';
    rest = rest.slice('ForAnyValue:'.length);
  } else if (lower.startsWith('forallvalues:')) {
    set = 'ForAllValues';
    rest = rest.slice('ForAllValues:'.length);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const found = OPERATORS.get(rest.toLowerCase());
  if (!found || (found.base === 'Null' && (ifExists || set !== 'None'))) {
    throw new PolicyError(`Invalid Condition type : ${op}`);
  }
  return { base: found.base, negated: found.negated, set, ifExists };
}

/** Builds the positive per-value test for a base operator. */
function buildTest(base: BaseOperator, raw: readonly string[], variables: boolean, where: string): (v: string, resolve: VariableResolver) => Tri {
  switch (base) {
    case 'StringEquals':
    case 'StringEqualsIgnoreCase': {
      const ignoreCase = base === 'StringEqualsIgnoreCase';
      const templates = raw.map((r) => parseTemplate(r, variables));
      const statics = new Set<string>();
      const dynamic: Template[] = [];
      for (const t of templates) {
        if (t.dynamic) dynamic.push(t);
        else {
          const text = renderText(t, NO_VARIABLES) ?? t.raw;
          statics.add(ignoreCase ? text.toLowerCase() : text);
        }
      }
      return (v, resolve) => {
        const probe = ignoreCase ? v.toLowerCase() : v;
        if (statics.has(probe)) return 1;
        let invalid = false;
        for (const t of dynamic) {
          const text = renderText(t, resolve);
          if (text === undefined) invalid = true;
          else if ((ignoreCase ? text.toLowerCase() : text) === probe) return 1;
        }
        return invalid ? 2 : 0;
      };
    }
    case 'StringLike':
    case 'ArnLike': {
      const set = new PatternSet(
        raw.map((r) => parseTemplate(r, variables)),
        base === 'ArnLike' ? 'arn' : 'plain',
        false,
      );
      return (v, resolve) => {
        const r = set.test(v, v, resolve);
        return r === true ? 1 : r === 'invalid' ? 2 : 0;
      };
    }
    case 'Bool': {
      const templates = raw.map((r) => parseTemplate(r, variables));
      return (v, resolve) => {
        const probe = v.toLowerCase();
        let invalid = false;
        for (const t of templates) {
          const text = renderText(t, resolve);
          if (text === undefined) invalid = true;
          else if (text.toLowerCase() === probe) return 1;
        }
        return invalid ? 2 : 0;
      };
    }
    case 'BinaryEquals': {
      const values = new Set(raw);
      return (v) => (values.has(v) ? 1 : 0);
    }
    case 'IpAddress': {
      const cidrs: Cidr[] = raw.map((r) => {
        const c = parseCidr(r);
        if (!c) throw new PolicyError(`Invalid IP address or CIDR in condition ${where}: ${r}`);
        return c;
      });
      return (v) => {
        const ip = parseIp(v);
        if (!ip) return 0;
        for (const c of cidrs) if (cidrContains(c, ip)) return 1;
        return 0;
      };
    }
    case 'NumericEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      const nums = raw.map((r) => {
        const n = parseNumber(r);
        if (n === undefined) throw new PolicyError(`Invalid numeric value in condition ${where}: ${r}`);
        return n;
      });
      const cmp = comparator(base);
      return (v) => {
        const n = parseNumber(v);
        if (n === undefined) return 0;
        for (const p of nums) if (cmp(n, p)) return 1;
        return 0;
      };
    }
    case 'DateEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals': {
      const dates = raw.map((r) => {
        const d = parseDate(r);
        if (d === undefined) throw new PolicyError(`Invalid date value in condition ${where}: ${r}`);
        return d;
      });
      const cmp = comparator(base);
      return (v) => {
        const d = parseDate(v);
        if (d === undefined) return 0;
        for (const p of dates) if (cmp(d, p)) return 1;
        return 0;
      };
    }
    case 'Null':
      throw new Error('unreachable: Null has no value test');
  }
}

function comparator(base: BaseOperator): (request: number, policy: number) => boolean {
  if (base.endsWith('LessThanEquals')) return (r, p) => r <= p;
  if (base.endsWith('LessThan')) return (r, p) => r < p;
  if (base.endsWith('GreaterThanEquals')) return (r, p) => r >= p;
  if (base.endsWith('GreaterThan')) return (r, p) => r > p;
  return (r, p) => r === p;
}

/** Compile one `"Operator": { "key": value(s) }` entry (one key). */
export function compileCondition(operator: string, key: string, value: unknown, variables: boolean): CompiledCondition {
  const { base, negated, set, ifExists } = parseOperator(operator);
  if (!key.includes(':') || key.startsWith(':')) {
    throw new PolicyError('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  }
  const where = `${operator}/${key}`;
  const raw = toStrings(value, where);
  const keyLower = key.toLowerCase();

  if (base === 'Null') {
    const expectAbsent = raw.map((r) => {
      const l = r.toLowerCase();
      if (l !== 'true' && l !== 'false') throw new PolicyError(`Invalid value for Null condition ${key}: ${r} (expected true or false)`);
      return l === 'true';
    });
    return {
      operator,
      key,
      keyLower,
      // "use either true (the key doesn't exist — it is null) or false (the key exists and its value is not null)"
      evaluate: (ctx) => {
        const absent = ctx.lookup(keyLower, key) === undefined;
        return expectAbsent.includes(absent);
      },
    };
  }

  const test = buildTest(base, raw, variables, where);
  return {
    operator,
    key,
    keyLower,
    evaluate: (ctx) => {
      const values = ctx.lookup(keyLower, key);
      if (values === undefined) {
        if (ifExists) return true;
        if (set === 'ForAllValues') return true;
        if (set === 'ForAnyValue') return false;
        return negated;
      }
      if (set === 'ForAllValues') {
        for (const v of values) {
          const r = test(v, ctx);
          if (r === 2) return false;
          if ((r === 1) === negated) return false;
        }
        return true;
      }
      // ForAnyValue, and plain operators (single value, or multi-valued treated as ForAnyValue).
      for (const v of values) {
        const r = test(v, ctx);
        if (r === 2) return false;
        if ((r === 1) !== negated) return true;
      }
      return false;
    },
  };
}
