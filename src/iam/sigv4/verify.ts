import { createHash, timingSafeEqual } from 'node:crypto';
import {
  buildCanonicalRequest,
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  getHeader,
  getSingleHeader,
  parseQuery,
  splitTarget,
  type HeaderMap,
  type QueryParam,
} from './canonical.js';
import {
  MESSAGES,
  makeSigV4Error,
  type SigV4Error,
  type SigV4ErrorStyle,
  type SigV4FailureKind,
} from './errors.js';
import { defaultSigningKeyCache, hmacSha256, KEY_TYPE_IDENTIFIER, sha256Hex, type SigningKeyCache } from './signing-key.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Longest presigned-URL lifetime SigV4 allows (7 days). */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604_800;
export const DEFAULT_MAX_SKEW_SECONDS = 300;

/** Services that speak the AWS Query protocol (short error names, mostly 403). */
const QUERY_PROTOCOL_SERVICES = new Set(['iam', 'sts']);

export interface SigV4Request {
  /** HTTP method as received (e.g. `POST`). */
  method: string;
  /** Raw request-target as received: percent-encoded path plus `?query`. */
  path: string;
  /**
   * Received headers, lower-cased names. A `string[]` value means the header
   * was repeated; its values are joined with `,` as SigV4 requires (note that
   * Node's `req.headers` already joins most repeats with `, `).
   */
  headers: HeaderMap;
  /** Raw body bytes. Omit (with no `payloadHash`) for an empty body. */
  body?: Buffer | Uint8Array | string;
  /** Hex SHA-256 of the body, when the caller hashed it while streaming. Takes precedence over `body`. */
  payloadHash?: string;
}

export interface SigV4Credentials {
  secretAccessKey: string;
  /** Present for temporary credentials: the request must carry the same `X-Amz-Security-Token`. */
  sessionToken?: string;
  /** Temporary credentials stop working at this instant (ExpiredToken). */
  expiration?: Date;
  principal: unknown;
}

export type CredentialLookup<C extends SigV4Credentials> = (
  accessKeyId: string,
) => Promise<C | undefined> | C | undefined;

export interface VerifySigV4Options {
  /** The server's clock. */
  now: Date;
  /** Allowed clock skew for header signatures and future-dated presigned URLs. Default 300 (5 min). */
  maxSkewSeconds?: number;
  /** Signing name(s) accepted in the credential scope, e.g. `'ecr'` or `['ecr', 'ecr-public']`. Any if omitted. */
  expectedService?: string | readonly string[];
  /**
   * Region(s) accepted in the credential scope. When omitted any well-formed
   * region is accepted and reported back in the result (Berth is one endpoint
   * for every "region"; the caller decides what the region means).
   */
  region?: string | readonly string[];
  /** Error naming family; default `query` when every expected service is IAM/STS, else `json`. */
  errorStyle?: SigV4ErrorStyle;
  /** Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD`. Default false (non-S3 services sign the payload). */
  allowUnsignedPayload?: boolean;
  /** Accept presigned (query-string) authentication. Default true. */
  allowPresigned?: boolean;
  /** Upper bound for `X-Amz-Expires`; default and maximum 604800. */
  maxPresignExpiresSeconds?: number;
  /** Signing-key cache; defaults to a process-wide bounded cache. */
  signingKeyCache?: SigningKeyCache;
}

export type SigV4AuthType = 'header' | 'presigned';

export interface SigV4Success<C extends SigV4Credentials = SigV4Credentials> {
  ok: true;
  accessKeyId: string;
  credentials: C;
  /** Signing name from the credential scope (`ecr`, `ecr-public`, `iam`, `sts`, ...). */
  service: string;
  /** Region from the credential scope. */
  region: string;
  /** When the client signed the request (X-Amz-Date / Date). */
  signedAt: Date;
  authType: SigV4AuthType;
  signedHeaders: string[];
  /** Payload hash used in the canonical request (hex or `UNSIGNED-PAYLOAD`). */
  payloadHash: string;
  /** False only for an accepted `UNSIGNED-PAYLOAD`. */
  payloadSigned: boolean;
  /** The session token the request carried, if any. */
  sessionToken?: string;
  /** Presigned URLs only: the instant the URL stops being valid. */
  expiresAt?: Date;
}

export interface SigV4Failure {
  ok: false;
  error: SigV4Error;
}

export type SigV4Result<C extends SigV4Credentials = SigV4Credentials> = SigV4Success<C> | SigV4Failure;

