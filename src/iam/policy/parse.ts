/**
 * Policy-document parsing and validation ("IAM JSON policy grammar", "IAM JSON policy elements").
 * A document is parsed and compiled once; `evaluate` then only runs precompiled matchers.
 */

import { KNOWN_SERVICE_ACTIONS } from './actions.js';
import { compileCondition, type CompiledCondition } from './conditions.js';
import { PolicyError, type PolicyErrorShape } from './errors.js';
import { compilePrincipal, type PrincipalSpec } from './principal.js';
import { PatternSet, globSource, parseTemplate } from './wildcard.js';

export type PolicyKind = 'identity' | 'resource';
export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';

export interface ParseOptions {
  /**
   * `identity`: policies attached to users/roles — must not contain Principal/NotPrincipal
   * ("Policy document should not specify a principal."). `resource`: repository and registry
   * policies — every statement needs Principal or NotPrincipal.
   */
  readonly kind: PolicyKind;
  /** Maximum document size in characters (IAM managed policy 6,144; inline user 2,048; role 10,240;
   * ECR repository / registry policy text 10,240). Omit for no limit. */
  readonly maxLength?: number;
  /** Count only non-whitespace characters against `maxLength`, as IAM does ("IAM doesn't count
   * white space when calculating the size of a policy"). ECR's `policyText` limit counts all. */
  readonly lengthExcludesWhitespace?: boolean;
  /** Whether statements need a Resource/NotResource element. Default: identity `required`,
   * resource `optional` (a repository policy without Resource applies to its repository).
   * ECR repository policies historically rejected a Resource element — use `forbidden` there. */
  readonly resourceElement?: 'required' | 'optional' | 'forbidden';
  /** Reject actions that name no known action of a known service prefix (default true). */
  readonly validateActions?: boolean;
  /** Known actions by lower-case service prefix (default {@link KNOWN_SERVICE_ACTIONS}). */
  readonly knownActions?: ReadonlyMap<string, readonly string[]>;
  /** A label for this policy (e.g. its ARN or name), reported in evaluation results / messages. */
  readonly name?: string;
}

/** A statement compiled for evaluation. */
export interface PolicyStatement {
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** @internal compiled Action/NotAction patterns (case-insensitive). */
  readonly actions: PatternSet;
  readonly notAction: boolean;
  /** @internal compiled Resource/NotResource patterns; undefined = element absent (resource policy: this resource). */
  readonly resources: PatternSet | undefined;
  readonly notResource: boolean;
  /** @internal */
  readonly principal: PrincipalSpec | undefined;
  readonly notPrincipal: boolean;
  /** @internal one entry per (operator, key), all ANDed. */
  readonly conditions: readonly CompiledCondition[];
}

export interface Policy {
  readonly kind: PolicyKind;
  readonly version: PolicyVersion;
  /** The document's `Id` element, if any. */
  readonly id: string | undefined;
  /** Caller-supplied label (ParseOptions.name). */
  readonly name: string | undefined;
  /** The parsed JSON document, as given. */
  readonly document: Readonly<Record<string, unknown>>;
  readonly statements: readonly PolicyStatement[];
  /** @internal statements split by effect, for deny-first evaluation. */
  readonly denies: readonly PolicyStatement[];
  readonly allows: readonly PolicyStatement[];
}

const TOP_LEVEL_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const ACTION = /^([A-Za-z0-9-]+):([A-Za-z0-9*?_-]+)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function countLength(text: string, excludeWhitespace: boolean): number {
  if (!excludeWhitespace) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) n++;
  }
  return n;
}

function stringOrList(field: string, value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new PolicyError(`Syntax errors in policy. ${field} must not be empty`);
  return list.map((v) => {
    if (typeof v !== 'string') throw new PolicyError(`Syntax errors in policy. ${field} values must be strings`);
    return v;
  });
}

