import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import type { RegistryTokens } from '../auth/registry-token.js';
import type { Authorizer } from '../iam/authorizer.js';
import { accessDeniedMessage } from '../iam/policy/index.js';
import { RegistryError } from '../errors.js';
import { acceptsMediaType, MAX_MANIFEST_BYTES, MediaType } from '../registry/manifest.js';
import type { Registry } from '../registry/registry.js';
import { matchV2Route, type V2Route } from './routes.js';
import { CATALOG_ACTION, ecrActionFor, MOUNT_SOURCE_ACTION, repositoryArn } from './v2-actions.js';
import { requestContext } from './request-context.js';

const API_VERSION_HEADER = { 'Docker-Distribution-Api-Version': 'registry/2.0' };
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export interface V2Options {
  registry: Registry;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Every repository belongs to this account's private registry (for now). */
  accountId: string;
  region: string;
  realm: string;
  /** What an unauthenticated request is told to do: log in with Basic, or fetch a token from TOKEN_PATH. */
  challenge: 'basic' | 'bearer';
  tokens: RegistryTokens;
  /** The key the administrator login's tokens are tied to (the default account's root key). */
  rootAccessKeyId: string;
}

/** The Docker token flow's endpoint (the `realm` of a Bearer challenge). */
export const TOKEN_PATH = '/auth/token';

/**
 * Throws DENIED unless the caller may perform `action` on repository `name`.
 * `unrestricted` is true for the registry account's root, who may do anything.
 */
type Permit = ((name: string, action: string) => Promise<void>) & { unrestricted: boolean };

