/**
 * Conformance with the OCI Distribution Specification v1.1 and the
 * opencontainers/distribution-spec conformance suite (conformance/*.go), plus
 * the details of CNCF Distribution (registry/handlers/*.go) that clients rely
 * on. Each test names the requirement it encodes; test/v2-api.test.ts covers
 * the basics and is not repeated here.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestBerth, type TestBerth } from './lib/berth.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const OCTET = 'application/octet-stream';

/** The `code` values spec.md ("Error Codes") allows in a JSON error body. */
const SPEC_ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
];

const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const sha512 = (data: Uint8Array | string): string => `sha512:${createHash('sha512').update(data).digest('hex')}`;
const byteLength = (data: Uint8Array | string): number => (typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

let berth: TestBerth;
before(async () => {
  berth = await startTestBerth();
});
after(async () => {
  await berth.stop();
});

async function errorCode(response: Response): Promise<string> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as { errors: { code: string }[] };
  assert.ok(body.errors.length > 0);
  return body.errors[0]?.code as string;
}

async function pushBlob(repo: string, data: Uint8Array | string, digest = sha256(data)): Promise<Descriptor> {
  const response = await berth.request(`/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'content-type': OCTET },
    body: data,
  });
  assert.equal(response.status, 201, await response.text());
  return { mediaType: OCTET, digest, size: byteLength(data) };
}

async function startUpload(repo: string): Promise<string> {
  const response = await berth.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(response.status, 202, await response.text());
  const location = response.headers.get('location');
  assert.ok(location);
  return location;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

function patch(location: string, chunk: Uint8Array, start: number): Promise<Response> {
  return berth.request(location, {
    method: 'PATCH',
    headers: { 'content-type': OCTET, 'content-range': `${start}-${start + chunk.length - 1}` },
    body: chunk,
  });
}

function putManifest(repo: string, reference: string, body: string, contentType: string = OCI_MANIFEST): Promise<Response> {
  return berth.request(`/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': contentType }, body });
}

/** Pushes a config and one layer and returns an image manifest (not pushed) referencing them. */
async function imageManifest(repo: string, extra: Record<string, unknown> = {}): Promise<string> {
  const config = await pushBlob(repo, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(8).toString('hex') }));
  const layer = await pushBlob(repo, randomBytes(512));
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { ...config, mediaType: OCI_CONFIG },
    layers: [{ ...layer, mediaType: OCI_LAYER }],
    ...extra,
  });
}

async function pushImage(repo: string, reference?: string): Promise<{ body: string; digest: string; descriptor: Descriptor }> {
  const body = await imageManifest(repo);
  const digest = sha256(body);
  const put = await putManifest(repo, reference ?? digest, body);
  assert.equal(put.status, 201, await put.text());
  return { body, digest, descriptor: { mediaType: OCI_MANIFEST, digest, size: Buffer.byteLength(body) } };
}

