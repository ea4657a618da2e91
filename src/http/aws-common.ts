import type { FastifyRequest } from 'fastify';
import type { RootAccount } from '../accounts/root-account.js';
import type { RegistryTokens } from '../auth/registry-token.js';
import { ERRORS, type ErrorName } from '../errors.js';
import type { SigV4Credentials } from '../iam/sigv4/index.js';

/** What the AWS API surfaces (JSON and Query protocols) share. */

const MAX_BODY_BYTES = 1024 * 1024;

export interface Caller extends SigV4Credentials {
  principal: { arn: string; accessKeyId: string };
}

export interface AwsApiOptions {
  account: RootAccount;
  tokens: RegistryTokens;
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

/** Finds the credentials of an access key: so far only the default account's root key. */
export function rootKeyLookup(account: RootAccount): (accessKeyId: string) => Caller | undefined {
  return (accessKeyId) =>
    accessKeyId === account.accessKeyId ? { secretAccessKey: account.secretAccessKey, principal: { arn: account.arn, accessKeyId } } : undefined;
}

export async function readBody(request: FastifyRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw AwsError.of('SERIALIZATION', 'the request body is larger than 1 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
