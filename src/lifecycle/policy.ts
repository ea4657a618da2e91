/**
 * Parsing and validation of ECR lifecycle policy documents (`lifecyclePolicyText`).
 *
 * Sources: "Lifecycle policy properties in Amazon ECR" (lifecycle_policy_parameters) and "Lifecycle
 * policy evaluation rules" (LifecyclePolicies), Amazon ECR User Guide. ECR validates the document
 * with a JSON schema and then with its own checks; both kinds of failure are an
 * InvalidParameterException whose message is `lifecyclePolicyFailureMessage(reason)`. Reasons reuse
 * ECR's wording where it is known (see docs/lifecycle.md for which are verbatim).
 */

export type TagStatus = 'tagged' | 'untagged' | 'any';
export type StorageClass = 'standard' | 'archive';
export type CountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';
export type TagListName = 'tagPrefixList' | 'tagPatternList';

export interface TagFilter {
  readonly list: TagListName;
  readonly values: readonly string[];
}

export type TagSelection =
  | { readonly tagStatus: 'tagged'; readonly tagFilter: TagFilter }
  | { readonly tagStatus: 'untagged' }
  | { readonly tagStatus: 'any' };

/** `countUnit` is not kept: it is `days` whenever `countType` is one of the `since*` types. */
export type RuleSelection = TagSelection & {
  readonly storageClass: StorageClass;
  readonly countType: CountType;
  readonly countNumber: number;
};

export type RuleAction = { readonly type: 'expire' } | { readonly type: 'transition'; readonly targetStorageClass: 'archive' };

export interface LifecycleRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: RuleSelection;
  readonly action: RuleAction;
}

/** Rules in document order; evaluation orders them by `rulePriority`. */
export interface LifecyclePolicy {
  readonly rules: readonly LifecycleRule[];
}

/** Service quota "Rules per lifecycle policy". */
export const MAX_RULES_PER_POLICY = 50;
/** "There is a maximum limit of four wildcards (*) per string." */
export const MAX_WILDCARDS_PER_PATTERN = 4;
/** "Images must be in archive storage for a minimum of 90 days before deletion." */
export const MIN_ARCHIVED_DAYS_BEFORE_EXPIRY = 90;

/** The AWS exception a caller reports for an invalid document. */
export const LIFECYCLE_POLICY_ERROR_TYPE = 'InvalidParameterException';

export function lifecyclePolicyFailureMessage(reason: string): string {
  return `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${reason}'`;
}

export class LifecyclePolicyError extends Error {
  readonly awsErrorType = LIFECYCLE_POLICY_ERROR_TYPE;
  /** The text after "Lifecycle policy validation failure: ". */
  readonly reason: string;

  constructor(reason: string) {
    super(lifecyclePolicyFailureMessage(reason));
    this.name = 'LifecyclePolicyError';
    this.reason = reason;
  }
}

export function isLifecyclePolicyError(err: unknown): err is LifecyclePolicyError {
  return err instanceof LifecyclePolicyError;
}

// ---------------------------------------------------------------------------------------------
// Failure reasons. The schema ones follow the JSON-schema validator ECR reports through
// (e.g. `object has missing required properties (["rules"])`); the others are ECR's own checks.
// ---------------------------------------------------------------------------------------------

const UNMAPPABLE = 'Could not map policyString into LifecyclePolicy.';
/** ECR's answer when `selection` or `action` fits neither of the schema's alternatives. */
const NO_SCHEMA_MATCHED = 'instance failed to match exactly one schema (matched 0 out of 2)';

type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

function jsonList(values: readonly string[]): string {
  return JSON.stringify(values);
}

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return 'object';
}

function fail(reason: string): never {
  throw new LifecyclePolicyError(reason);
}

function wrongType(value: unknown, expected: JsonType): never {
  fail(`instance type (${jsonTypeOf(value)}) does not match any allowed primitive type (allowed: ${jsonList([expected])})`);
}

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject {
  if (jsonTypeOf(value) !== 'object') wrongType(value, 'object');
  return value as JsonObject;
}