interface ParsedAuth {
  authType: SigV4AuthType;
  credential: string;
  signedHeadersRaw: string;
  signature: string;
  /** Raw date value and where it came from. */
  dateRaw: string;
  dateSource: 'x-amz-date' | 'date' | 'X-Amz-Date';
  sessionToken: string | undefined;
  /** Presigned only. */
  expiresSeconds?: number;
  /** Presigned only: the X-Amz-Content-Sha256 query parameter. */
  queryContentSha256?: string;
}

class Fail {
  constructor(
    readonly kind: SigV4FailureKind,
    readonly message: string,
    readonly extra: Partial<Pick<SigV4Error, 'accessKeyId' | 'canonicalRequest' | 'stringToSign'>> = {},
  ) {}
}

function toList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}

function defaultErrorStyle(options: VerifySigV4Options): SigV4ErrorStyle {
  const services = toList(options.expectedService);
  if (services !== undefined && services.length > 0 && services.every((s) => QUERY_PROTOCOL_SERVICES.has(s))) {
    return 'query';
  }
  return 'json';
}

/** `YYYYMMDDTHHMMSSZ` */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Strict parse of `YYYYMMDDTHHMMSSZ`; undefined if malformed or not a real calendar instant. */
export function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE_RE.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  if (Number.isNaN(ms) || formatAmzDate(date) !== value) return undefined;
  return date;
}

function parseHttpDate(value: string): Date | undefined {
  // RFC 7231 IMF-fixdate (and the obsolete forms Date.parse understands); must carry an explicit zone.
  if (!/GMT|UTC|[+-]\d{4}\s*$/.test(value)) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return new Date(Math.floor(ms / 1000) * 1000);
}

function formatDuration(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min.` : `${seconds} sec.`;
}

function base64Sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64');
}

function invalidDateMessage(raw: string): string {
  return `Date must be in ISO-8601 'basic format'. Got '${raw}'. See http://en.wikipedia.org/wiki/ISO_8601`;
}

const QUERY_AUTH_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
] as const;

function parseAuthorizationHeader(value: string, headers: HeaderMap): ParsedAuth {
  const header = value.trim();
  const space = header.search(/\s/);
  const algorithm = space === -1 ? header : header.slice(0, space);
  const rest = space === -1 ? '' : header.slice(space + 1);
  if (algorithm !== ALGORITHM) {
    if (/^AWS4-/.test(algorithm)) {
      throw new Fail('incomplete-signature', `Unsupported AWS 'algorithm': '${algorithm}'.`);
    }
    // Not SigV4 at all (Basic, Bearer, SigV2 "AWS key:sig", ...). AWS does not echo such values.
    throw new Fail(
      'incomplete-signature',
      `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${base64Sha256(header)}'.`,
    );
  }
  const found = new Map<string, string>();
  for (const rawPart of rest.split(',')) {
    const part = rawPart.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new Fail(
        'incomplete-signature',
        `'${part}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`,
      );
    }
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (found.has(key)) {
      throw new Fail('incomplete-signature', `'${key}' appears more than once in Authorization header: '${header}'.`);
    }
    found.set(key, val);
  }

  const amzDate = getSingleHeader(headers, 'x-amz-date');
  const httpDate = getSingleHeader(headers, 'date');
  let problems = '';
  for (const name of ['Credential', 'Signature', 'SignedHeaders'] as const) {
    if (!found.has(name)) problems += `Authorization header requires '${name}' parameter. `;
  }
  if (amzDate === undefined && httpDate === undefined) {
    problems += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (problems !== '') {
    throw new Fail('incomplete-signature', `${problems}Authorization=${header}`);
  }
  const pick = (name: 'Credential' | 'SignedHeaders' | 'Signature'): string => found.get(name) ?? '';
  return {
    authType: 'header',
    credential: pick('Credential'),
    signedHeadersRaw: pick('SignedHeaders'),
    signature: pick('Signature'),
    dateRaw: amzDate ?? httpDate ?? '',
    dateSource: amzDate !== undefined ? 'x-amz-date' : 'date',
    sessionToken: getSingleHeader(headers, 'x-amz-security-token'),
  };
}

