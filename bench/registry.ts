/**
 * Distribution API operations the workloads are made of. Each checks the
 * status codes the spec requires and throws with the server's answer
 * otherwise, so a misbehaving server shows up as an error cell.
 */
import { createReadStream } from 'node:fs';
import { MANIFEST_ACCEPT, OCI_MANIFEST, type Blob, type BlobFile } from './data.js';
import { expectStatus, header, HttpClient, HttpError, nextLink, requireHeader, type RequestBody, type ResponseSink } from './http.js';

const READ_HIGH_WATER_MARK = 1024 * 1024;

function withDigest(client: HttpClient, location: string, digest: string): string {
  const url = client.resolve(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

function checkDigestHeader(client: HttpClient, res: { headers: Record<string, unknown> }, digest: string, what: string): void {
  const got = res.headers['docker-content-digest'];
  if (typeof got === 'string' && got !== digest) throw new HttpError(`${what}: ${client.target.label} answered digest ${got}, expected ${digest}`);
}

export async function startUpload(client: HttpClient, repo: string, signal?: AbortSignal): Promise<string> {
  const what = `POST /v2/${repo}/blobs/uploads/`;
  const res = await client.request({ method: 'POST', url: `/v2/${repo}/blobs/uploads/`, signal });
  expectStatus(res, [202], what);
  return requireHeader(res, 'location', what);
}

/** POST, then PUT `?digest=` carrying the whole blob. */
export async function pushBlobMonolithic(client: HttpClient, repo: string, body: RequestBody, digest: string, signal?: AbortSignal): Promise<void> {
  const location = await startUpload(client, repo, signal);
  const what = `PUT /v2/${repo}/blobs/uploads/…?digest=`;
  const res = await client.request({
    method: 'PUT',
    url: withDigest(client, location, digest),
    headers: { 'content-type': 'application/octet-stream' },
    body,
    signal,
  });
  expectStatus(res, [201], what);
  checkDigestHeader(client, res, digest, what);
}

export function fileBody(file: BlobFile, start = 0, endInclusive = file.size - 1): RequestBody {
  return {
    kind: 'stream',
    length: endInclusive - start + 1,
    open: () => createReadStream(file.path, { start, end: endInclusive, highWaterMark: READ_HIGH_WATER_MARK }),
  };
}

/** POST, one PATCH per chunk with `Content-Range`, then an empty PUT `?digest=`. */
export async function pushBlobChunked(client: HttpClient, repo: string, file: BlobFile, chunkSize: number, signal?: AbortSignal): Promise<number> {
  let location = await startUpload(client, repo, signal);
  let patches = 0;
  for (let start = 0; start < file.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, file.size) - 1;
    const what = `PATCH /v2/${repo}/blobs/uploads/… (${start}-${end})`;
    const res = await client.request({
      method: 'PATCH',
      url: location,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}` },
      body: fileBody(file, start, end),
      signal,
    });
    expectStatus(res, [202], what);
    const range = header(res, 'range');
    if (range !== undefined && range !== `0-${end}`) throw new HttpError(`${what}: Range ${range}, expected 0-${end}`);
    location = requireHeader(res, 'location', what);
    patches += 1;
  }
  const what = `PUT /v2/${repo}/blobs/uploads/…?digest= (after ${patches} PATCHes)`;
  const res = await client.request({ method: 'PUT', url: withDigest(client, location, file.digest), signal });
  expectStatus(res, [201], what);
  checkDigestHeader(client, res, file.digest, what);
  return patches;
}

/** True when the repository already has the blob (HEAD 200), false on 404. */
export async function blobExists(client: HttpClient, repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
  const res = await client.request({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}`, signal });
  expectStatus(res, [200, 404], `HEAD /v2/${repo}/blobs/${digest}`);
  return res.status === 200;
}

/** HEAD, and push monolithically when absent: what a docker/containerd client does per blob. */
export async function ensureBlob(client: HttpClient, repo: string, blob: Blob, signal?: AbortSignal): Promise<void> {
  if (await blobExists(client, repo, blob.digest, signal)) return;
  await pushBlobMonolithic(client, repo, { kind: 'buffer', data: blob.data }, blob.digest, signal);
}

export async function putManifest(client: HttpClient, repo: string, reference: string, manifest: Blob, signal?: AbortSignal): Promise<void> {
  const what = `PUT /v2/${repo}/manifests/${reference}`;
  const res = await client.request({
    method: 'PUT',
    url: `/v2/${repo}/manifests/${reference}`,
    headers: { 'content-type': OCI_MANIFEST },
    body: { kind: 'buffer', data: manifest.data },
    signal,
  });
  expectStatus(res, [201], what);
  checkDigestHeader(client, res, manifest.digest, what);
}

export async function getManifest(client: HttpClient, repo: string, reference: string, signal?: AbortSignal): Promise<Buffer> {
  const what = `GET /v2/${repo}/manifests/${reference}`;
  const res = await client.request({ method: 'GET', url: `/v2/${repo}/manifests/${reference}`, headers: { accept: MANIFEST_ACCEPT }, signal });
  expectStatus(res, [200], what);
  return res.body;
}

/** GETs a blob and answers the bytes received (and their digest when `sink` is `hash`). */
export async function pullBlob(
  client: HttpClient,
  repo: string,
  digest: string,
  sink: Exclude<ResponseSink, 'buffer'>,
  signal?: AbortSignal,
): Promise<{ bytes: number; digest: string | undefined }> {
  const res = await client.request({ method: 'GET', url: `/v2/${repo}/blobs/${digest}`, sink, signal });
  if (res.status !== 200) throw new HttpError(`GET /v2/${repo}/blobs/${digest}: HTTP ${res.status}`);
  return { bytes: res.bytes, digest: res.digest };
}

/** Follows `Link: rel="next"` from `first`, collecting the array `field` of every page. */
async function listAll(client: HttpClient, first: string, field: string, signal?: AbortSignal): Promise<{ items: string[]; pages: number }> {
  const items: string[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url !== undefined) {
    const what = `GET ${client.resolve(url).pathname}`;
    const res = await client.request({ method: 'GET', url, signal });
    expectStatus(res, [200], what);
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    const list = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[field] : undefined;
    if (list !== null && list !== undefined && !Array.isArray(list)) throw new HttpError(`${what}: '${field}' is not an array`);
    for (const item of list ?? []) items.push(String(item));
    pages += 1;
    if (pages > 10_000) throw new HttpError(`${what}: more than 10000 pages`);
    url = nextLink(res);
  }
  return { items, pages };
}

export function listTags(client: HttpClient, repo: string, pageSize: number, signal?: AbortSignal): Promise<{ items: string[]; pages: number }> {
  return listAll(client, `/v2/${repo}/tags/list?n=${pageSize}`, 'tags', signal);
}

export function listCatalog(client: HttpClient, pageSize: number, signal?: AbortSignal): Promise<{ items: string[]; pages: number }> {
  return listAll(client, `/v2/_catalog?n=${pageSize}`, 'repositories', signal);
}
