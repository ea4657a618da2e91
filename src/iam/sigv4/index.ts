/**
 * Berth's AWS Signature Version 4 request verifier (header and presigned
 * query-string forms). Self-contained: no server wiring lives here.
 */
export {
  verifySigV4,
  formatAmzDate,
  parseAmzDate,
  ALGORITHM,
  UNSIGNED_PAYLOAD,
  EMPTY_SHA256,
  MAX_PRESIGN_EXPIRES_SECONDS,
  DEFAULT_MAX_SKEW_SECONDS,
  type SigV4Request,
  type SigV4Credentials,
  type CredentialLookup,
  type VerifySigV4Options,
  type SigV4AuthType,
  type SigV4Success,
  type SigV4Failure,
  type SigV4Result,
} from './verify.js';
export {
  sigV4ErrorCode,
  makeSigV4Error,
  MESSAGES as SIGV4_MESSAGES,
  type SigV4Error,
  type SigV4ErrorStyle,
  type SigV4ErrorStatus,
  type SigV4FailureKind,
} from './errors.js';
export { SigningKeyCache, defaultSigningKeyCache, deriveSigningKey } from './signing-key.js';
export {
  canonicalUri,
  canonicalQueryString,
  canonicalHeaders,
  normalizePath,
  parseQuery,
  uriEncode,
  type HeaderMap,
  type HeaderValue,
  type QueryParam,
} from './canonical.js';
