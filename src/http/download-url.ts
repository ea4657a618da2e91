import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.js';
import { registryHost } from './addressing.js';
import type { Registry } from '../registry/registry.js';

/** Where GetDownloadUrlForLayer's URLs point. */
export const DOWNLOAD_PATH = '/layer-download/';
/** How long a download URL works, as ECR's pre-signed S3 URLs (one hour). */
export const DOWNLOAD_URL_TTL_SECONDS = 3600;
/** Keeps these MACs apart from every other use of the API signing key (pagination tokens start with a length). */
const MAC_LABEL = 'berth layer download\n';

interface DownloadGrant {
  repository: string;
  digest: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/**
 * A URL that streams one layer of one repository to whoever holds it,
 * without other credentials, until it expires: the answer to
 * GetDownloadUrlForLayer, standing in for ECR's pre-signed S3 URL. It
 * carries the repository, the digest and the expiry, signed (HMAC-SHA256)
 * with the server's API signing key; nothing is stored. It points at the
 * registry listener, which serves it.
 */
export function downloadUrl(request: FastifyRequest, registryPort: number | undefined, key: Uint8Array, repository: string, digest: string): string {
  const grant: DownloadGrant = { repository, digest, expiresAt: Math.floor(Date.now() / 1000) + DOWNLOAD_URL_TTL_SECONDS };
  const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
  return `${request.protocol}://${registryHost(request, registryPort)}${DOWNLOAD_PATH}${payload}.${mac(key, payload).toString('base64url')}`;
}

/** Serves the URLs downloadUrl makes: GET and HEAD, the blob's bytes while the grant holds and the repository still has the layer. */
export function registerDownloadUrls(app: FastifyInstance, options: { registry: Registry; apiSigningKey: Uint8Array }): void {
  const { registry, apiSigningKey } = options;
  app.route({
    method: ['GET', 'HEAD'],
    // A wildcard, not a `:token` parameter: the token is longer than fastify's parameter limit.
    url: `${DOWNLOAD_PATH}*`,
    handler: async (request, reply) => {
      const grant = verify(apiSigningKey, (request.params as { '*': string })['*']);
      if (!grant) throw new RegistryError('DENIED', 'the download URL is not valid');
      if (grant.expiresAt * 1000 <= Date.now()) throw new RegistryError('DENIED', 'the download URL has expired');
      const blob = await registry.blob(grant.repository, grant.digest);
      reply.headers({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size), 'Docker-Content-Digest': blob.digest, ETag: `"${blob.digest}"` });
      if (request.method === 'HEAD' || blob.size === 0) return reply.send();
      return reply.send(await registry.blobs.read(blob.digest));
    },
  });
}

function verify(key: Uint8Array, token: string): DownloadGrant | undefined {
  const [payload, signature, extra] = token.split('.');
  if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DownloadGrant;
}

function mac(key: Uint8Array, payload: string): Buffer {
  return createHmac('sha256', key).update(MAC_LABEL + payload).digest();
}
