/**
 * nextToken / maxResults pagination. A token is opaque to clients and
 * tamper-evident: base64url(JSON position) "." base64url(HMAC-SHA256), the
 * MAC keyed with a server secret and bound to a scope string the caller
 * chooses (service, operation, registry, repository, filters...), so a token
 * from one listing is refused by another. Nothing is stored server-side.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServiceModel } from './model-types.js';
import type { ValidatedInput, ValidationError } from './validate.js';

/** Where the next page starts, e.g. the last name returned; any JSON value. */
export type PagePosition = string | number | boolean | null | readonly PagePosition[] | { readonly [key: string]: PagePosition };

export interface PageRequest {
  /** How many items to return: maxResults, or the operation's default page size. */
  limit: number;
  /** Absent on the first page. */
  position?: PagePosition;
}

export type PageRequestResult = ({ ok: true } & PageRequest) | { ok: false; error: ValidationError };

const INVALID_TOKEN: ValidationError = {
  type: 'InvalidParameterException',
  // ECR's own wording for a bad token is not documented; this follows its constraint style.
  message: "Invalid parameter at 'nextToken' failed to satisfy constraint: 'must be a nextToken returned by this operation'",
};

export function encodeNextToken(key: Uint8Array, scope: string, position: PagePosition): string {
  const payload = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${payload}.${mac(key, scope, payload).toString('base64url')}`;
}

export function decodeNextToken(key: Uint8Array, scope: string, token: string): { ok: true; position: PagePosition } | { ok: false; error: ValidationError } {
  const [payload, signature, extra] = token.split('.');
  if (payload === undefined || signature === undefined || extra !== undefined) return { ok: false, error: INVALID_TOKEN };
  const expected = mac(key, scope, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, error: INVALID_TOKEN };
  return { ok: true, position: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PagePosition };
}

/** maxResults if given (validation already bounded it), else the page size the operation's documentation states. */
export function pageLimit(model: ServiceModel, operationName: string, maxResults: number | undefined): number {
  const pagination = model.operations[operationName]?.pagination;
  if (!pagination) throw new RangeError(`${operationName} is not a paginated operation of ${model.signingName}`);
  return maxResults ?? pagination.defaultMaxResults;
}

/** The page a validated request asks for: its limit and, after the first page, the decoded position. */
export function readPageRequest(model: ServiceModel, operationName: string, input: ValidatedInput, key: Uint8Array, scope: string): PageRequestResult {
  const maxResults = typeof input.maxResults === 'number' ? input.maxResults : undefined;
  const limit = pageLimit(model, operationName, maxResults);
  if (typeof input.nextToken !== 'string') return { ok: true, limit };
  const decoded = decodeNextToken(key, scope, input.nextToken);
  return decoded.ok ? { ok: true, limit, position: decoded.position } : decoded;
}

function mac(key: Uint8Array, scope: string, payload: string): Buffer {
  // The scope is length-prefixed so that no scope/payload pair can be re-split into another.
  return createHmac('sha256', key).update(`${scope.length}:${scope}:${payload}`).digest();
}
