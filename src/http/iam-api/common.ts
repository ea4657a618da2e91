import { createHash, randomBytes } from 'node:crypto';
import type { Caller } from '../../iam/authorizer.js';
import { DeleteConflictError, IdentityConflictError, LimitExceededError, NoSuchEntityError } from '../../iam/identity-store.js';
import { accessDeniedMessage, tryParsePolicy, type ParseOptions, type RequestContext } from '../../iam/policy/index.js';
import { AwsError, type AwsApiOptions } from '../aws-common.js';

/** One IAM or STS Query call: its parameters, the verified caller and what the handlers need. */
export interface QueryCall {
  action: string;
  params: URLSearchParams;
  caller: Caller;
  /** The caller's account: IAM calls act on it. */
  accountId: string;
  /** Region from the request's signature. */
  region: string;
  context: RequestContext;
  api: AwsApiOptions;
}

/** Answers the `<…Result>` content (XML), or '' for operations without output. */
export type QueryOperation = (call: QueryCall) => Promise<string>;

// ---------------------------------------------------------------- XML

/** XML text: escapes the five XML specials. */
export function x(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- XML 1.0 cannot carry these at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
    .replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function members(items: string[]): string {
  return items.map((item) => `<member>${item}</member>`).join('');
}

/** A list answer: Berth returns every item in one page. */
export function list(element: string, items: string[]): string {
  return `<${element}>${members(items)}</${element}><IsTruncated>false</IsTruncated>`;
}

/** IAM answers policy documents URL-encoded; the SDKs and the CLI decode them. */
export function documentXml(document: string): string {
  return x(encodeURIComponent(document));
}

// ---------------------------------------------------------------- ids

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A unique id as IAM shapes them: a four-letter prefix (`AIDA`, `AGPA`, `AROA`, `ANPA`, `ASIA`) and 17 characters. */
export function newUniqueId(prefix: string, length = 17): string {
  return `${prefix}${Array.from(randomBytes(length), (b) => ID_ALPHABET[b % 32]).join('')}`;
}

/** A stable unique id derived from a name (for the AWS-managed policies, which exist in no table). */
export function stableUniqueId(prefix: string, name: string): string {
  return `${prefix}${Array.from(createHash('sha256').update(name).digest().subarray(0, 17), (b) => ID_ALPHABET[b % 32]).join('')}`;
}

/** 40 characters of a secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').slice(0, 40);
}

// ---------------------------------------------------------------- input

export const NAME = /^[\w+=,.@-]+$/;
export const PATH = /^(\/|\/[\u0021-\u007e]+\/)$/;
export const POLICY_PATH = /^((\/[A-Za-z0-9.,+@=_-]+)*)\/$/;

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function validationError(name: string, value: string, constraint: string): AwsError {
  return new AwsError('ValidationError', `1 validation error detected: Value '${value.slice(0, 200)}' at '${lowerFirst(name)}' failed to satisfy constraint: ${constraint}`, 400);
}

/** A required parameter; ValidationError when it is missing, too long or does not match. */
export function required(call: QueryCall, name: string, pattern?: RegExp, maxLength = Number.MAX_SAFE_INTEGER): string {
  const value = call.params.get(name);
  if (value === null || value === '') {
    throw new AwsError('ValidationError', `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`, 400);
  }
  check(name, value, pattern, maxLength);
  return value;
}

/** An optional parameter (absent or empty: undefined), checked like a required one. */
export function optional(call: QueryCall, name: string, pattern?: RegExp, maxLength = Number.MAX_SAFE_INTEGER): string | undefined {
  const value = call.params.get(name);
  if (value === null || value === '') return undefined;
  check(name, value, pattern, maxLength);
  return value;
}

function check(name: string, value: string, pattern: RegExp | undefined, maxLength: number): void {
  if (value.length > maxLength) throw validationError(name, value, `Member must have length less than or equal to ${maxLength}`);
  if (pattern && !pattern.test(value)) throw validationError(name, value, `Member must satisfy regular expression pattern: ${pattern.source}`);
}

export function optionalInteger(call: QueryCall, name: string, min: number, max: number): number | undefined {
  const raw = optional(call, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw validationError(name, raw, 'Member must be an integer');
  const value = Number(raw);
  if (value < min) throw validationError(name, raw, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw validationError(name, raw, `Member must have value less than or equal to ${max}`);
  return value;
}

export function optionalBoolean(call: QueryCall, name: string): boolean | undefined {
  const raw = optional(call, name);
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw validationError(name, raw, 'Member must be a boolean');
  return raw === 'true';
}

/** Refuses parameters Berth does not implement, rather than ignoring what the caller asked for. */
export function refuseUnsupported(call: QueryCall, names: string[]): void {
  for (const name of names) {
    if ([...call.params.keys()].some((key) => key === name || key.startsWith(`${name}.`))) {
      throw new AwsError('ValidationError', `${name} is not supported by this server.`, 400);
    }
  }
}

/**
 * Validates a policy document with the policy engine: MalformedPolicyDocument
 * when it is not valid, and LimitExceeded (as IAM answers) when it is too long.
 */
export function validDocument(document: string, options: ParseOptions): string {
  const parsed = tryParsePolicy(document, options);
  if (parsed.ok) return document;
  const { message } = parsed.error;
  if (message.startsWith('Cannot exceed quota for PolicySize')) throw new AwsError('LimitExceeded', message, 409);
  throw new AwsError('MalformedPolicyDocument', message, 400);
}

// ---------------------------------------------------------------- authorization and errors

/** Authorizes the call's action (`iam:<Action>` unless given) on `resource` in the caller's account; AccessDenied otherwise. */
export async function allow(call: QueryCall, resource: string, extraContext: Record<string, string> = {}, action = `iam:${call.action}`): Promise<void> {
  const { caller } = call;
  const decision = await call.api.authorizer.authorize(caller, action, resource, call.accountId, { ...call.context, ...extraContext });
  if (decision.decision !== 'Allow') {
    throw new AwsError('AccessDenied', accessDeniedMessage({ principal: caller.principal, action, resource }, decision), 403);
  }
}

export function noSuchEntity(message: string): AwsError {
  return new AwsError('NoSuchEntity', message, 404);
}

/** The identity store's errors as IAM's. */
export function storeErrorAsAws(error: unknown): AwsError | undefined {
  if (error instanceof NoSuchEntityError) return noSuchEntity(error.message);
  if (error instanceof IdentityConflictError) return new AwsError('EntityAlreadyExists', error.message, 409);
  if (error instanceof DeleteConflictError) return new AwsError('DeleteConflict', error.message, 409);
  if (error instanceof LimitExceededError) return new AwsError('LimitExceeded', error.message, 409);
  return undefined;
}

/** After a change: this process's caches drop at once (other processes see the generation move within a second). */
export function changed(call: QueryCall): void {
  call.api.authorizer.invalidate();
}