function asInteger(value: unknown, minimum: number): number {
  if (jsonTypeOf(value) !== 'integer') wrongType(value, 'integer');
  const number = value as number;
  if (number < minimum) fail(`numeric instance is lower than the required minimum (minimum: ${minimum}, found: ${number})`);
  return number;
}

function asEnum<T extends string>(value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  fail(`instance value (${JSON.stringify(value)}) not found in enum (possible values: ${jsonList(allowed)})`);
}

function checkProperties(object: JsonObject, required: readonly string[], optional: readonly string[]): void {
  const present = Object.keys(object);
  const missing = required.filter((name) => !present.includes(name)).sort();
  if (missing.length > 0) fail(`object has missing required properties (${jsonList(missing)})`);
  const unknown = present.filter((name) => !required.includes(name) && !optional.includes(name)).sort();
  if (unknown.length > 0) fail(`object instance has properties which are not allowed by the schema: (${jsonList(unknown)})`);
}

function asArray(value: unknown, minItems: number, maxItems: number): unknown[] {
  if (!Array.isArray(value)) wrongType(value, 'array');
  const items = value as unknown[];
  if (items.length < minItems) fail(`array is too short: must have at least ${minItems} elements but instance has ${items.length} elements`);
  if (items.length > maxItems) fail(`array is too long: must have at most ${maxItems} elements but instance has ${items.length} elements`);
  return items;
}