function validateAction(action: string, known: ReadonlyMap<string, readonly string[]> | undefined): void {
  if (action === '*') return;
  const m = ACTION.exec(action);
  if (!m) {
    if (/^[^:]*[*?][^:]*:/.test(action)) throw new PolicyError(`Action vendors must not contain wildcards: ${action}`);
    throw new PolicyError('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  }
  if (!known) return;
  const prefix = (m[1] ?? '').toLowerCase();
  const name = m[2] ?? '';
  const list = known.get(prefix);
  if (!list) return;
  // A wildcard pattern is valid when it names at least one action of the service.
  const re = new RegExp('^' + globSource(name) + '$', 'i');
  if (!list.some((a) => re.test(a))) throw new PolicyError(`Invalid action: ${action}`);
}

function compileStatement(raw: unknown, index: number, version: PolicyVersion, opts: ParseOptions, sids: Set<string>): PolicyStatement {
  if (!isObject(raw)) throw new PolicyError('Syntax errors in policy. Each Statement must be a JSON object');
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) throw new PolicyError(`Syntax errors in policy. Unknown field ${key}`);
  }
  const variables = version === '2012-10-17';

  // Sid
  let sid: string | undefined;
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') throw new PolicyError('Syntax errors in policy. Sid must be a string');
    sid = raw.Sid;
    if (opts.kind === 'identity' && !/^[0-9A-Za-z]*$/.test(sid)) {
      throw new PolicyError('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
    }
    if (sid !== '') {
      if (sids.has(sid)) throw new PolicyError('Statement IDs (SID) in a single policy must be unique.');
      sids.add(sid);
    }
  }

  // Effect
  if (raw.Effect === undefined) throw new PolicyError('Missing required field Effect');
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw new PolicyError(`Invalid effect: ${String(raw.Effect)}`);
  const effect: Effect = raw.Effect;

  // Principal / NotPrincipal
  const hasPrincipal = raw.Principal !== undefined;
  const hasNotPrincipal = raw.NotPrincipal !== undefined;
  let principal: PrincipalSpec | undefined;
  if (opts.kind === 'identity') {
    if (hasPrincipal || hasNotPrincipal) throw new PolicyError('Policy document should not specify a principal.');
  } else {
    if (hasPrincipal && hasNotPrincipal) throw new PolicyError('Syntax errors in policy. A statement cannot contain both Principal and NotPrincipal');
    if (!hasPrincipal && !hasNotPrincipal) throw new PolicyError('Missing required field Principal');
    principal = compilePrincipal(hasPrincipal ? raw.Principal : raw.NotPrincipal);
  }

  // Action / NotAction
  if (raw.Action !== undefined && raw.NotAction !== undefined) {
    throw new PolicyError('Syntax errors in policy. A statement cannot contain both Action and NotAction');
  }
  const actionField = raw.Action !== undefined ? 'Action' : 'NotAction';
  const actionValue = raw.Action ?? raw.NotAction;
  if (actionValue === undefined) throw new PolicyError('Policy statement must contain actions.');
  const actionList = stringOrList(actionField, actionValue);
  const known = opts.validateActions === false ? undefined : (opts.knownActions ?? KNOWN_SERVICE_ACTIONS);
  for (const a of actionList) validateAction(a, known);
  // Actions take no policy variables: compile as literal glob text.
  const actions = new PatternSet(
    actionList.map((a) => parseTemplate(a, false)),
    'plain',
    true,
  );

  // Resource / NotResource
  if (raw.Resource !== undefined && raw.NotResource !== undefined) {
    throw new PolicyError('Syntax errors in policy. A statement cannot contain both Resource and NotResource');
  }
  const resourceMode = opts.resourceElement ?? (opts.kind === 'identity' ? 'required' : 'optional');
  const resourceField = raw.Resource !== undefined ? 'Resource' : 'NotResource';
  const resourceValue = raw.Resource ?? raw.NotResource;
  let resources: PatternSet | undefined;
  if (resourceValue === undefined) {
    if (resourceMode === 'required') throw new PolicyError('Policy statement must contain resources.');
  } else {
    if (resourceMode === 'forbidden') throw new PolicyError(`Has prohibited field ${resourceField}`);
    const list = stringOrList(resourceField, resourceValue);
    for (const r of list) {
      if (r !== '*' && !r.startsWith('arn:')) throw new PolicyError(`Resource ${r} must be in ARN format or "*".`);
    }
    resources = new PatternSet(
      list.map((r) => parseTemplate(r, variables)),
      'arn',
      false,
    );
  }

  // Condition
  const conditions: CompiledCondition[] = [];
  if (raw.Condition !== undefined) {
    if (!isObject(raw.Condition)) throw new PolicyError('Syntax errors in policy. Condition must be a JSON object');
    for (const [operator, block] of Object.entries(raw.Condition)) {
      if (!isObject(block)) throw new PolicyError(`Syntax errors in policy. Condition ${operator} must map condition keys to values`);
      for (const [key, value] of Object.entries(block)) conditions.push(compileCondition(operator, key, value, variables));
    }
  }

  return {
    index,
    sid,
    effect,
    actions,
    notAction: raw.Action === undefined,
    resources,
    notResource: raw.Resource === undefined && raw.NotResource !== undefined,
    principal,
    notPrincipal: !hasPrincipal && hasNotPrincipal,
    conditions,
  };
}