/** The OCI Distribution / Docker Registry v2 data plane, a thin adapter over the registry core. */
export function registerV2(app: FastifyInstance, options: V2Options): void {
  const { registry, authenticator, authorizer, accountId, region, realm, challenge, tokens, rootAccessKeyId } = options;
  // Async handlers must return the reply, or fastify ends a streamed response before it starts.
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    reply.headers(API_VERSION_HEADER);
    const url = request.url;
    const queryStart = url.indexOf('?');
    const path = url.slice('/v2/'.length, queryStart < 0 ? undefined : queryStart);
    const query = new URLSearchParams(queryStart < 0 ? '' : url.slice(queryStart + 1));
    const caller = await authenticator.authenticate(request.headers.authorization);
    if (!caller) {
      const route = matchV2Route(path);
      const scope = route && 'name' in route ? `,scope="repository:${route.name}:pull,push"` : '';
      reply.header(
        'WWW-Authenticate',
        challenge === 'bearer' ? `Bearer realm="${request.protocol}://${request.headers.host ?? request.hostname}${TOKEN_PATH}",service="${realm}"${scope}` : `Basic realm="${realm}"`,
      );
      throw new RegistryError('UNAUTHORIZED');
    }
    const route = matchV2Route(path);
    if (!route) throw new RegistryError('NAME_UNKNOWN', `no route for ${request.method} ${url.slice(0, 300)}`);
    const permit: Permit = Object.assign(
      async (name: string, action: string) => {
        const resource = repositoryArn(region, accountId, name);
        const context = requestContext(request);
        const decision = await authorizer.authorize(caller, action, resource, accountId, context);
        if (decision.decision !== 'Allow') throw new RegistryError('DENIED', accessDeniedMessage({ principal: caller.principal, action, resource }, decision));
      },
      { unrestricted: authorizer.isAccountRoot(caller, accountId) },
    );
    const action = ecrActionFor(route, request.method);
    if (action && 'name' in route && !permit.unrestricted) await permit(route.name, action);
    await dispatch(registry, route, permit, request, reply, query);
    return reply;
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/*', handler });
  // The Docker token flow: the same login as /v2/ (Basic) buys a registry token to send as Bearer.
  // What the token may do is decided per request by the caller's policies, so `scope` is not narrowed here.
  app.get(TOKEN_PATH, async (request, reply) => {
    const caller = await authenticator.authenticate(request.headers.authorization);
    if (!caller) {
      reply.header('WWW-Authenticate', `Basic realm="${realm}"`);
      throw new RegistryError('UNAUTHORIZED');
    }
    const { token, expiresAt } = tokens.mintFor(caller, caller.accessKeyId ?? rootAccessKeyId, 'ecr');
    const now = Math.floor(Date.now() / 1000);
    return reply.type('application/json').send({ token, access_token: token, expires_in: expiresAt - now, issued_at: new Date(now * 1000).toISOString() });
  });
  app.route({ method: ['GET', 'HEAD'], url: '/v2', handler: (request, reply) => reply.redirect('/v2/', 301) });
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function dispatch(
  registry: Registry,
  route: V2Route,
  permit: Permit,
  request: FastifyRequest,
  reply: FastifyReply,
  query: URLSearchParams,
): Promise<void> {
  const method = request.method as Method;
  switch (route.kind) {
    case 'base':
      if (method !== 'GET' && method !== 'HEAD') break;
      reply.type('application/json').send('{}');
      return;

    case 'catalog': {
      if (method !== 'GET') break;
      const n = pageSize(query);
      const last = query.get('last') ?? undefined;
      // Only what the caller may describe: read on until n are visible, and page from the last visible
      // one, so neither the body nor the Link header names a repository the caller may not see.
      const visible: string[] = [];
      let cursor = last;
      let more = n > 0;
      while (more && visible.length < n) {
        const page = await registry.listRepositories(n, cursor);
        for (const name of page.items) {
          cursor = name;
          if (visible.length < n && (permit.unrestricted || (await permitted(permit, name, CATALOG_ACTION)))) visible.push(name);
          if (visible.length === n) break;
        }
        const stoppedInside = cursor !== page.items.at(-1);
        more = page.items.length > 0 && (page.more || stoppedInside);
      }
      if (more && visible.length > 0) reply.header('Link', nextLink('/v2/_catalog', n, visible.at(-1) as string));
      reply.type('application/json').send({ repositories: visible });
      return;
    }

    case 'tags': {
      if (method !== 'GET') break;
      const n = pageSize(query);
      const last = query.get('last') ?? undefined;
      const page = n === 0 ? { items: [], more: false } : await registry.listTagNames(route.name, n, last);
      if (n === 0) await registry.repository(route.name);
      const tags = page.items;
      if (page.more) reply.header('Link', nextLink(`/v2/${route.name}/tags/list`, n, tags.at(-1) as string));
      reply.type('application/json').send({ name: route.name, tags });
      return;
    }

    case 'manifest':
      if (method === 'GET' || method === 'HEAD') {
        const manifest = await registry.getManifest(route.name, route.reference);
        if (!acceptsMediaType(request.headers.accept, manifest.mediaType)) {
          throw new RegistryError('MANIFEST_UNKNOWN', `manifest is ${manifest.mediaType}, which the Accept header excludes`);
        }
        reply.headers({ 'Docker-Content-Digest': manifest.digest, ETag: `"${manifest.digest}"` });
        if (notModified(request, manifest.digest)) {
          reply.code(304).send();
          return;
        }
        reply.headers({ 'Content-Type': manifest.mediaType, 'Content-Length': String(manifest.content.byteLength) });
        if (method === 'HEAD') reply.send();
        else reply.send(Buffer.from(manifest.content.buffer, manifest.content.byteOffset, manifest.content.byteLength));
        return;
      }
      if (method === 'PUT') {
        const body = await readLimited(request, MAX_MANIFEST_BYTES);
        const { digest, parsed } = await registry.putManifest(route.name, route.reference, body, request.headers['content-type']);
        if (parsed.subject) reply.header('OCI-Subject', parsed.subject.digest);
        reply.code(201).headers({ Location: `/v2/${route.name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).send();
        return;
      }
      if (method === 'DELETE') {
        await registry.deleteManifest(route.name, route.reference);
        reply.code(202).header('Content-Length', '0').send();
        return;
      }
      break;

    case 'blob':
      if (method === 'GET' || method === 'HEAD') {
        await sendBlob(registry, route.name, route.digest, request, reply, method === 'HEAD');
        return;
      }
      if (method === 'DELETE') {
        await registry.deleteBlob(route.name, route.digest);
        reply.code(202).header('Content-Length', '0').send();
        return;
      }
      break;

    case 'uploads': {
      if (method !== 'POST') break;
      const mount = query.get('mount');
      const from = query.get('from');
      // A source the caller may not read is treated as one without the blob: a plain upload starts.
      if (mount && from && (await permitted(permit, from, MOUNT_SOURCE_ACTION)) && (await permitted(permit, route.name, 'ecr:CompleteLayerUpload'))) {
        const mounted = await registry.mountBlob(route.name, mount, from);
        if (mounted) {
          sendCreatedBlob(reply, route.name, mounted.digest);
          return;
        }
      }
      const digest = query.get('digest');
      if (digest) {
        // A whole blob in one request is also its upload part and its completion.
        await permit(route.name, 'ecr:UploadLayerPart');
        await permit(route.name, 'ecr:CompleteLayerUpload');
        const blob = await registry.pushBlob(route.name, digest, request.raw, contentLength(request));
        sendCreatedBlob(reply, route.name, blob.digest);
        return;
      }
      const upload = await registry.startUpload(route.name);
      sendUploadState(reply.code(202), route.name, upload.id, upload.size);
      return;
    }

    case 'upload':
      if (method === 'GET' || method === 'HEAD') {
        const upload = await registry.uploadStatus(route.name, route.id);
        sendUploadState(reply.code(204), route.name, upload.id, upload.size);
        return;
      }
      if (method === 'PATCH') {
        const range = parseContentRange(request.headers['content-range']);
        const upload = await registry.appendUpload(route.name, route.id, request.raw, range, contentLength(request));
        sendUploadState(reply.code(202), route.name, upload.id, upload.size);
        return;
      }
      if (method === 'PUT') {
        const digest = query.get('digest');
        if (!digest) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
        const length = contentLength(request);
        const hasBody = (length !== undefined && length > 0) || request.headers['transfer-encoding'] !== undefined;
        const range = parseContentRange(request.headers['content-range']);
        const blob = await registry.completeUpload(route.name, route.id, digest, hasBody ? request.raw : undefined, length, range);
        sendCreatedBlob(reply, route.name, blob.digest);
        return;
      }
      if (method === 'DELETE') {
        await registry.cancelUpload(route.name, route.id);
        reply.code(204).send();
        return;
      }
      break;

    case 'referrers': {
      if (method !== 'GET') break;
      const artifactType = query.get('artifactType') ?? undefined;
      const manifests = await registry.referrers(route.name, route.digest, artifactType);
      if (artifactType) reply.header('OCI-Filters-Applied', 'artifactType');
      reply.header('Content-Type', MediaType.ociIndex).send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
      return;
    }
  }
  throw new RegistryError('UNSUPPORTED', `${method} is not supported here`);
}

async function permitted(permit: Permit, name: string, action: string): Promise<boolean> {
  try {
    await permit(name, action);
    return true;
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'DENIED') return false;
    throw err;
  }
}

async function sendBlob(registry: Registry, name: string, digest: string, request: FastifyRequest, reply: FastifyReply, headOnly: boolean): Promise<void> {
  const blob = await registry.blob(name, digest);
  reply.headers({ 'Docker-Content-Digest': blob.digest, ETag: `"${blob.digest}"` });
  if (notModified(request, blob.digest)) {
    reply.code(304).send();
    return;
  }
  reply.headers({ 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' });
  if (!headOnly) {
    const redirect = await registry.blobs.downloadUrl(blob.digest);
    if (redirect) {
      reply.redirect(redirect, 307);
      return;
    }
  }
  const range = parseRange(request.headers.range, blob.size);
  if (range === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${blob.size}`);
    throw new RegistryError('RANGE_INVALID', `range not satisfiable for a blob of ${blob.size} bytes`);
  }
  if (range) {
    reply.code(206).headers({ 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}`, 'Content-Length': String(range.end - range.start + 1) });
  } else {
    reply.header('Content-Length', String(blob.size));
  }
  if (headOnly || blob.size === 0) {
    reply.send();
    return;
  }
  reply.send(await registry.blobs.read(blob.digest, range));
}

/** True when the client's If-None-Match already names this content. */
function notModified(request: FastifyRequest, digest: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${digest}"`);
}

function sendCreatedBlob(reply: FastifyReply, name: string, digest: string): void {
  reply.code(201).headers({ Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).send();
}

function sendUploadState(reply: FastifyReply, name: string, id: string, size: number): void {
  reply
    .headers({
      Location: `/v2/${name}/blobs/uploads/${id}`,
      Range: `0-${Math.max(size - 1, 0)}`,
      'Docker-Upload-UUID': id,
      'Content-Length': '0',
    })
    .send();
}

function pageSize(query: URLSearchParams): number {
  const n = query.get('n');
  if (n === null || n === '') return DEFAULT_PAGE;
  if (!/^\d+$/.test(n)) throw new RegistryError('PAGINATION_INVALID', `invalid n: ${n.slice(0, 50)}`);
  return Math.min(Number(n), MAX_PAGE);
}

function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

function contentLength(request: FastifyRequest): number | undefined {
  const value = request.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

/** `Content-Range: <start>-<end>` as chunked uploads send it (some clients prefix `bytes `). */
function parseContentRange(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:bytes )?(\d+)-(\d+)$/.exec(value.trim());
  if (!match) throw new RegistryError('RANGE_INVALID', `invalid Content-Range: ${value.slice(0, 100)}`);
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new RegistryError('RANGE_INVALID', `invalid Content-Range: ${value.slice(0, 100)}`);
  return { start, end };
}

/** A single `Range: bytes=…` request; multi-range requests are served whole. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!value) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

async function readLimited(request: FastifyRequest, limit: number): Promise<Uint8Array> {
  const declared = contentLength(request);
  if (declared !== undefined && declared > limit) throw new RegistryError('MANIFEST_TOO_BIG');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new RegistryError('MANIFEST_TOO_BIG');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
