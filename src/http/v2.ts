import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import type { RegistryTokens } from '../auth/registry-token.js';
import type { Authorizer } from '../iam/authorizer.js';
import { accessDeniedMessage } from '../iam/policy/index.js';
import { RegistryError } from '../errors.js';
import { acceptsMediaType, MAX_MANIFEST_BYTES, MediaType } from '../registry/manifest.js';
import { pullTimeUpdateExclusionCheck } from '../registry/pull-recorder.js';
import type { Registry } from '../registry/registry.js';
import type { Caller } from '../iam/authorizer.js';
import { registryPrefix, type RegistryRef } from '../names.js';
import type { RepositoryPolicies } from '../registry/repository-policies.js';
import { DEFAULT_REPOSITORY_SETTINGS, type MetadataStore } from '../storage/metadata-store.js';
import type { RegistrySettingsStore } from '../storage/registry-settings-store.js';
import type { Addressing, RepositoryAddress } from './addressing.js';
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
  /** Which account's registry a repository path names. */
  addressing: Addressing;
  /** Repository and registry policies, evaluated as resource policies. */
  policies: RepositoryPolicies;
  metadata: MetadataStore;
  /** Where CREATE_ON_PUSH repository creation templates are kept. */
  registrySettings: RegistrySettingsStore;
  /** Whether a push to a missing repository creates it when no template applies (as Distribution does). */
  createRepositoryOnPush: boolean;
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
/** What the token endpoint gives a client without credentials: pulls from public registries need no more. */
const ANONYMOUS_TOKEN = 'anonymous';

/**
 * No credentials: no header, the token endpoint's anonymous token, or Basic
 * with an empty user and password (what containers/image sends when a
 * registry challenges with Basic and it has no login for it).
 */
function isAnonymous(authorization: string | undefined): boolean {
  return authorization === undefined || authorization === `Bearer ${ANONYMOUS_TOKEN}` || /^basic\s+Og==\s*$/i.test(authorization);
}

const PUBLIC_TOKEN_ON_PRIVATE_REGISTRY = 'an ECR Public login (aws ecr-public get-login-password) opens public registries only; log in with aws ecr get-login-password for private repositories';

/** Throws DENIED (or UNAUTHORIZED for an anonymous caller) unless `action` is allowed on the repository. */
type Permit = (address: RepositoryAddress, action: string) => Promise<void>;

