import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../../errors.js';
import { isAccountId, isRepositoryName, qualifiedName } from '../../names.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import { LOGO_PATH, storedLogo } from './repositories-public.js';

/** Image formats recognized by their first bytes; anything else is served as opaque bytes. */
const IMAGE_SIGNATURES: readonly { type: string; matches(bytes: Buffer): boolean }[] = [
  { type: 'image/png', matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', matches: (b) => b.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) },
  { type: 'image/gif', matches: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')) },
  { type: 'image/webp', matches: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];

/**
 * Serves the logo of a public repository at the `logoUrl` ECR Public's
 * catalog data names (GET and HEAD, to anyone: public registries are
 * public). The content type is the image format the bytes start with.
 */
export function registerRepositoryLogos(app: FastifyInstance, { metadata }: { metadata: MetadataStore }): void {
  app.route({
    method: ['GET', 'HEAD'],
    // A wildcard: repository names contain '/'.
    url: `${LOGO_PATH}*`,
    handler: async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      const slash = path.indexOf('/');
      const accountId = path.slice(0, slash);
      const name = path.slice(slash + 1);
      if (slash < 0 || !isAccountId(accountId) || !isRepositoryName(name)) throw new RegistryError('NAME_UNKNOWN', 'no public repository is named by this logo URL');
      const repository = await metadata.getRepository(qualifiedName({ accountId, kind: 'public' }, name));
      const logo = repository && storedLogo(repository);
      if (!logo) throw new RegistryError('NAME_UNKNOWN', `the public repository '${name}' of registry '${accountId}' has no logo`);
      reply.headers({
        'Content-Type': IMAGE_SIGNATURES.find((signature) => signature.matches(logo))?.type ?? 'application/octet-stream',
        'Content-Length': String(logo.length),
        ETag: `"${createHash('sha256').update(logo).digest('hex')}"`,
        // The bytes are whatever the repository's owner uploaded: never let a browser read them as anything but the type given.
        'X-Content-Type-Options': 'nosniff',
      });
      return reply.send(request.method === 'HEAD' ? undefined : logo);
    },
  });
}