/**
 * Parse, validate and compile a policy document.
 * @throws {PolicyError} `{ code: 'MalformedPolicyDocument', message }` when the document is invalid.
 */
export function parsePolicy(text: string, options: ParseOptions): Policy {
  if (typeof text !== 'string') throw new PolicyError('Syntax errors in policy.');
  if (options.maxLength !== undefined && countLength(text, options.lengthExcludesWhitespace === true) > options.maxLength) {
    throw new PolicyError(`Cannot exceed quota for PolicySize: ${options.maxLength}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('Syntax errors in policy.');
  }
  return compilePolicy(doc, options);
}

/** Like {@link parsePolicy} for an already-parsed JSON value (e.g. the managed policies). */
export function compilePolicy(doc: unknown, options: ParseOptions): Policy {
  if (!isObject(doc)) throw new PolicyError('Syntax errors in policy.');
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL_KEYS.has(key)) throw new PolicyError(`Syntax errors in policy. Unknown field ${key}`);
  }
  let version: PolicyVersion = '2008-10-17';
  if (doc.Version !== undefined) {
    if (doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw new PolicyError('The policy must contain a valid version string');
    version = doc.Version;
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw new PolicyError('Syntax errors in policy. Id must be a string');
  if (doc.Statement === undefined) throw new PolicyError('Missing required field Statement');
  const rawStatements = Array.isArray(doc.Statement) ? (doc.Statement as unknown[]) : [doc.Statement];
  if (rawStatements.length === 0) throw new PolicyError('Syntax errors in policy. Statement must not be empty');
  const sids = new Set<string>();
  const statements = rawStatements.map((s, i) => compileStatement(s, i, version, options, sids));
  return {
    kind: options.kind,
    version,
    id: typeof doc.Id === 'string' ? doc.Id : undefined,
    name: options.name,
    document: doc,
    statements,
    denies: statements.filter((s) => s.effect === 'Deny'),
    allows: statements.filter((s) => s.effect === 'Allow'),
  };
}

export type ParseResult = { readonly ok: true; readonly policy: Policy } | { readonly ok: false; readonly error: PolicyErrorShape };

/** Non-throwing {@link parsePolicy}: returns the policy or the typed MalformedPolicyDocument error. */
export function tryParsePolicy(text: string, options: ParseOptions): ParseResult {
  try {
    return { ok: true, policy: parsePolicy(text, options) };
  } catch (e) {
    if (e instanceof PolicyError) return { ok: false, error: e.toJSON() };
    throw e;
  }
}

/** Validate only: undefined when valid, else the MalformedPolicyDocument error. */
export function validatePolicy(text: string, options: ParseOptions): PolicyErrorShape | undefined {
  const r = tryParsePolicy(text, options);
  return r.ok ? undefined : r.error;
}