function asStringList(value: unknown): string[] {
  return asArray(value, 1, Number.MAX_SAFE_INTEGER).map((item) => {
    if (typeof item !== 'string') wrongType(item, 'string');
    return item as string;
  });
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const TAG_STATUSES: readonly TagStatus[] = ['tagged', 'untagged', 'any'];
const STORAGE_CLASSES: readonly StorageClass[] = ['standard', 'archive'];
const COUNT_TYPES: readonly CountType[] = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
const ACTION_TYPES: readonly RuleAction['type'][] = ['expire', 'transition'];

function parseTagSelection(selection: JsonObject): TagSelection {
  const tagStatus = asEnum(selection.tagStatus, TAG_STATUSES);
  const lists = (['tagPrefixList', 'tagPatternList'] as const).filter((name) => name in selection);
  const filters = lists.map((list): TagFilter => ({ list, values: asStringList(selection[list]) }));
  if (tagStatus !== 'tagged') {
    if (filters.length > 0) fail('tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.');
    return { tagStatus };
  }
  const [tagFilter, secondFilter] = filters;
  if (!tagFilter) fail('Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.');
  if (secondFilter) fail('Cannot specify both tagPrefixList and tagPatternList in the same rule.');
  if (tagFilter.list === 'tagPatternList') {
    for (const pattern of tagFilter.values) {
      if (pattern.split('*').length - 1 > MAX_WILDCARDS_PER_PATTERN) {
        fail(`tagPatternList entry '${pattern}' has more than ${MAX_WILDCARDS_PER_PATTERN} wildcards (*).`);
      }
    }
  }
  return { tagStatus, tagFilter };
}

function parseCount(selection: JsonObject): { countType: CountType; countNumber: number } {
  if (typeof selection.countType !== 'string' || !(COUNT_TYPES as readonly string[]).includes(selection.countType)) fail(NO_SCHEMA_MATCHED);
  const countType = selection.countType as CountType;
  const timeBased = countType !== 'imageCountMoreThan';
  if (('countUnit' in selection) !== timeBased || selection.countUnit === null) fail(NO_SCHEMA_MATCHED);
  if (timeBased) asEnum(selection.countUnit, ['days']);
  return { countType, countNumber: asInteger(selection.countNumber, 1) };
}

function parseSelection(value: unknown, action: RuleAction): RuleSelection {
  const selection = asObject(value);
  checkProperties(selection, ['tagStatus', 'countType', 'countNumber'], ['tagPrefixList', 'tagPatternList', 'storageClass', 'countUnit']);
  const tags = parseTagSelection(selection);
  const { countType, countNumber } = parseCount(selection);
  const storageClass = 'storageClass' in selection ? asEnum(selection.storageClass, STORAGE_CLASSES) : 'standard';

  if (countType === 'sinceImageTransitioned') {
    if (storageClass !== 'archive') fail('countType=sinceImageTransitioned requires storageClass=archive.');
    if (action.type !== 'expire') fail('countType=sinceImageTransitioned can only be used with action type=expire.');
    if (countNumber < MIN_ARCHIVED_DAYS_BEFORE_EXPIRY) {
      fail(`countType=sinceImageTransitioned requires a countNumber of at least ${MIN_ARCHIVED_DAYS_BEFORE_EXPIRY} days.`);
    }
  } else if (storageClass !== 'standard') {
    fail('storageClass=archive can only be used with countType=sinceImageTransitioned.');
  }
  if (countType === 'sinceImagePulled' && action.type !== 'transition') {
    fail('countType=sinceImagePulled can only be used with action type=transition.');
  }
  return { ...tags, storageClass, countType, countNumber };
}

function parseAction(value: unknown): RuleAction {
  const action = asObject(value);
  checkProperties(action, ['type'], ['targetStorageClass']);
  const type = asEnum(action.type, ACTION_TYPES);
  if (type === 'expire') {
    if ('targetStorageClass' in action) fail(NO_SCHEMA_MATCHED);
    return { type };
  }
  if (action.targetStorageClass !== 'archive') fail(NO_SCHEMA_MATCHED);
  return { type, targetStorageClass: 'archive' };
}

function parseRule(value: unknown): LifecycleRule {
  const rule = asObject(value);
  checkProperties(rule, ['action', 'rulePriority', 'selection'], ['description']);
  const rulePriority = asInteger(rule.rulePriority, 1);
  if ('description' in rule && typeof rule.description !== 'string') wrongType(rule.description, 'string');
  const action = parseAction(rule.action);
  const selection = parseSelection(rule.selection, action);
  return { rulePriority, ...(typeof rule.description === 'string' ? { description: rule.description } : {}), selection, action };
}

/** Checks that need the whole rule set. Each storage class is its own group of rules. */
function checkRuleSet(rules: readonly LifecycleRule[]): void {
  const priorities = new Set<number>();
  for (const { rulePriority } of rules) {
    if (priorities.has(rulePriority)) fail(`rulePriority ${rulePriority} is used by more than one rule; rule priorities must be unique.`);
    priorities.add(rulePriority);
  }
  for (const storageClass of STORAGE_CLASSES) {
    const group = rules.filter((rule) => rule.selection.storageClass === storageClass);
    const highestPriority = Math.max(...group.map((rule) => rule.rulePriority));
    if (group.some((rule) => rule.selection.tagStatus === 'any' && rule.rulePriority !== highestPriority)) {
      fail('Rule for tagStatus=ANY must have the lowest priority per storage class.');
    }
    if (group.filter((rule) => rule.selection.tagStatus === 'untagged').length > 1) {
      fail('Only one rule can select Untagged images per storage class.');
    }
    const prefixSets = new Set<string>();
    for (const { selection } of group) {
      if (selection.tagStatus !== 'tagged' || selection.tagFilter.list !== 'tagPrefixList') continue;
      const key = JSON.stringify([...new Set(selection.tagFilter.values)].sort());
      if (prefixSets.has(key)) fail(`More than one rule selects the tag prefixes ${key}; the rules of a storage class must have unique sets of tag prefixes.`);
      prefixSets.add(key);
    }
  }
}

/** Parses `lifecyclePolicyText`; throws LifecyclePolicyError when ECR would refuse it. */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    fail(UNMAPPABLE);
  }
  if (jsonTypeOf(document) !== 'object') fail(UNMAPPABLE);
  const policy = document as JsonObject;
  checkProperties(policy, ['rules'], []);
  const rules = asArray(policy.rules, 1, MAX_RULES_PER_POLICY).map(parseRule);
  checkRuleSet(rules);
  return { rules };
}
