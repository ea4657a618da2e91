/**
 * SigV4 canonicalization, exactly as AWS does it for non-S3 services.
 *
 * Everything here works on the request *as received*: the raw request-target
 * (percent-encoded path + query) and the received header values. The rules:
 *
 * - Path: remove empty and `.` segments, resolve `..` (RFC 3986 §5.2.4, plus
 *   collapsing of consecutive slashes), keep a leading/trailing slash, then
 *   URI-encode every byte once more except `/`. Because the received path is
 *   already percent-encoded once, this is the "double encoding" AWS requires
 *   for every service except S3 (`%20` on the wire → `%2520` canonical), and
 *   it matches what @smithy/signature-v4 and botocore compute from the path
 *   they send.
 * - Query: split on `&`, each pair on the first `=` (a bare key has an empty
 *   value), percent-decode to bytes, re-encode with the SigV4 UriEncode
 *   (unreserved `A-Z a-z 0-9 - _ . ~` kept, everything else `%XX` upper-case),
 *   sort by encoded key then encoded value (repeated keys are kept), join with
 *   `&`. A raw `+` in the query means a space (form encoding): botocore signs
 *   `x%20y` but puts `x+y` on the wire, and AWS accepts that; SDKs that mean a
 *   literal plus send `%2B`.
 * - Headers: names lower-case, values trimmed with inner whitespace runs
 *   collapsed to one space, multiple values joined with `,`.
 */

const HEX = '0123456789ABCDEF';

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/** SigV4 UriEncode over raw bytes. `keepSlash` leaves `/` alone (paths). */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash = false): string {
  let out = '';
  for (const byte of bytes) {
    if (isUnreserved(byte) || (keepSlash && byte === 0x2f)) {
      out += String.fromCharCode(byte);
    } else {
      out += '%' + HEX[byte >> 4] + HEX[byte & 0x0f];
    }
  }
  return out;
}

/** SigV4 UriEncode of a (decoded) string, UTF-8. */
export function uriEncode(value: string, keepSlash = false): string {
  return uriEncodeBytes(Buffer.from(value, 'utf8'), keepSlash);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * Lenient percent-decoding to bytes: valid `%XX` become the byte, anything else
 * (including a stray `%`) is kept literally. Never throws.
 */
export function percentDecodeToBytes(value: string): Buffer {
  const raw = Buffer.from(value, 'utf8');
  if (!raw.includes(0x25)) return raw;
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] as number;
    if (byte === 0x25 && i + 2 < raw.length) {
      const hi = hexValue(raw[i + 1] as number);
      const lo = hexValue(raw[i + 2] as number);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/** Percent-decode to a string (UTF-8, invalid sequences become U+FFFD). */
export function percentDecode(value: string): string {
  return percentDecodeToBytes(value).toString('utf8');
}

/** Split a raw request-target into its path and raw query (without `?`). */
export function splitTarget(target: string): { path: string; rawQuery: string } {
  const hash = target.indexOf('#');
  const withoutFragment = hash === -1 ? target : target.slice(0, hash);
  const q = withoutFragment.indexOf('?');
  if (q === -1) return { path: withoutFragment, rawQuery: '' };
  return { path: withoutFragment.slice(0, q), rawQuery: withoutFragment.slice(q + 1) };
}

/** RFC 3986 dot-segment removal plus collapsing of empty segments (AWS rule for non-S3). */
export function normalizePath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment.length === 0 || segment === '.') continue;
    if (segment === '..') {
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  const leading = path.startsWith('/') ? '/' : '';
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `${leading}${segments.join('/')}${trailing}`;
}

/**
 * Canonical URI for a received (already percent-encoded once) path: normalize,
 * then encode once more so every segment ends up double-encoded. An empty path
 * canonicalizes to `/`.
 */
export function canonicalUri(rawPath: string): string {
  const normalized = normalizePath(rawPath);
  if (normalized === '') return '/';
  return uriEncode(normalized, true);
}

export interface QueryParam {
  /** Decoded name (UTF-8). */
  name: string;
  /** Decoded value (UTF-8). */
  value: string;
  /** SigV4-encoded name. */
  encodedName: string;
  /** SigV4-encoded value. */
  encodedValue: string;
}

/** Parse a raw query string (no leading `?`). Empty `&&` segments are skipped. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const nameBytes = percentDecodeToBytes(rawName.replace(/\+/g, ' '));
    const valueBytes = percentDecodeToBytes(rawValue.replace(/\+/g, ' '));
    params.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encodedName: uriEncodeBytes(nameBytes),
      encodedValue: uriEncodeBytes(valueBytes),
    });
  }
  return params;
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Canonical query string: sorted by encoded name, then encoded value. */
export function canonicalQueryString(params: readonly QueryParam[]): string {
  return params
    .map((p) => [p.encodedName, p.encodedValue] as const)
    .sort((a, b) => compareAscii(a[0], b[0]) || compareAscii(a[1], b[1]))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Trim and collapse sequential whitespace (SigV4 "Trimall"). */
export function trimAll(value: string): string {
  return value.replace(/[ \t\r\n\f\v]+/g, ' ').trim();
}

export type HeaderValue = string | readonly string[] | undefined;
export type HeaderMap = Readonly<Record<string, HeaderValue>>;

/** Look up a header by lower-case name, tolerating mixed-case keys in the map. */
export function getHeader(headers: HeaderMap, name: string): HeaderValue {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) return headers[key];
  }
  return undefined;
}

/** First value of a header as a string, or undefined. */
export function getSingleHeader(headers: HeaderMap, name: string): string | undefined {
  const value = getHeader(headers, name);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(',');
}

/** Canonical header value: each value trimmed/collapsed, multiple values joined with `,`. */
export function canonicalHeaderValue(value: HeaderValue): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return trimAll(value);
  return value.map(trimAll).join(',');
}

/** The canonical headers block (each line terminated by `\n`) for the given signed header names. */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    out += `${name}:${canonicalHeaderValue(getHeader(headers, name))}\n`;
  }
  return out;
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  canonicalHeaders: string;
  signedHeaders: string;
  payloadHash: string;
}

export function buildCanonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders,
    parts.signedHeaders,
    parts.payloadHash,
  ].join('\n');
}