function parsePresignedQuery(
  params: readonly QueryParam[],
  headers: HeaderMap,
  maxExpires: number,
): ParsedAuth {
  const found = new Map<string, string>();
  for (const p of params) {
    if (!(QUERY_AUTH_PARAMS as readonly string[]).includes(p.name)) continue;
    if (found.has(p.name)) {
      throw new Fail('incomplete-signature', `Query-string parameter '${p.name}' appears more than once.`);
    }
    found.set(p.name, p.value);
  }
  for (const name of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders']) {
    if (!found.has(name)) {
      throw new Fail(
        'incomplete-signature',
        `AWS query-string parameters must include '${name}'. Re-examine the query-string parameters.`,
      );
    }
  }
  const algorithm = found.get('X-Amz-Algorithm') ?? '';
  if (algorithm !== ALGORITHM) {
    throw new Fail('incomplete-signature', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  }
  let expiresSeconds: number | undefined;
  const expiresRaw = found.get('X-Amz-Expires');
  if (expiresRaw !== undefined) {
    if (!/^\d{1,15}$/.test(expiresRaw)) {
      throw new Fail('incomplete-signature', 'X-Amz-Expires should be a number');
    }
    expiresSeconds = Number(expiresRaw);
    if (expiresSeconds > maxExpires) {
      throw new Fail(
        'incomplete-signature',
        maxExpires >= MAX_PRESIGN_EXPIRES_SECONDS
          ? `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_EXPIRES_SECONDS}`
          : `X-Amz-Expires must be at most ${maxExpires} seconds`,
      );
    }
  }
  const parsed: ParsedAuth = {
    authType: 'presigned',
    credential: found.get('X-Amz-Credential') ?? '',
    signedHeadersRaw: found.get('X-Amz-SignedHeaders') ?? '',
    signature: found.get('X-Amz-Signature') ?? '',
    dateRaw: found.get('X-Amz-Date') ?? '',
    dateSource: 'X-Amz-Date',
    sessionToken: found.get('X-Amz-Security-Token') ?? getSingleHeader(headers, 'x-amz-security-token'),
  };
  if (expiresSeconds !== undefined) parsed.expiresSeconds = expiresSeconds;
  const contentSha = found.get('X-Amz-Content-Sha256');
  if (contentSha !== undefined) parsed.queryContentSha256 = contentSha;
  return parsed;
}

function constantTimeStringEqual(a: string, b: string): boolean {
  // Hash first so lengths do not leak and timingSafeEqual gets equal-length inputs.
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

function signatureMatches(expected: Buffer, provided: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(provided)) return false;
  return timingSafeEqual(expected, Buffer.from(provided, 'hex'));
}

function bodyHash(request: SigV4Request): string {
  if (request.payloadHash !== undefined) return request.payloadHash.toLowerCase();
  if (request.body === undefined) return EMPTY_SHA256;
  if (typeof request.body !== 'string' && request.body.length === 0) return EMPTY_SHA256;
  return sha256Hex(request.body);
}

async function verify<C extends SigV4Credentials>(
  request: SigV4Request,
  lookupCredentials: CredentialLookup<C>,
  options: VerifySigV4Options,
): Promise<SigV4Success<C>> {
  const now = options.now;
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const maxExpires = Math.min(options.maxPresignExpiresSeconds ?? MAX_PRESIGN_EXPIRES_SECONDS, MAX_PRESIGN_EXPIRES_SECONDS);
  const headers = request.headers;
  const { path: rawPath, rawQuery } = splitTarget(request.path);
  const queryParams = parseQuery(rawQuery);

  // ---- 1. Which mechanism? ------------------------------------------------
  const authRaw = getHeader(headers, 'authorization');
  const authValues = (authRaw === undefined ? [] : typeof authRaw === 'string' ? [authRaw] : [...authRaw]).filter(
    (v) => v.trim() !== '',
  );
  const hasQueryAuth = queryParams.some(
    (p) => p.name === 'X-Amz-Algorithm' || p.name === 'X-Amz-Credential' || p.name === 'X-Amz-Signature',
  );
  let parsed: ParsedAuth;
  if (authValues.length > 0) {
    if (authValues.length > 1) {
      throw new Fail('incomplete-signature', 'Only one Authorization header is allowed.');
    }
    if (hasQueryAuth) {
      throw new Fail(
        'incomplete-signature',
        "Only one authentication mechanism is allowed: the request has both an 'Authorization' header and 'X-Amz-*' query-string authentication parameters.",
      );
    }
    parsed = parseAuthorizationHeader(authValues[0] ?? '', headers);
  } else if (hasQueryAuth && options.allowPresigned !== false) {
    parsed = parsePresignedQuery(queryParams, headers, maxExpires);
  } else {
    throw new Fail('missing-authentication', MESSAGES.missingAuthenticationToken);
  }

  // ---- 2. Credential scope --------------------------------------------------
  const scopeParts = parsed.credential.split('/');
  if (scopeParts.length !== 5) {
    throw new Fail(
      'incomplete-signature',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parsed.credential}'`,
    );
  }
  const [accessKeyId, scopeDate, region, service, terminator] = scopeParts as [string, string, string, string, string];
  const withKey = accessKeyId === '' ? {} : { accessKeyId };

  // ---- 3. Request date ------------------------------------------------------
  let signedAt: Date | undefined;
  if (parsed.dateSource === 'date') {
    signedAt = parseHttpDate(parsed.dateRaw);
  } else {
    signedAt = parseAmzDate(parsed.dateRaw.trim());
  }
  if (signedAt === undefined) {
    throw new Fail('incomplete-signature', invalidDateMessage(parsed.dateRaw), withKey);
  }
  const longDate = formatAmzDate(signedAt);
  const shortDate = longDate.slice(0, 8);

  if (terminator !== KEY_TYPE_IDENTIFIER) {
    throw new Fail(
      'signature-mismatch',
      `Credential should be scoped with a valid terminator: '${KEY_TYPE_IDENTIFIER}', not '${terminator}'.`,
      withKey,
    );
  }
  if (scopeDate !== shortDate) {
    throw new Fail(
      'signature-mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${shortDate}', from '${longDate}'.`,
      withKey,
    );
  }
  const allowedRegions = toList(options.region);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region) || (allowedRegions !== undefined && !allowedRegions.includes(region))) {
    throw new Fail('signature-mismatch', `Credential should be scoped to a valid region, not '${region}'.`, withKey);
  }
  const expectedServices = toList(options.expectedService);
  if (expectedServices !== undefined && expectedServices.length > 0 && !expectedServices.includes(service)) {
    throw new Fail(
      'signature-mismatch',
      `Credential should be scoped to correct service: '${expectedServices[0] ?? ''}'.`,
      withKey,
    );
  }
  if (service === '' || /[\s/]/.test(service)) {
    throw new Fail('signature-mismatch', `Credential should be scoped to correct service: '${service}'.`, withKey);
  }

  // ---- 4. Signed headers ----------------------------------------------------
  const signedHeaders = parsed.signedHeadersRaw === '' ? [] : parsed.signedHeadersRaw.split(';').map((h) => h.trim().toLowerCase());
  if (signedHeaders.some((h) => h === '' || /[\s,=]/.test(h))) {
    throw new Fail('incomplete-signature', `Invalid SignedHeaders '${parsed.signedHeadersRaw}': header names must be separated by ';'.`, withKey);
  }
  if (!signedHeaders.includes('host') && !signedHeaders.includes(':authority')) {
    throw new Fail('signature-mismatch', MESSAGES.hostNotSigned, withKey);
  }

  // ---- 5. Clock -------------------------------------------------------------
  const nowMs = Math.floor(now.getTime() / 1000) * 1000;
  const nowStr = formatAmzDate(new Date(nowMs));
  const signedMs = signedAt.getTime();
  if (signedMs > nowMs + maxSkew * 1000) {
    throw new Fail(
      'signature-mismatch',
      `Signature not yet current: ${longDate} is still later than ${formatAmzDate(new Date(nowMs + maxSkew * 1000))} (${nowStr} + ${formatDuration(maxSkew)})`,
      withKey,
    );
  }
  const window = parsed.authType === 'presigned' ? (parsed.expiresSeconds ?? maxSkew) : maxSkew;
  if (signedMs < nowMs - window * 1000) {
    throw new Fail(
      'signature-mismatch',
      `Signature expired: ${longDate} is now earlier than ${formatAmzDate(new Date(nowMs - window * 1000))} (${nowStr} - ${formatDuration(window)})`,
      withKey,
    );
  }

  // ---- 6. Payload hash ------------------------------------------------------
  const claimed = getSingleHeader(headers, 'x-amz-content-sha256')?.trim() ?? parsed.queryContentSha256;
  let payloadHash: string;
  let payloadSigned = true;
  if (claimed === undefined) {
    payloadHash = bodyHash(request);
  } else if (claimed === UNSIGNED_PAYLOAD) {
    if (options.allowUnsignedPayload !== true) {
      throw new Fail(
        'signature-mismatch',
        `The request payload must be signed: 'x-amz-content-sha256: ${UNSIGNED_PAYLOAD}' is not accepted by this service.`,
        withKey,
      );
    }
    payloadHash = UNSIGNED_PAYLOAD;
    payloadSigned = false;
  } else if (/^[0-9a-fA-F]{64}$/.test(claimed)) {
    if (claimed.toLowerCase() !== bodyHash(request)) {
      throw new Fail('signature-mismatch', MESSAGES.payloadHashMismatch, withKey);
    }
    payloadHash = claimed;
  } else {
    throw new Fail(
      'incomplete-signature',
      `x-amz-content-sha256 must be ${UNSIGNED_PAYLOAD} or a valid sha256 value; got '${claimed}'.`,
      withKey,
    );
  }

  // ---- 7. Credentials -------------------------------------------------------
  if (accessKeyId === '') {
    throw new Fail('invalid-client-token', MESSAGES.invalidClientToken);
  }
  let credentials: C | undefined;
  try {
    credentials = await lookupCredentials(accessKeyId);
  } catch {
    throw new Fail('internal', 'An internal error occurred while looking up the access key.', withKey);
  }
  if (credentials === undefined || credentials === null || typeof credentials.secretAccessKey !== 'string') {
    throw new Fail('invalid-client-token', MESSAGES.invalidClientToken, withKey);
  }
  const expectedToken = credentials.sessionToken === undefined || credentials.sessionToken === '' ? undefined : credentials.sessionToken;
  const requestToken = parsed.sessionToken === undefined || parsed.sessionToken === '' ? undefined : parsed.sessionToken;
  if (expectedToken !== undefined || requestToken !== undefined) {
    if (expectedToken === undefined || requestToken === undefined || !constantTimeStringEqual(expectedToken, requestToken)) {
      throw new Fail('invalid-client-token', MESSAGES.invalidClientToken, withKey);
    }
  }
  if (credentials.expiration instanceof Date && now.getTime() >= credentials.expiration.getTime()) {
    throw new Fail('expired-token', MESSAGES.expiredToken, withKey);
  }

  // ---- 8. Signature ---------------------------------------------------------
  const scope = `${shortDate}/${region}/${service}/${KEY_TYPE_IDENTIFIER}`;
  const cache = options.signingKeyCache ?? defaultSigningKeyCache;
  const signingKey = cache.get(credentials.secretAccessKey, shortDate, region, service);
  const canonicalPath = canonicalUri(rawPath);
  const headerBlock = canonicalHeaders(headers, signedHeaders);
  const signedHeadersLine = signedHeaders.join(';');

  const attempt = (params: readonly QueryParam[]): { ok: boolean; canonicalRequest: string; stringToSign: string } => {
    const canonicalRequest = buildCanonicalRequest({
      method: request.method,
      canonicalUri: canonicalPath,
      canonicalQuery: canonicalQueryString(params),
      canonicalHeaders: headerBlock,
      signedHeaders: signedHeadersLine,
      payloadHash,
    });
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const expected = hmacSha256(signingKey, stringToSign);
    return { ok: signatureMatches(expected, parsed.signature), canonicalRequest, stringToSign };
  };

  let result: { ok: boolean; canonicalRequest: string; stringToSign: string };
  if (parsed.authType === 'presigned') {
    const withoutSignature = queryParams.filter((p) => p.name !== 'X-Amz-Signature');
    result = attempt(withoutSignature);
    if (!result.ok && requestToken !== undefined) {
      // Some signers append X-Amz-Security-Token after signing (AWS accepts the token signed or not).
      const retry = attempt(withoutSignature.filter((p) => p.name !== 'X-Amz-Security-Token'));
      if (retry.ok) result = retry;
    }
  } else {
    result = attempt(queryParams);
  }
  if (!result.ok) {
    throw new Fail('signature-mismatch', MESSAGES.signatureMismatch, {
      ...withKey,
      canonicalRequest: result.canonicalRequest,
      stringToSign: result.stringToSign,
    });
  }

  const success: SigV4Success<C> = {
    ok: true,
    accessKeyId,
    credentials,
    service,
    region,
    signedAt,
    authType: parsed.authType,
    signedHeaders,
    payloadHash,
    payloadSigned,
  };
  if (requestToken !== undefined) success.sessionToken = requestToken;
  if (parsed.authType === 'presigned') success.expiresAt = new Date(signedMs + window * 1000);
  return success;
}

/**
 * Verify an AWS Signature Version 4 request (Authorization header or presigned
 * query string). Never throws: every failure, including a failing credential
 * lookup, comes back as `{ ok: false, error }` with the AWS exception name.
 */
export async function verifySigV4<C extends SigV4Credentials>(
  request: SigV4Request,
  lookupCredentials: CredentialLookup<C>,
  options: VerifySigV4Options,
): Promise<SigV4Result<C>> {
  let style: SigV4ErrorStyle = 'json';
  try {
    style = options.errorStyle ?? defaultErrorStyle(options);
    return await verify(request, lookupCredentials, options);
  } catch (err) {
    if (err instanceof Fail) {
      return { ok: false, error: makeSigV4Error(err.kind, style, err.message, err.extra) };
    }
    // Defensive: malformed input that slipped past validation (e.g. non-string header values).
    return {
      ok: false,
      error: makeSigV4Error('incomplete-signature', style, 'The request signature could not be parsed.'),
    };
  }
}
