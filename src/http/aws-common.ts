import type { FastifyRequest } from 'fastify';
import type { RootAccount } from '../accounts/root-account.js';
import type { RegistryTokens } from '../auth/registry-token.js';
import { ERRORS, type ErrorName } from '../errors.js';
import type { ServerKey } from '../accounts/server-key.js';
import type { Authorizer, Caller } from '../iam/authorizer.js';
import type { IdentityStore } from '../iam/identity-store.js';
import { verifySigV4, type SigV4Credentials } from '../iam/sigv4/index.js';

/** What the AWS API surfaces (JSON and Query protocols) share. */

const MAX_BODY_BYTES = 1024 * 1024;

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
  options: { expectedService: string | string[]; errorStyle?: 'json' | 'query' },
): Promise<{ body: Buffer; caller: Caller; service: string; region: string }> {
  const body = await readBody(request);
  const verified = await verifySigV4(
    { method: request.method, path: request.url, headers: request.headers as Record<string, string | string[]>, body },
    keyLookup(authorizer),
    { now: new Date(), ...options },
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

async function readBody(request: FastifyRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw AwsError.of('SERIALIZATION', 'the request body is larger than 1 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