/** The ECR actions that read a repository: in a public registry anyone may perform them, anonymous callers included. */
const PUBLIC_READS = new Set(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:ListImages']);

/** The OCI Distribution / Docker Registry v2 data plane, a thin adapter over the registry core. */
export function registerV2(app: FastifyInstance, options: V2Options): void {
  const { registry, authenticator, authorizer, addressing, policies, region, realm, challenge, tokens, rootAccessKeyId } = options;
  const ensurePushTarget = pushTargetCreator(options);

  const unauthorized = (request: FastifyRequest, reply: FastifyReply, name?: string): RegistryError => {
    const scope = name === undefined ? '' : `,scope="repository:${name}:pull,push"`;
    reply.header(
      'WWW-Authenticate',
      challenge === 'bearer' ? `Bearer realm="${request.protocol}://${request.headers.host ?? request.hostname}${TOKEN_PATH}",service="${realm}"${scope}` : `Basic realm="${realm}"`,
    );
    return new RegistryError('UNAUTHORIZED');
  };

  // Async handlers must return the reply, or fastify ends a streamed response before it starts.
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    reply.headers(API_VERSION_HEADER);
    const url = request.url;
    const queryStart = url.indexOf('?');
    const path = url.slice('/v2/'.length, queryStart < 0 ? undefined : queryStart);
    const query = new URLSearchParams(queryStart < 0 ? '' : url.slice(queryStart + 1));
    const authorization = request.headers.authorization;
    const anonymous = isAnonymous(authorization);
    const caller = anonymous ? undefined : await authenticator.authenticate(authorization);
    const route = matchV2Route(path);
    const routeName = route && 'name' in route ? route.name : undefined;
    if (!caller && !anonymous) throw unauthorized(request, reply, routeName);
    if (!route) {
      if (!caller) throw unauthorized(request, reply);
      throw new RegistryError('NAME_UNKNOWN', `no route for ${request.method} ${url.slice(0, 300)}`);
    }
    const host = request.headers.host;
    let address: RepositoryAddress | undefined;
    if (routeName !== undefined) {
      try {
        address = await addressing.resolve(host, routeName);
      } catch (err) {
        // An anonymous caller learns nothing about names, accounts or aliases beyond "log in".
        if (!caller) throw unauthorized(request, reply, routeName);
        throw err;
      }
    }
    const context = requestContext(request);
    const permit: Permit = async (target, action) => {
      const publicRegistry = target.registry.kind === 'public';
      if (publicRegistry && PUBLIC_READS.has(action)) return;
      if (!caller) throw unauthorized(request, reply, routeName);
      if (caller.tokenService === 'ecr-public' && !publicRegistry) throw new RegistryError('DENIED', PUBLIC_TOKEN_ON_PRIVATE_REGISTRY);
      const { accountId } = target.registry;
      const serviceAction = publicRegistry ? action.replace(/^ecr:/, 'ecr-public:') : action;
      const resource = publicRegistry ? `arn:aws:ecr-public::${accountId}:repository/${target.name}` : repositoryArn(region, accountId, target.name);
      const decision = await authorizer.authorize(caller, serviceAction, resource, accountId, context, await policies.forRepository(target.qualified));
      if (decision.decision !== 'Allow') throw new RegistryError('DENIED', accessDeniedMessage({ principal: caller.principal, action: serviceAction, resource }, decision));
    };
    const action = ecrActionFor(route, request.method);
    if (address && action) await permit(address, action);
    else if (!caller) throw unauthorized(request, reply, routeName);
    // A push starts with an upload or a manifest: the repository must exist by then, or be created now.
    if (address && caller && ((route.kind === 'uploads' && request.method === 'POST') || (route.kind === 'manifest' && request.method === 'PUT'))) {
      await ensurePushTarget(address, permit);
    }
    await dispatch({ registry, registrySettings: options.registrySettings, addressing, route, address, caller, permit, request, reply, query });
    return reply;
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/*', handler });
  // The Docker token flow: the same login as /v2/ (Basic) buys a registry token to send as Bearer.
  // What the token may do is decided per request by the caller's policies, so `scope` is not narrowed here.
  app.get(TOKEN_PATH, async (request, reply) => {
    const now = Math.floor(Date.now() / 1000);
    if (request.headers.authorization === undefined) {
      // Anonymous, as registries give anonymous pull tokens: good for public registries only.
      return reply.type('application/json').send({ token: ANONYMOUS_TOKEN, access_token: ANONYMOUS_TOKEN, expires_in: 3600, issued_at: new Date(now * 1000).toISOString() });
    }
    const caller = await authenticator.authenticate(request.headers.authorization);
    if (!caller) {
      reply.header('WWW-Authenticate', `Basic realm="${realm}"`);
      throw new RegistryError('UNAUTHORIZED');
    }
    const { token, expiresAt } = tokens.mintFor(caller, caller.accessKeyId ?? rootAccessKeyId, caller.tokenService ?? 'ecr');
    return reply.type('application/json').send({ token, access_token: token, expires_in: expiresAt - now, issued_at: new Date(now * 1000).toISOString() });
  });
  app.route({ method: ['GET', 'HEAD'], url: '/v2', handler: (request, reply) => reply.redirect('/v2/', 301) });
}

/**
 * What happens when a push names a repository that does not exist: a
 * CREATE_ON_PUSH creation template of the account that matches the name
 * creates it with the template's settings, if the caller may
 * ecr:CreateRepository (as ECR); otherwise, with createRepositoryOnPush, it
 * is created with defaults (as Distribution); otherwise the push fails with
 * NAME_UNKNOWN, as ECR's does.
 */
function pushTargetCreator(options: V2Options): (address: RepositoryAddress, permit: Permit) => Promise<void> {
  const { metadata, registrySettings, policies, createRepositoryOnPush } = options;
  return async (address, permit) => {
    if (await metadata.getRepository(address.qualified)) return;
    const template = address.registry.kind === 'private' ? await registrySettings.matchingCreationTemplate(address.registry.accountId, address.name, 'CREATE_ON_PUSH') : undefined;
    if (template) {
      await permit(address, 'ecr:CreateRepository');
      const t = template.document;
      await metadata.createRepository(
        address.qualified,
        {
          ...DEFAULT_REPOSITORY_SETTINGS,
          imageTagMutability: t.imageTagMutability,
          tagMutabilityExclusions: t.imageTagMutabilityExclusionFilters ? JSON.stringify(t.imageTagMutabilityExclusionFilters) : null,
          encryption: JSON.stringify(t.encryptionConfiguration),
          resourceTags: t.resourceTags.length > 0 ? JSON.stringify(t.resourceTags) : null,
          lifecyclePolicy: t.lifecyclePolicy ?? null,
        },
        t.repositoryPolicy ?? null,
      );
      if (t.repositoryPolicy) policies.invalidate();
      return;
    }
    if (createRepositoryOnPush) return;
    throw new RegistryError('NAME_UNKNOWN', `The repository with name '${address.name}' does not exist in the registry with id '${address.registry.accountId}'`);
  };
}

interface DispatchContext {
  registry: Registry;
  /** Whose pull-time update exclusions a manifest pull is checked against. */
  registrySettings: RegistrySettingsStore;
  addressing: Addressing;
  route: V2Route;
  /** The repository the route names, resolved to its registry (undefined for base and catalog). */
  address: RepositoryAddress | undefined;
  caller: Caller | undefined;
  permit: Permit;
  request: FastifyRequest;
  reply: FastifyReply;
  query: URLSearchParams;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function dispatch(context: DispatchContext): Promise<void> {
  const { registry, registrySettings, addressing, route, address, caller, permit, request, reply, query } = context;
  const method = request.method as Method;
  /** The qualified name of the route's repository, for the core. */
  const repo = address?.qualified ?? '';
  switch (route.kind) {
    case 'base':
      if (method !== 'GET' && method !== 'HEAD') break;
      reply.type('application/json').send('{}');
      return;

    case 'catalog': {
      if (method !== 'GET' || !caller) break;
      const n = pageSize(query);
      const host = request.headers.host;
      // The catalog is the caller's own private registry, named as this host addresses it.
      const own: RegistryRef = { accountId: caller.principal.accountId, kind: 'private' };
      const lastParam = query.get('last') ?? undefined;
      const last = lastParam === undefined ? undefined : await cursorName(addressing, host, own, lastParam);
      // Only what the caller may describe: read on until n are visible, and page from the last visible
      // one, so neither the body nor the Link header names a repository the caller may not see.
      const visible: string[] = [];
      let cursor = last;
      let lastVisible: string | undefined;
      let more = n > 0;
      const prefixLength = registryPrefix(own).length;
      while (more && visible.length < n) {
        const page = await registry.listRepositories(own, n, cursor);
        for (const qualified of page.items) {
          const name = qualified.slice(prefixLength);
          cursor = name;
          if (await permitted(permit, { registry: own, name, qualified }, CATALOG_ACTION)) {
            visible.push(addressing.pathOf(host, own, name));
            lastVisible = name;
          }
          if (visible.length === n) break;
        }
        const stoppedInside = page.items.length > 0 && cursor !== (page.items.at(-1) as string).slice(prefixLength);
        more = page.items.length > 0 && (page.more || stoppedInside);
      }
      if (more && lastVisible !== undefined) reply.header('Link', nextLink('/v2/_catalog', n, visible.at(-1) as string));
      reply.type('application/json').send({ repositories: visible });
      return;
    }

    case 'tags': {
      if (method !== 'GET') break;
      const n = pageSize(query);
      const last = query.get('last') ?? undefined;
      const page = n === 0 ? { items: [], more: false } : await registry.listTagNames(repo, n, last);
      if (n === 0) await registry.repository(repo);
      const tags = page.items;
      if (page.more) reply.header('Link', nextLink(`/v2/${route.name}/tags/list`, n, tags.at(-1) as string));
      reply.type('application/json').send({ name: route.name, tags });
      return;
    }

    case 'manifest':
      if (method === 'GET' || method === 'HEAD') {
        const isExcluded = address && pullTimeUpdateExclusionCheck(registrySettings, address.registry.accountId, caller?.principal);
        const manifest = await registry.getManifest(repo, route.reference, isExcluded);
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
        const { digest, parsed } = await registry.putManifest(repo, route.reference, body, request.headers['content-type']);
        if (parsed.subject) reply.header('OCI-Subject', parsed.subject.digest);
        reply.code(201).headers({ Location: `/v2/${route.name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).send();
        return;
      }
      if (method === 'DELETE') {
        await registry.deleteManifest(repo, route.reference);
        reply.code(202).header('Content-Length', '0').send();
        return;
      }
      break;

    case 'blob':
      if (method === 'GET' || method === 'HEAD') {
        await sendBlob(registry, repo, route.digest, request, reply, method === 'HEAD');
        return;
      }
      if (method === 'DELETE') {
        await registry.deleteBlob(repo, route.digest);
        reply.code(202).header('Content-Length', '0').send();
        return;
      }
      break;

    case 'uploads': {
      if (method !== 'POST') break;
      const mount = query.get('mount');
      const from = query.get('from');
      const target = address as RepositoryAddress;
      // A source the caller may not read (or that does not exist) is treated as one without the blob: a plain upload starts.
      const source = mount && from ? await addressing.resolve(request.headers.host, from).catch(() => undefined) : undefined;
      if (mount && source && (await permitted(permit, source, MOUNT_SOURCE_ACTION)) && (await permitted(permit, target, 'ecr:CompleteLayerUpload'))) {
        const mounted = await registry.mountBlob(repo, mount, source.qualified);
        if (mounted) {
          sendCreatedBlob(reply, route.name, mounted.digest);
          return;
        }
      }
      const digest = query.get('digest');
      if (digest) {
        // A whole blob in one request is also its upload part and its completion.
        await permit(target, 'ecr:UploadLayerPart');
        await permit(target, 'ecr:CompleteLayerUpload');
        const blob = await registry.pushBlob(repo, digest, request.raw, contentLength(request));
        sendCreatedBlob(reply, route.name, blob.digest);
        return;
      }
      const upload = await registry.startUpload(repo);
      sendUploadState(reply.code(202), route.name, upload.id, upload.size);
      return;
    }

    case 'upload':
      if (method === 'GET' || method === 'HEAD') {
        const upload = await registry.uploadStatus(repo, route.id);
        sendUploadState(reply.code(204), route.name, upload.id, upload.size);
        return;
      }
      if (method === 'PATCH') {
        const range = parseContentRange(request.headers['content-range']);
        const upload = await registry.appendUpload(repo, route.id, request.raw, range, contentLength(request));
        sendUploadState(reply.code(202), route.name, upload.id, upload.size);
        return;
      }
      if (method === 'PUT') {
        const digest = query.get('digest');
        if (!digest) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
        const length = contentLength(request);
        const hasBody = (length !== undefined && length > 0) || request.headers['transfer-encoding'] !== undefined;
        const range = parseContentRange(request.headers['content-range']);
        const blob = await registry.completeUpload(repo, route.id, digest, hasBody ? request.raw : undefined, length, range);
        sendCreatedBlob(reply, route.name, blob.digest);
        return;
      }
      if (method === 'DELETE') {
        await registry.cancelUpload(repo, route.id);
        reply.code(204).send();
        return;
      }
      break;

    case 'referrers': {
      if (method !== 'GET') break;
      const artifactType = query.get('artifactType') ?? undefined;
      const manifests = await registry.referrers(repo, route.digest, artifactType);
      if (artifactType) reply.header('OCI-Filters-Applied', 'artifactType');
      reply.header('Content-Type', MediaType.ociIndex).send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
      return;
    }
  }
  throw new RegistryError('UNSUPPORTED', `${method} is not supported here`);
}

async function permitted(permit: Permit, address: RepositoryAddress, action: string): Promise<boolean> {
  try {
    await permit(address, action);
    return true;
  } catch (err) {
    if (err instanceof RegistryError && (err.code === 'DENIED' || err.code === 'UNAUTHORIZED')) return false;
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

/** A catalog `last` as this host names it (`name` or `<account>/name`), as a name in `registry`. */
async function cursorName(addressing: Addressing, host: string | undefined, registry: RegistryRef, last: string): Promise<string> {
  const address = await addressing.resolve(host, last).catch(() => undefined);
  return address && address.registry.accountId === registry.accountId && address.registry.kind === registry.kind ? address.name : last;
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