async function referrers(repo: string, digest: string, query = ''): Promise<{ response: Response; index: { schemaVersion: number; mediaType: string; manifests: Descriptor[] } }> {
  const response = await berth.request(`/v2/${repo}/referrers/${digest}${query}`);
  assert.equal(response.status, 200);
  const index = (await response.json()) as { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
  return { response, index };
}

function linkNext(response: Response): string | undefined {
  return /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
}

describe('pull (spec "Pulling manifests", "Pulling blobs", conformance 01_pull)', () => {
  test('GET and HEAD of a manifest reference that is neither a tag nor a digest answer 404 (conformance nonexistentManifest ".INVALID_MANIFEST_NAME")', async () => {
    const repo = 'conf/pull/missing';
    await pushImage(repo, 'v1');
    const get = await berth.request(`/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(get.status, 404);
    assert.equal(await errorCode(get), 'MANIFEST_UNKNOWN');
    const head = await berth.request(`/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`, { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  test('range requests: clamped end, 416 for end < start and for a start past the end, Content-Length of the part (conformance "range requests")', async () => {
    const repo = 'conf/pull/range';
    const data = randomBytes(2048);
    const { digest } = await pushBlob(repo, data);
    const cases: [string, number, Buffer | undefined, string | undefined][] = [
      ['bytes=500-1499', 206, data.subarray(500, 1500), 'bytes 500-1499/2048'],
      ['bytes=500-', 206, data.subarray(500), 'bytes 500-2047/2048'],
      ['bytes=-500', 206, data.subarray(1548), 'bytes 1548-2047/2048'],
      ['bytes=2000-5000', 206, data.subarray(2000), 'bytes 2000-2047/2048'],
      ['bytes=500-0', 416, undefined, undefined],
      ['bytes=5000-10000', 416, undefined, undefined],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const response = await berth.request(`/v2/${repo}/blobs/${digest}`, { headers: { range } });
      assert.equal(response.status, status, range);
      if (body) {
        assert.equal(response.headers.get('content-length'), String(body.length), range);
        assert.equal(response.headers.get('content-range'), contentRange, range);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), body, range);
      } else {
        await response.arrayBuffer();
      }
    }
  });

  test('the empty blob and the empty JSON blob push through every upload API and HEAD/GET with Content-Length and digest (conformance "empty", "emptyJSON")', async () => {
    for (const [i, data] of [Buffer.alloc(0), Buffer.from('{}')].entries()) {
      const digest = sha256(data);
      const repos = [`conf/pull/empty${i}/post`, `conf/pull/empty${i}/postput`, `conf/pull/empty${i}/chunked`];
      await pushBlob(repos[0] as string, data);
      const put = await berth.request(withDigest(await startUpload(repos[1] as string), digest), { method: 'PUT', headers: { 'content-type': OCTET }, body: data });
      assert.equal(put.status, 201, await put.text());
      const location = await startUpload(repos[2] as string);
      if (data.length > 0) assert.equal((await patch(location, data, 0)).status, 202);
      const close = await berth.request(withDigest(location, digest), { method: 'PUT' });
      assert.equal(close.status, 201, await close.text());
      for (const repo of repos) {
        const head = await berth.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 200, repo);
        assert.equal(head.headers.get('content-length'), String(data.length), repo);
        assert.equal(head.headers.get('docker-content-digest'), digest, repo);
        const get = await berth.request(`/v2/${repo}/blobs/${digest}`);
        assert.equal(get.status, 200, repo);
        assert.equal(get.headers.get('content-length'), String(data.length), repo);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), data, repo);
      }
    }
  });
});

describe('push: blobs (spec "Pushing blobs", conformance 02_push / blob APIs)', () => {
  test('POST to start an upload: 202 with Location and Docker-Upload-UUID; OCI-Chunk-Min-Length, if sent, is a byte count', async () => {
    const response = await berth.request('/v2/conf/push/start/blobs/uploads/', { method: 'POST', headers: { 'content-length': '0' } });
    assert.equal(response.status, 202);
    assert.match(response.headers.get('location') ?? '', /^\/v2\/conf\/push\/start\/blobs\/uploads\/.+/);
    assert.ok(response.headers.get('docker-upload-uuid'));
    const min = response.headers.get('oci-chunk-min-length');
    if (min !== null) assert.match(min, /^[1-9]\d*$/);
  });

  test('the Location of every successful blob push is a pullable URL returning the blob and Docker-Content-Digest (BlobVerifyLocation)', async () => {
    const repo = 'conf/push/location';
    const check = async (response: Response, data: Buffer): Promise<void> => {
      assert.equal(response.status, 201, await response.text());
      assert.equal(response.headers.get('docker-content-digest'), sha256(data));
      const location = response.headers.get('location');
      assert.ok(location);
      const get = await berth.request(location);
      assert.equal(get.status, 200);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    };
    const postOnly = randomBytes(512);
    await check(await berth.request(`/v2/${repo}/blobs/uploads/?digest=${sha256(postOnly)}`, { method: 'POST', headers: { 'content-type': OCTET }, body: postOnly }), postOnly);
    const postPut = randomBytes(512);
    await check(await berth.request(withDigest(await startUpload(repo), sha256(postPut)), { method: 'PUT', headers: { 'content-type': OCTET }, body: postPut }), postPut);
    const stream = randomBytes(512);
    const streamed = await berth.request(await startUpload(repo), { method: 'PATCH', headers: { 'content-type': OCTET }, body: stream });
    assert.equal(streamed.status, 202);
    await check(await berth.request(withDigest(streamed.headers.get('location') as string, sha256(stream)), { method: 'PUT' }), stream);
    const mounted = randomBytes(512);
    await pushBlob('conf/push/location-source', mounted);
    await check(await berth.request(`/v2/${repo}/blobs/uploads/?mount=${sha256(mounted)}&from=conf/push/location-source`, { method: 'POST' }), mounted);
  });

  test('a first chunk that does not start at 0 is refused with 416; after it the upload is intact and completes (conformance "Out-of-order blob upload should return 416")', async () => {
    const data = randomBytes(300);
    const location = await startUpload('conf/push/first-chunk');
    const ahead = await patch(location, data.subarray(100, 200), 100);
    assert.equal(ahead.status, 416);
    const status = await berth.request(location);
    assert.equal(status.status, 204);
    assert.match(status.headers.get('range') ?? '', /^0-\d+$/);
    assert.ok(status.headers.get('location'));
    let next = location;
    for (let start = 0; start < data.length; start += 100) {
      const response = await patch(next, data.subarray(start, start + 100), start);
      assert.equal(response.status, 202);
      assert.equal(response.headers.get('range'), `0-${start + 99}`);
      next = response.headers.get('location') as string;
      if (start === 0) {
        // conformance "Retry previous blob chunk should return 416", then GET for the offset
        const retry = await patch(next, data.subarray(0, 100), 0);
        assert.equal(retry.status, 416);
        const again = await berth.request(next);
        assert.equal(again.status, 204);
        assert.equal(again.headers.get('range'), '0-99');
        next = again.headers.get('location') as string;
      }
    }
    const put = await berth.request(withDigest(next, sha256(data)), { method: 'PUT', headers: { 'content-type': OCTET } });
    assert.equal(put.status, 201, await put.text());
  });

  test('the final chunk may be sent in the closing PUT with Content-Range (conformance "chunked multi and put chunk")', async () => {
    const repo = 'conf/push/put-chunk';
    const data = randomBytes(300);
    const location = await startUpload(repo);
    const first = await patch(location, data.subarray(0, 200), 0);
    assert.equal(first.status, 202);
    const put = await berth.request(withDigest(first.headers.get('location') as string, sha256(data)), {
      method: 'PUT',
      headers: { 'content-type': OCTET, 'content-range': '200-299' },
      body: data.subarray(200),
    });
    assert.equal(put.status, 201, await put.text());
    const get = await berth.request(`/v2/${repo}/blobs/${sha256(data)}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
  });

  test('a closing PUT whose Content-Range does not start at the upload offset is refused with 416 and the upload survives (spec "Chunks MUST be uploaded in order"; conformance "chunked out-of-order and put chunk")', async () => {
    const repo = 'conf/push/put-out-of-order';
    const data = randomBytes(300);
    const location = await startUpload(repo);
    const first = await patch(location, data.subarray(0, 100), 0);
    assert.equal(first.status, 202);
    const next = first.headers.get('location') as string;
    const skipped = await berth.request(withDigest(next, sha256(data)), {
      method: 'PUT',
      headers: { 'content-type': OCTET, 'content-range': '200-299' },
      body: data.subarray(200),
    });
    assert.equal(skipped.status, 416);
    const status = await berth.request(next);
    assert.equal(status.status, 204, 'the upload must still exist after a refused out-of-order chunk');
    assert.equal(status.headers.get('range'), '0-99');
    const second = await patch(status.headers.get('location') as string, data.subarray(100, 200), 100);
    assert.equal(second.status, 202);
    const put = await berth.request(withDigest(second.headers.get('location') as string, sha256(data)), {
      method: 'PUT',
      headers: { 'content-type': OCTET, 'content-range': '200-299' },
      body: data.subarray(200),
    });
    assert.equal(put.status, 201, await put.text());
  });

  test('a wrong digest is refused with 400 DIGEST_INVALID by POST+PUT, chunked, chunked with the last chunk in PUT, and streamed uploads (conformance "bad digest *")', async () => {
    const repo = 'conf/push/bad-digest';
    const data = randomBytes(300);
    const wrong = sha256(Buffer.concat([data, Buffer.from('oh no')]));
    const postPut = await berth.request(withDigest(await startUpload(repo), wrong), { method: 'PUT', headers: { 'content-type': OCTET }, body: data });
    assert.equal(postPut.status, 400);
    assert.equal(await errorCode(postPut), 'DIGEST_INVALID');

    let location = await startUpload(repo);
    for (let start = 0; start < data.length; start += 100) location = (await patch(location, data.subarray(start, start + 100), start)).headers.get('location') as string;
    const chunked = await berth.request(withDigest(location, wrong), { method: 'PUT' });
    assert.equal(chunked.status, 400);
    assert.equal(await errorCode(chunked), 'DIGEST_INVALID');

    location = (await patch(await startUpload(repo), data.subarray(0, 200), 0)).headers.get('location') as string;
    const putChunk = await berth.request(withDigest(location, wrong), { method: 'PUT', headers: { 'content-type': OCTET, 'content-range': '200-299' }, body: data.subarray(200) });
    assert.equal(putChunk.status, 400);
    assert.equal(await errorCode(putChunk), 'DIGEST_INVALID');

    location = (await berth.request(await startUpload(repo), { method: 'PATCH', headers: { 'content-type': OCTET }, body: data })).headers.get('location') as string;
    const streamed = await berth.request(withDigest(location, wrong), { method: 'PUT' });
    assert.equal(streamed.status, 400);
    assert.equal(await errorCode(streamed), 'DIGEST_INVALID');
  });

  test('mount without `from` starts an upload session (202, Location, Docker-Upload-UUID) that a PUT completes (conformance "mount anonymous", automatic content discovery disabled)', async () => {
    const data = randomBytes(512);
    await pushBlob('conf/push/anon-source', data);
    const response = await berth.request(`/v2/conf/push/anon-target/blobs/uploads/?mount=${sha256(data)}`, { method: 'POST' });
    assert.ok([201, 202].includes(response.status), String(response.status));
    assert.ok(response.headers.get('location'));
    if (response.status === 202) {
      assert.match(response.headers.get('location') as string, /^\/v2\/conf\/push\/anon-target\/blobs\/uploads\//);
      assert.ok(response.headers.get('docker-upload-uuid'));
      const put = await berth.request(withDigest(response.headers.get('location') as string, sha256(data)), { method: 'PUT', headers: { 'content-type': OCTET }, body: data });
      assert.equal(put.status, 201);
    }
    assert.equal((await berth.request(`/v2/conf/push/anon-target/blobs/${sha256(data)}`, { method: 'HEAD' })).status, 200);
    // a mount of a digest nobody has, without `from`, is an ordinary upload (conformance "Cross-mounting of a blob without the from argument")
    const missing = await berth.request(`/v2/conf/push/anon-target/blobs/uploads/?mount=${sha256('hello world')}`, { method: 'POST' });
    assert.equal(missing.status, 202);
    assert.ok(missing.headers.get('location'));
  });

  test('sha512 blobs push by chunks and mount, and are served with their sha512 digest (conformance "Blobs sha512")', async () => {
    const data = randomBytes(300);
    const digest = sha512(data);
    let location = await startUpload('conf/push/sha512');
    for (let start = 0; start < data.length; start += 100) location = (await patch(location, data.subarray(start, start + 100), start)).headers.get('location') as string;
    const put = await berth.request(withDigest(location, digest), { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('docker-content-digest'), digest);
    const mount = await berth.request(`/v2/conf/push/sha512-target/blobs/uploads/?mount=${digest}&from=conf/push/sha512`, { method: 'POST' });
    assert.equal(mount.status, 201);
    const head = await berth.request(`/v2/conf/push/sha512-target/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), digest);
    assert.equal(head.headers.get('content-length'), '300');
  });
});

describe('push: manifests (spec "Pushing Manifests", conformance 02_push / data tests)', () => {
  test('the Location of a manifest push is pullable and returns the exact bytes, Content-Type and Content-Length (ManifestPut)', async () => {
    const repo = 'conf/manifest/location';
    const body = await imageManifest(repo);
    const put = await putManifest(repo, 'v1', body);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), sha256(body));
    const get = await berth.request(put.headers.get('location') as string, { headers: { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(get.headers.get('content-length'), String(Buffer.byteLength(body)));
    assert.equal(await get.text(), body);
  });

  test('manifests with no layers, without a mediaType field, with Content-Type parameters, with descriptor `data` and unknown fields are accepted and stored byte for byte', async () => {
    const repo = 'conf/manifest/shapes';
    const configBytes = JSON.stringify({ architecture: 'amd64', os: 'linux' });
    const config = await pushBlob(repo, configBytes);
    const noLayers = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, mediaType: OCI_CONFIG }, layers: [] }, null, '\t');
    const noMediaType = JSON.stringify(
      {
        schemaVersion: 2,
        config: { ...config, mediaType: OCI_CONFIG, data: Buffer.from(configBytes).toString('base64'), newUnspecifiedField: 'aGVsbG8gd29ybGQ=' },
        layers: [],
        customField: { nested: [1, 2, 3] },
      },
      null,
      '\t',
    );
    for (const [tag, body, contentType] of [
      ['no-layers', noLayers, OCI_MANIFEST],
      ['no-media-type', noMediaType, OCI_MANIFEST],
      ['ct-params', noLayers.replace('[]', '[ ]'), `${OCI_MANIFEST}; charset=utf-8`],
    ] as const) {
      const put = await putManifest(repo, tag, body, contentType);
      assert.equal(put.status, 201, `${tag}: ${await put.text()}`);
      const get = await berth.request(`/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(get.status, 200, tag);
      assert.equal(get.headers.get('content-type'), OCI_MANIFEST, tag);
      assert.equal(get.headers.get('docker-content-digest'), sha256(body), tag);
      assert.equal(await get.text(), body, tag);
    }
  });

  test('artifacts: custom artifactType with the empty config, a custom config mediaType, layers of any media type, non-distributable layers not held by the registry (conformance "artifact", "non-distributable-layers")', async () => {
    const repo = 'conf/manifest/artifacts';
    const empty = await pushBlob(repo, '{}');
    const payload = await pushBlob(repo, randomBytes(100));
    const artifact = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.conf1',
      config: { ...empty, mediaType: OCI_EMPTY },
      layers: [{ ...payload, mediaType: 'application/vnd.example.conf1' }],
    });
    assert.equal((await putManifest(repo, 'artifact', artifact)).status, 201);
    const configType = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { ...payload, mediaType: 'application/vnd.nhl.peanut.butter.bagel' },
      layers: [{ ...empty, mediaType: OCI_EMPTY }],
    });
    assert.equal((await putManifest(repo, sha256(configType), configType)).status, 201);
    const foreign = randomBytes(256);
    const nondistributable = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { ...empty, mediaType: OCI_CONFIG },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: sha256(foreign), size: 123456, urls: [`https://store.example.com/blobs/sha256/${sha256(foreign).slice(7)}`] },
        { ...payload, mediaType: OCI_LAYER },
      ],
    });
    const put = await putManifest(repo, 'non-distributable', nondistributable);
    assert.equal(put.status, 201, await put.text());
  });

  test('indexes: an empty index and an index of indexes are accepted (conformance "empty-index", "nested-index")', async () => {
    const repo = 'conf/manifest/indexes';
    const image = await pushImage(repo);
    const inner = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...image.descriptor, platform: { os: 'linux', architecture: 'amd64' } }] });
    assert.equal((await putManifest(repo, sha256(inner), inner, OCI_INDEX)).status, 201);
    const outer = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: sha256(inner), size: Buffer.byteLength(inner) }] });
    assert.equal((await putManifest(repo, 'index-of-index', outer, OCI_INDEX)).status, 201);
    const empty = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    assert.equal((await putManifest(repo, 'empty-index', empty, OCI_INDEX)).status, 201);
    const get = await berth.request(`/v2/${repo}/manifests/index-of-index`, { headers: { accept: OCI_INDEX } });
    assert.equal(get.headers.get('content-type'), OCI_INDEX);
    assert.equal(await get.text(), outer);
  });

  test('a manifest of almost 4 MiB (390 annotations of 10 000 bytes) is accepted (spec "at least 4 MiB"; conformance "large-manifest")', async () => {
    const repo = 'conf/manifest/large';
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = 'A'.repeat(10_000);
    const body = await imageManifest(repo, { annotations });
    assert.ok(Buffer.byteLength(body) < 4 * 1024 * 1024);
    const put = await putManifest(repo, 'large-manifest', body);
    assert.equal(put.status, 201, await put.text());
    const head = await berth.request(`/v2/${repo}/manifests/large-manifest`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(body)));
  });

  test('an all-sha512 image is pushed by its sha512 digest and served under it (conformance "sha512")', async () => {
    const repo = 'conf/manifest/sha512';
    const configBytes = JSON.stringify({ architecture: 'amd64', os: 'linux' });
    const layerBytes = randomBytes(256);
    const config = await pushBlob(repo, configBytes, sha512(configBytes));
    const layer = await pushBlob(repo, layerBytes, sha512(layerBytes));
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, mediaType: OCI_CONFIG }, layers: [{ ...layer, mediaType: OCI_LAYER }] });
    const digest = sha512(body);
    const put = await putManifest(repo, digest, body);
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('docker-content-digest'), digest);
    const get = await berth.request(put.headers.get('location') as string, { headers: { accept: OCI_MANIFEST } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('docker-content-digest'), digest);
    assert.equal(await get.text(), body);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest, size: Buffer.byteLength(body) }] });
    const putIndex = await putManifest(repo, sha512(index), index, OCI_INDEX);
    assert.equal(putIndex.status, 201, await putIndex.text());
  });

  test('a malformed digest reference is refused: PUT 400, GET 400 or 404 (conformance "invalid-digest-format", 07 "sha256:totallywrong")', async () => {
    const repo = 'conf/manifest/bad-ref';
    const body = await imageManifest(repo);
    const put = await putManifest(repo, 'sha256:baddigeststring', body);
    assert.equal(put.status, 400);
    const get = await berth.request(`/v2/${repo}/manifests/sha256:baddigeststring`, { headers: { accept: OCI_MANIFEST } });
    assert.ok([400, 404].includes(get.status), String(get.status));
    const whitespace = await putManifest(repo, sha256(body), `${body}  `);
    assert.equal(whitespace.status, 400);
    assert.equal(await errorCode(whitespace), 'DIGEST_INVALID');
  });

  test('a tag push moves the tag to the new manifest', async () => {
    const repo = 'conf/manifest/retag';
    await pushImage(repo, 'latest');
    const second = await pushImage(repo, 'latest');
    const head = await berth.request(`/v2/${repo}/manifests/latest`, { method: 'HEAD' });
    assert.equal(head.headers.get('docker-content-digest'), second.digest);
  });
});

