import type { FastifyRequest } from 'fastify';
import type { RootAccount } from '../accounts/root-account.js';
import type { RegistryTokens } from '../auth/registry-token.js';
import { ERRORS, type AwsErrorMembers, type ErrorName } from '../errors.js';
import type { ServerKey } from '../accounts/server-key.js';
import type { Authorizer, Caller } from '../iam/authorizer.js';
import type { IdentityStore } from '../iam/identity-store.js';
import { verifySigV4, type SigV4Credentials } from '../iam/sigv4/index.js';

/** What the AWS API surfaces (JSON and Query protocols) share. */

/** How large a request body an operation reads, and its answer to a larger one. */
export interface BodyLimit {
  bytes: number;
  exceeded(): AwsError;
}

const DEFAULT_BODY_LIMIT: BodyLimit = { bytes: 1024 * 1024, exceeded: () => AwsError.of('SERIALIZATION', 'the request body is larger than 1 MiB') };

/** SigV4 credentials whose `principal` is the authenticated caller. */
export interface SignedCaller extends SigV4Credentials {
  principal: Caller;
}

export interface AwsApiOptions {
  account: RootAccount;
  tokens: RegistryTokens;
  authorizer: Authorizer;
  identities: IdentityStore;
  serverKey: ServerKey;
}

export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
    readonly members: AwsErrorMembers = {},
  ) {
    super(message);
  }

  static of(name: ErrorName, message?: string): AwsError {
    const entry = ERRORS[name];
    return new AwsError(entry.aws, message ?? entry.message, entry.status);
  }
}

/**
 * Reads the body of an AWS API call and verifies its SigV4 signature with
 * the authorizer's keys; throws the protocol's error when it does not verify.
 */
export async function signedCall(
  request: FastifyRequest,
  authorizer: Authorizer,
  options: { expectedService: string | string[]; errorStyle?: 'json' | 'query'; bodyLimit?: BodyLimit | undefined },
): Promise<{ body: Buffer; caller: Caller; service: string; region: string }> {
  const { bodyLimit = DEFAULT_BODY_LIMIT, ...verifyOptions } = options;
  const body = await readBody(request, bodyLimit);
  const verified = await verifySigV4(
    { method: request.method, path: request.url, headers: request.headers as Record<string, string | string[]>, body },
    keyLookup(authorizer),
    { now: new Date(), ...verifyOptions },
  );
  if (!verified.ok) throw new AwsError(verified.error.code, verified.error.message, verified.error.status);
  authorizer.recordKeyUse(verified.accessKeyId, verified.service, verified.region);
  return { body, caller: verified.credentials.principal, service: verified.service, region: verified.region };
}

/** Finds the secret (and for temporary credentials the session token and expiry) and the caller of an active access key, for SigV4. */
function keyLookup(authorizer: Authorizer): (accessKeyId: string) => Promise<SignedCaller | undefined> {
  return async (accessKeyId) => {
    const credentials = await authorizer.credentialsFor(accessKeyId);
    if (!credentials) return undefined;
    const { secretAccessKey, sessionToken, expiration, caller } = credentials;
    return { secretAccessKey, principal: caller, ...(sessionToken === undefined ? {} : { sessionToken }), ...(expiration === undefined ? {} : { expiration }) };
  };
}

/** How much of a refused body is read and dropped before the connection is cut instead. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

/**
 * The whole body, up to the limit. A larger body is refused without being
 * kept: the rest (up to MAX_DRAINED_BYTES) is read and dropped rather than
 * the connection reset, so a client still sending it gets to read the error.
 */
function readBody(request: FastifyRequest, limit: BodyLimit): Promise<Buffer> {
  const body = request.raw;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const keep = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit.bytes) refuse();
      else chunks.push(chunk);
    };
    const finish = (): void => resolve(Buffer.concat(chunks, total));
    const refuse = (): void => {
      body.off('data', keep).off('end', finish);
      let drained = 0;
      body.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > MAX_DRAINED_BYTES) body.destroy();
      });
      reject(limit.exceeded());
    };
    body.once('error', reject);
    // After 'end' this settles nothing; before it, the client went away mid-body.
    body.once('close', () => reject(new Error('the connection closed before the request body ended')));
    if (Number(request.headers['content-length']) > limit.bytes) refuse();
    else body.on('data', keep).once('end', finish);
  });
}
