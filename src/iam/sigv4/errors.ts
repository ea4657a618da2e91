/**
 * AWS authentication error vocabulary.
 *
 * AWS uses two naming families for the same failures: the JSON-protocol
 * ("Coral") services such as ECR / ECR Public answer with `...Exception` names
 * and HTTP 400, the Query-protocol services (IAM, STS) with the short names and
 * mostly HTTP 403. `SigV4FailureKind` is the protocol-neutral reason; the code,
 * message and status are derived from it and the error style.
 */

export type SigV4ErrorStyle = 'json' | 'query';

export type SigV4FailureKind =
  /** No Authorization header and no X-Amz-* query authentication at all. */
  | 'missing-authentication'
  /** Authentication is present but malformed/incomplete. */
  | 'incomplete-signature'
  /** Signature, scope, clock or payload checks failed. */
  | 'signature-mismatch'
  /** Unknown access key, or a missing/mismatched session token. */
  | 'invalid-client-token'
  /** Temporary credentials past their expiration. */
  | 'expired-token'
  /** The credential lookup itself failed (not the client's fault). */
  | 'internal';

export type SigV4ErrorStatus = 400 | 403 | 500;

export interface SigV4Error {
  /** AWS exception name, e.g. `InvalidSignatureException` / `SignatureDoesNotMatch`. */
  code: string;
  /** AWS-style human message. */
  message: string;
  status: SigV4ErrorStatus;
  /** Protocol-neutral reason. */
  kind: SigV4FailureKind;
  /** The access key id from the request, when it could be parsed (for audit logs). */
  accessKeyId?: string;
  /** For signature mismatches: what the server computed (log it, do not necessarily send it). */
  canonicalRequest?: string;
  stringToSign?: string;
}

const TABLE: Record<SigV4FailureKind, Record<SigV4ErrorStyle, { code: string; status: SigV4ErrorStatus }>> = {
  'missing-authentication': {
    json: { code: 'MissingAuthenticationTokenException', status: 400 },
    query: { code: 'MissingAuthenticationToken', status: 403 },
  },
  'incomplete-signature': {
    json: { code: 'IncompleteSignatureException', status: 400 },
    query: { code: 'IncompleteSignature', status: 400 },
  },
  'signature-mismatch': {
    json: { code: 'InvalidSignatureException', status: 400 },
    query: { code: 'SignatureDoesNotMatch', status: 403 },
  },
  'invalid-client-token': {
    json: { code: 'UnrecognizedClientException', status: 400 },
    query: { code: 'InvalidClientTokenId', status: 403 },
  },
  'expired-token': {
    json: { code: 'ExpiredTokenException', status: 400 },
    query: { code: 'ExpiredToken', status: 403 },
  },
  internal: {
    json: { code: 'InternalFailure', status: 500 },
    query: { code: 'InternalFailure', status: 500 },
  },
};

export function sigV4ErrorCode(kind: SigV4FailureKind, style: SigV4ErrorStyle): { code: string; status: SigV4ErrorStatus } {
  return TABLE[kind][style];
}

export function makeSigV4Error(
  kind: SigV4FailureKind,
  style: SigV4ErrorStyle,
  message: string,
  extra: Partial<Pick<SigV4Error, 'accessKeyId' | 'canonicalRequest' | 'stringToSign'>> = {},
): SigV4Error {
  const { code, status } = TABLE[kind][style];
  const error: SigV4Error = { code, message, status, kind };
  if (extra.accessKeyId !== undefined) error.accessKeyId = extra.accessKeyId;
  if (extra.canonicalRequest !== undefined) error.canonicalRequest = extra.canonicalRequest;
  if (extra.stringToSign !== undefined) error.stringToSign = extra.stringToSign;
  return error;
}

/** Messages AWS uses verbatim. */
export const MESSAGES = {
  missingAuthenticationToken: 'Missing Authentication Token',
  invalidClientToken: 'The security token included in the request is invalid.',
  expiredToken: 'The security token included in the request is expired',
  signatureMismatch:
    'The request signature we calculated does not match the signature you provided. ' +
    'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  hostNotSigned: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  payloadHashMismatch: "The provided 'x-amz-content-sha256' header does not match what was computed.",
} as const;