describe('content discovery: tags (spec "Listing Tags", conformance 03_discovery / TestList)', () => {
  const repo = 'conf/tags/list';
  const tags = ['b', 'a1', 'B', 'A1', '1x', '_z'];
  const sorted = [...tags].sort(); // ASCIIbetical, as Go's sort.Strings

  before(async () => {
    const image = await pushImage(repo);
    for (const tag of tags) assert.equal((await putManifest(repo, tag, image.body)).status, 201);
  });

  test('tags are listed in ASCIIbetical order', async () => {
    const response = await berth.request(`/v2/${repo}/tags/list`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(((await response.json()) as { tags: string[] }).tags, sorted);
  });

  test('n equal to the number of tags returns them all without a Link header; n=0 returns none and no Link header', async () => {
    const all = await berth.request(`/v2/${repo}/tags/list?n=${tags.length}`);
    assert.deepEqual(((await all.json()) as { tags: string[] }).tags, sorted);
    assert.equal(all.headers.get('link'), null);
    const none = await berth.request(`/v2/${repo}/tags/list?n=0`);
    assert.equal(none.status, 200);
    assert.deepEqual(((await none.json()) as { tags: string[] }).tags, []);
    assert.equal(none.headers.get('link'), null);
  });

  test('`last` without `n` returns the tags after it, whether or not it names a tag', async () => {
    const afterTag = await berth.request(`/v2/${repo}/tags/list?last=B`);
    assert.deepEqual(((await afterTag.json()) as { tags: string[] }).tags, sorted.filter((t) => t > 'B'));
    const afterGap = await berth.request(`/v2/${repo}/tags/list?last=Aa`);
    assert.deepEqual(((await afterGap.json()) as { tags: string[] }).tags, sorted.filter((t) => t > 'Aa'));
  });

  test('n returns exactly n tags while more remain, and the Link header walks the rest', async () => {
    const seen: string[] = [];
    let next: string | undefined = `/v2/${repo}/tags/list?n=4`;
    let pages = 0;
    while (next) {
      const response = await berth.request(next);
      const page = ((await response.json()) as { tags: string[] }).tags;
      next = linkNext(response);
      if (next) assert.equal(page.length, 4);
      seen.push(...page);
      pages++;
    }
    assert.equal(pages, 2);
    assert.deepEqual(seen, sorted);
  });

  test('a repository whose tags are all deleted still lists with 200 and an empty list', async () => {
    const emptied = 'conf/tags/emptied';
    await pushImage(emptied, 'only');
    assert.equal((await berth.request(`/v2/${emptied}/manifests/only`, { method: 'DELETE' })).status, 202);
    const response = await berth.request(`/v2/${emptied}/tags/list`);
    assert.ok([200, 404].includes(response.status));
    if (response.status === 200) assert.deepEqual(((await response.json()) as { tags: string[] }).tags, []);
  });
});

describe('content discovery: referrers (spec "Listing Referrers", conformance TestEmptyReferrers / TestReferrers)', () => {
  test('a repository that was never pushed answers 200 with an empty OCI index, never 404', async () => {
    const { response, index } = await referrers('conf/referrers/never-pushed', sha256(randomBytes(16)));
    assert.equal(response.headers.get('content-type'), OCI_INDEX);
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests, []);
  });

  test('an invalid digest answers 400', async () => {
    await pushImage('conf/referrers/invalid', 'v1');
    const response = await berth.request('/v2/conf/referrers/invalid/referrers/sha256:not-a-digest');
    assert.equal(response.status, 400);
  });

  test('a manifest with a dangling subject is accepted with OCI-Subject and listed (conformance "Dangling subject", "missing-subject")', async () => {
    const repo = 'conf/referrers/dangling';
    const empty = await pushBlob(repo, '{}');
    const subject = { mediaType: OCI_MANIFEST, size: 123, digest: sha256('missing content') };
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.conf1',
      config: { ...empty, mediaType: OCI_EMPTY },
      layers: [{ ...empty, mediaType: OCI_EMPTY }],
      subject,
      annotations: { 'org.opencontainers.conformance': 'hello conformance test' },
    });
    const put = await putManifest(repo, 'tagged-artifact', body);
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('oci-subject'), subject.digest);
    const { index } = await referrers(repo, subject.digest);
    assert.deepEqual(index.manifests, [
      { mediaType: OCI_MANIFEST, digest: sha256(body), size: Buffer.byteLength(body), artifactType: 'application/vnd.example.conf1', annotations: { 'org.opencontainers.conformance': 'hello conformance test' } },
    ]);
  });

  test('descriptors carry artifactType per the spec: the manifest\'s own, else config.mediaType (also when artifactType is ""), omitted for an index without one', async () => {
    const repo = 'conf/referrers/artifact-type';
    const subject = await pushImage(repo, 'image');
    const configType = 'application/vnd.example.config.v1+json';
    const config = await pushBlob(repo, '{"kind":"example"}');
    const manifest = (extra: Record<string, unknown>): string =>
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, mediaType: configType }, layers: [], subject: subject.descriptor, ...extra });
    const noType = manifest({ annotations: { n: '1' } });
    const emptyType = manifest({ artifactType: '', annotations: { n: '2' } });
    const indexNoType = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], subject: subject.descriptor, annotations: { n: '3' } });
    const indexTyped = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'application/vnd.example.index', manifests: [subject.descriptor], subject: subject.descriptor });
    for (const [body, type] of [[noType, OCI_MANIFEST], [emptyType, OCI_MANIFEST], [indexNoType, OCI_INDEX], [indexTyped, OCI_INDEX]] as const) {
      const put = await putManifest(repo, sha256(body), body, type);
      assert.equal(put.status, 201, await put.text());
      assert.equal(put.headers.get('oci-subject'), subject.digest);
    }
    const { index } = await referrers(repo, subject.digest);
    const byDigest = new Map(index.manifests.map((d) => [d.digest, d]));
    assert.equal(index.manifests.length, 4);
    assert.deepEqual(byDigest.get(sha256(noType)), { mediaType: OCI_MANIFEST, digest: sha256(noType), size: Buffer.byteLength(noType), artifactType: configType, annotations: { n: '1' } });
    assert.equal(byDigest.get(sha256(emptyType))?.artifactType, configType, 'an empty artifactType falls back to config.mediaType');
    const indexDescriptor = byDigest.get(sha256(indexNoType));
    assert.equal(indexDescriptor?.mediaType, OCI_INDEX);
    assert.equal(indexDescriptor?.size, Buffer.byteLength(indexNoType));
    assert.ok(indexDescriptor && !('artifactType' in indexDescriptor), 'an index without artifactType has none in its descriptor');
    assert.equal(byDigest.get(sha256(indexTyped))?.artifactType, 'application/vnd.example.index');

    const filtered = await referrers(repo, subject.digest, `?artifactType=${encodeURIComponent(configType)}`);
    assert.equal(filtered.response.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(filtered.index.manifests.map((d) => d.digest).sort(), [sha256(noType), sha256(emptyType)].sort());
  });

  test('a deleted referrer leaves the referrers list', async () => {
    const repo = 'conf/referrers/deleted';
    const subject = await pushImage(repo, 'image');
    const empty = await pushBlob(repo, '{}');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: { ...empty, mediaType: OCI_EMPTY }, layers: [], subject: subject.descriptor });
    assert.equal((await putManifest(repo, sha256(body), body)).status, 201);
    assert.equal((await referrers(repo, subject.digest)).index.manifests.length, 1);
    assert.equal((await berth.request(`/v2/${repo}/manifests/${sha256(body)}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await referrers(repo, subject.digest)).index.manifests, []);
  });
});

describe('content management (spec "Content Management", conformance TestDelete)', () => {
  test('blobs a manifest references can be deleted before the manifest; then the manifest is deleted (conformance teardown with deleteManifestBeforeBlobs=false)', async () => {
    const repo = 'conf/delete/blobs-first';
    const image = await pushImage(repo, 'v1');
    const parsed = JSON.parse(image.body) as { config: Descriptor; layers: Descriptor[] };
    for (const blob of [parsed.config, ...parsed.layers]) {
      const response = await berth.request(`/v2/${repo}/blobs/${blob.digest}`, { method: 'DELETE' });
      assert.equal(response.status, 202, await response.text());
      assert.equal((await berth.request(`/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' })).status, 404);
    }
    assert.equal((await berth.request(`/v2/${repo}/manifests/v1`, { method: 'DELETE' })).status, 202);
    assert.equal((await berth.request(`/v2/${repo}/manifests/v1`, { method: 'HEAD' })).status, 404);
    assert.equal((await berth.request(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await berth.request(`/v2/${repo}/manifests/${image.digest}`, { method: 'HEAD' })).status, 404);
  });

  test('tags, then an index, then its children are deleted, each gone at once (conformance delete order)', async () => {
    const repo = 'conf/delete/index';
    const child = await pushImage(repo);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child.descriptor] });
    assert.equal((await putManifest(repo, 'index', index, OCI_INDEX)).status, 201);
    assert.equal((await berth.request(`/v2/${repo}/manifests/index`, { method: 'DELETE' })).status, 202);
    assert.equal((await berth.request(`/v2/${repo}/manifests/index`, { method: 'HEAD', headers: { accept: OCI_INDEX } })).status, 404);
    for (const digest of [sha256(index), child.digest]) {
      assert.equal((await berth.request(`/v2/${repo}/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await berth.request(`/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } })).status, 404);
    }
  });

  test('a manifest an index still references can be deleted (Distribution allows it; the spec does not forbid it)', async () => {
    const repo = 'conf/delete/child-first';
    const child = await pushImage(repo);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child.descriptor] });
    assert.equal((await putManifest(repo, 'index', index, OCI_INDEX)).status, 201);
    assert.equal((await berth.request(`/v2/${repo}/manifests/${child.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await berth.request(`/v2/${repo}/manifests/${child.digest}`, { method: 'HEAD' })).status, 404);
  });

  test('deleting an unknown blob or manifest answers 404 with an OCI code', async () => {
    const repo = 'conf/delete/unknown';
    await pushImage(repo, 'v1');
    const blob = await berth.request(`/v2/${repo}/blobs/${sha256('never pushed')}`, { method: 'DELETE' });
    assert.equal(blob.status, 404);
    assert.equal(await errorCode(blob), 'BLOB_UNKNOWN');
    const manifest = await berth.request(`/v2/${repo}/manifests/${sha256('never pushed')}`, { method: 'DELETE' });
    assert.equal(manifest.status, 404);
    assert.equal(await errorCode(manifest), 'MANIFEST_UNKNOWN');
  });
});

describe('error codes (spec "Error Codes": the code MUST be one of the table)', () => {
  test('4xx JSON errors clients can provoke use only codes from the spec table', async () => {
    const repo = 'conf/errors/codes';
    await pushImage(repo, 'v1');
    const location = await startUpload(repo);
    const probes: [string, () => Promise<Response>][] = [
      ['PUT manifest sha256:totallywrong (conformance 07)', () => putManifest(repo, 'sha256:totallywrong', 'blablabla')],
      ['PUT manifest with an invalid tag', () => putManifest(repo, '-bad-tag', '{}')],
      ['tags list n=-1', () => berth.request(`/v2/${repo}/tags/list?n=-1`)],
      ['tags list n=abc', () => berth.request(`/v2/${repo}/tags/list?n=abc`)],
      ['catalog n=abc', () => berth.request('/v2/_catalog?n=abc')],
      ['PATCH out of order', () => patch(location, Buffer.from('xyz'), 10)],
      ['GET manifest by an invalid reference', () => berth.request(`/v2/${repo}/manifests/.INVALID_MANIFEST_NAME`)],
      ['GET blob by an invalid digest', () => berth.request(`/v2/${repo}/blobs/sha256:xyz`)],
    ];
    const offenders: string[] = [];
    for (const [name, probe] of probes) {
      const response = await probe();
      assert.ok(response.status >= 400 && response.status < 500, `${name}: ${response.status}`);
      const code = await errorCode(response);
      // The spec's table has no code for a malformed `n`; we answer as CNCF Distribution does.
      const distributionCode = name.includes('n=') && code === 'PAGINATION_NUMBER_INVALID';
      if (!SPEC_ERROR_CODES.includes(code) && !distributionCode) offenders.push(`${name} → ${response.status} ${code}`);
    }
    assert.deepEqual(offenders, []);
  });
});

describe('CNCF Distribution parity', () => {
  test('paths under /v2/ that name no endpoint answer 404, as Distribution\'s router does (e.g. the OCI extensions probe /v2/_oci/ext/discover)', async () => {
    for (const path of ['/v2/_oci/ext/discover', '/v2/conf/parity/unknown-endpoint', '/v2/conf/parity/manifests/']) {
      const response = await berth.request(path);
      assert.equal(response.status, 404, `${path} → ${response.status}`);
    }
  });

  test('GET with If-None-Match of the current ETag answers 304 for manifests (by tag and digest) and blobs', async () => {
    const repo = 'conf/parity/etag';
    const image = await pushImage(repo, 'v1');
    for (const reference of ['v1', image.digest]) {
      const first = await berth.request(`/v2/${repo}/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
      const etag = first.headers.get('etag');
      assert.equal(etag, `"${image.digest}"`);
      await first.arrayBuffer();
      const again = await berth.request(`/v2/${repo}/manifests/${reference}`, { headers: { accept: OCI_MANIFEST, 'if-none-match': etag as string } });
      assert.equal(again.status, 304, `manifest ${reference}`);
    }
    const layer = (JSON.parse(image.body) as { layers: Descriptor[] }).layers[0] as Descriptor;
    const blob = await berth.request(`/v2/${repo}/blobs/${layer.digest}`, { headers: { 'if-none-match': `"${layer.digest}"` } });
    assert.equal(blob.status, 304);
  });

  test('a PATCH whose Content-Length disagrees with its in-order Content-Range is 400 SIZE_INVALID, as in Distribution\'s PatchBlobData (not 416)', async () => {
    const location = await startUpload('conf/parity/size');
    const response = await berth.request(location, { method: 'PATCH', headers: { 'content-type': OCTET, 'content-range': '0-9' }, body: randomBytes(5) });
    assert.equal(response.status, 400);
    assert.equal(await errorCode(response), 'SIZE_INVALID');
  });

  test('a well-formed digest of another registered algorithm (sha384) is simply unknown: 404, not 400', async () => {
    const repo = 'conf/parity/sha384';
    await pushImage(repo, 'v1');
    const digest = `sha384:${createHash('sha384').update('x').digest('hex')}`;
    const blob = await berth.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(blob.status, 404);
    const manifest = await berth.request(`/v2/${repo}/manifests/${digest}`, { method: 'HEAD' });
    assert.equal(manifest.status, 404);
  });
});
