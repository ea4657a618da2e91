import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

let berth: TestBerth;

async function errorCode(response: Response): Promise<string> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const body = (await response.json()) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors.length, 1);
  assert.equal(typeof body.errors[0]?.message, 'string');
  return body.errors[0]?.code as string;
}

async function pushBlob(repo: string, data: Uint8Array | string): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  const response = await berth.request(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
  assert.equal(response.status, 201, await response.text());
  return { digest, size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
}

async function pushImage(repo: string, tag: string, extra: Record<string, unknown> = {}): Promise<{ digest: string; body: string; layer: string }> {
  const config = await pushBlob(repo, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = await pushBlob(repo, randomBytes(1000));
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    ...extra,
  });
  const response = await berth.request(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
  assert.equal(response.status, 201, await response.text());
  return { digest: sha256(body), body, layer: layer.digest };
}

/** The whole data-plane suite, run once per metadata backend. */
function runV2Suite(backend: string, databaseUrl: () => { url?: string; cleanup?: () => Promise<void> }): void {
  describe(`/v2/ API on ${backend}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    before(async () => {
      const database = databaseUrl();
      cleanup = database.cleanup;
      berth = await startTestBerth(database.url ? { databaseUrl: database.url } : {});
    });
    after(async () => {
      await berth.stop();
      await cleanup?.();
    });

    describe('version check and authentication', () => {
      test('anonymous requests get 401 with a Basic challenge and the API version header', async () => {
        const response = await berth.request('/v2/', { anonymous: true });
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="/);
        assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
        assert.equal(await errorCode(response), 'UNAUTHORIZED');
      });

      test('the administrator login is accepted and a wrong password is refused', async () => {
        assert.equal((await berth.request('/v2/')).status, 200);
        const wrong = `Basic ${Buffer.from('admin:nope').toString('base64')}`;
        assert.equal((await berth.request('/v2/', { headers: { authorization: wrong } })).status, 401);
        const wrongUser = `Basic ${Buffer.from('root:test-password').toString('base64')}`;
        assert.equal((await berth.request('/v2/', { headers: { authorization: wrongUser } })).status, 401);
      });

      test('anonymous pushes are refused before any state changes', async () => {
        const response = await berth.request('/v2/anon/push/blobs/uploads/', { method: 'POST', anonymous: true });
        assert.equal(response.status, 401);
        assert.equal((await berth.request('/v2/anon/push/tags/list')).status, 404);
      });
    });

    describe('blobs', () => {
      test('monolithic POST ?digest= stores the blob; HEAD and GET return it with its digest', async () => {
        const data = randomBytes(100_000);
        const { digest } = await pushBlob('blobs/mono', data);
        const head = await berth.request(`/v2/blobs/mono/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), '100000');
        assert.equal(head.headers.get('docker-content-digest'), digest);
        const get = await berth.request(`/v2/blobs/mono/blobs/${digest}`);
        assert.equal(get.status, 200);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
      });

      test('Range GET returns 206 with Content-Range; an unsatisfiable range returns 416', async () => {
        const data = Buffer.from('0123456789abcdef');
        const { digest } = await pushBlob('blobs/range', data);
        const partial = await berth.request(`/v2/blobs/range/blobs/${digest}`, { headers: { range: 'bytes=2-5' } });
        assert.equal(partial.status, 206);
        assert.equal(partial.headers.get('content-range'), 'bytes 2-5/16');
        assert.equal(await partial.text(), '2345');
        const suffix = await berth.request(`/v2/blobs/range/blobs/${digest}`, { headers: { range: 'bytes=-3' } });
        assert.equal(await suffix.text(), 'def');
        const beyond = await berth.request(`/v2/blobs/range/blobs/${digest}`, { headers: { range: 'bytes=16-20' } });
        assert.equal(beyond.status, 416);
        assert.equal(beyond.headers.get('content-range'), 'bytes */16');
      });

      test('POST then PUT with the whole body', async () => {
        const data = randomBytes(5000);
        const start = await berth.request('/v2/blobs/two-step/blobs/uploads/', { method: 'POST' });
        assert.equal(start.status, 202);
        const location = start.headers.get('location') as string;
        assert.ok(start.headers.get('docker-upload-uuid'));
        const put = await berth.request(`${location}?digest=${sha256(data)}`, { method: 'PUT', body: data });
        assert.equal(put.status, 201);
        assert.equal(put.headers.get('docker-content-digest'), sha256(data));
        assert.equal(put.headers.get('location'), `/v2/blobs/two-step/blobs/${sha256(data)}`);
      });

      test('chunked PATCH uploads with Content-Range, status, an out-of-order chunk refused with 416', async () => {
        const data = randomBytes(3 * 65536 + 17);
        const start = await berth.request('/v2/blobs/chunked/blobs/uploads/', { method: 'POST' });
        const location = start.headers.get('location') as string;
        const chunks = [data.subarray(0, 65536), data.subarray(65536, 3 * 65536), data.subarray(3 * 65536)];
        let offset = 0;
        for (const chunk of chunks) {
          const end = offset + chunk.length - 1;
          const patch = await berth.request(location, {
            method: 'PATCH',
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end}` },
            body: chunk,
          });
          assert.equal(patch.status, 202, await patch.text());
          assert.equal(patch.headers.get('range'), `0-${end}`);
          offset = end + 1;
          if (offset === 65536) {
            const outOfOrder = await berth.request(location, { method: 'PATCH', headers: { 'content-range': '10-19' }, body: randomBytes(10) });
            assert.equal(outOfOrder.status, 416);
            assert.equal(outOfOrder.headers.get('range'), '0-65535');
          }
        }
        const status = await berth.request(location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), `0-${data.length - 1}`);
        const put = await berth.request(`${location}?digest=${sha256(data)}`, { method: 'PUT' });
        assert.equal(put.status, 201, await put.text());
        const get = await berth.request(`/v2/blobs/chunked/blobs/${sha256(data)}`);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
      });

      test('a streamed PATCH without Content-Length is accepted', async () => {
        const data = randomBytes(200_000);
        const start = await berth.request('/v2/blobs/streamed/blobs/uploads/', { method: 'POST' });
        const location = start.headers.get('location') as string;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(data.subarray(0, 100_000));
            controller.enqueue(data.subarray(100_000));
            controller.close();
          },
        });
        const patch = await berth.request(location, { method: 'PATCH', body });
        assert.equal(patch.status, 202);
        assert.equal(patch.headers.get('range'), `0-${data.length - 1}`);
        const put = await berth.request(`${location}?digest=${sha256(data)}`, { method: 'PUT' });
        assert.equal(put.status, 201);
      });

      test('a wrong digest is refused with DIGEST_INVALID and leaves no blob or upload behind', async () => {
        const data = randomBytes(1000);
        const wrong = sha256('something else');
        const response = await berth.request(`/v2/blobs/wrong/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: data });
        assert.equal(response.status, 400);
        assert.equal(await errorCode(response), 'DIGEST_INVALID');
        assert.equal((await berth.request(`/v2/blobs/wrong/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
        assert.equal((await berth.request(`/v2/blobs/wrong/blobs/${sha256(data)}`, { method: 'HEAD' })).status, 404);
        assert.deepEqual(await readdir(join(berth.dataDir, 'uploads')), []);
      });

      test('bytes a crashed chunk left past the acknowledged size are not committed', async () => {
        const start = await berth.request('/v2/blobs/leftover/blobs/uploads/', { method: 'POST' });
        const location = start.headers.get('location') as string;
        const id = start.headers.get('docker-upload-uuid') as string;
        assert.equal((await berth.request(location, { method: 'PATCH', body: 'hello ' })).status, 202);
        // What a process killed mid-chunk leaves: bytes on disk that no session size covers.
        await berth.registry.blobs.appendUpload(id, 6, Readable.from([Buffer.from('world')]));
        const put = await berth.request(`${location}?digest=${sha256('hello ')}`, { method: 'PUT' });
        assert.equal(put.status, 201, await put.text());
        const get = await berth.request(`/v2/blobs/leftover/blobs/${sha256('hello ')}`);
        assert.equal(get.headers.get('content-length'), '6');
        assert.equal(await get.text(), 'hello ');
      });

      test('two chunks racing for the same upload: one is written, the other refused with 416', async () => {
        const start = await berth.request('/v2/blobs/race/blobs/uploads/', { method: 'POST' });
        const location = start.headers.get('location') as string;
        const slowBody = (data: Buffer): ReadableStream<Uint8Array> =>
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(data.subarray(0, data.length / 2));
              await new Promise((r) => setTimeout(r, 200));
              controller.enqueue(data.subarray(data.length / 2));
              controller.close();
            },
          });
        const first = randomBytes(100_000);
        const second = randomBytes(100_000);
        const [a, b] = await Promise.all([
          berth.request(location, { method: 'PATCH', body: slowBody(first) }),
          new Promise((r) => setTimeout(r, 50)).then(() => berth.request(location, { method: 'PATCH', body: slowBody(second) })),
        ]);
        assert.deepEqual([a.status, b.status], [202, 416]);
        const put = await berth.request(`${location}?digest=${sha256(first)}`, { method: 'PUT' });
        assert.equal(put.status, 201, await put.text());
        const get = await berth.request(`/v2/blobs/race/blobs/${sha256(first)}`);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), first);
      });

      test('sha512 digests are verified and served', async () => {
        const data = randomBytes(4096);
        const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`;
        const response = await berth.request(`/v2/blobs/sha512/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
        assert.equal(response.status, 201);
        const get = await berth.request(`/v2/blobs/sha512/blobs/${digest}`);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
      });

      test('upload cancel removes the session', async () => {
        const start = await berth.request('/v2/blobs/cancel/blobs/uploads/', { method: 'POST' });
        const location = start.headers.get('location') as string;
        assert.equal((await berth.request(location, { method: 'DELETE' })).status, 204);
        const status = await berth.request(location);
        assert.equal(status.status, 404);
        assert.equal(await errorCode(status), 'BLOB_UPLOAD_UNKNOWN');
      });

      test('an upload id from another repository is unknown here', async () => {
        const start = await berth.request('/v2/blobs/owner/blobs/uploads/', { method: 'POST' });
        const id = start.headers.get('docker-upload-uuid') as string;
        await pushBlob('blobs/other', 'x');
        const status = await berth.request(`/v2/blobs/other/blobs/uploads/${id}`);
        assert.equal(status.status, 404);
      });

      test('cross-repository mount links the blob; a mount from a repository without it starts an upload', async () => {
        const { digest } = await pushBlob('mount/source', randomBytes(2048));
        const mounted = await berth.request(`/v2/mount/target/blobs/uploads/?mount=${digest}&from=mount/source`, { method: 'POST' });
        assert.equal(mounted.status, 201);
        assert.equal(mounted.headers.get('location'), `/v2/mount/target/blobs/${digest}`);
        assert.equal((await berth.request(`/v2/mount/target/blobs/${digest}`, { method: 'HEAD' })).status, 200);
        const fallback = await berth.request(`/v2/mount/target2/blobs/uploads/?mount=${digest}&from=mount/nowhere`, { method: 'POST' });
        assert.equal(fallback.status, 202);
        assert.match(fallback.headers.get('location') ?? '', /^\/v2\/mount\/target2\/blobs\/uploads\//);
      });

      test('a blob pushed to one repository is not readable through another', async () => {
        const { digest } = await pushBlob('isolation/a', randomBytes(64));
        await pushBlob('isolation/b', 'b');
        const response = await berth.request(`/v2/isolation/b/blobs/${digest}`);
        assert.equal(response.status, 404);
        assert.equal(await errorCode(response), 'BLOB_UNKNOWN');
      });

      test('blob DELETE unlinks it from the repository', async () => {
        const { digest } = await pushBlob('blobs/delete', randomBytes(64));
        assert.equal((await berth.request(`/v2/blobs/delete/blobs/${digest}`, { method: 'DELETE' })).status, 202);
        assert.equal((await berth.request(`/v2/blobs/delete/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      });
    });

    describe('manifests', () => {
      test('an OCI image manifest is stored under its tag and digest with the right headers', async () => {
        const image = await pushImage('manifests/oci', 'v1');
        for (const reference of ['v1', image.digest]) {
          const get = await berth.request(`/v2/manifests/oci/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
          assert.equal(get.status, 200);
          assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
          assert.equal(get.headers.get('docker-content-digest'), image.digest);
          assert.equal(await get.text(), image.body);
          const head = await berth.request(`/v2/manifests/oci/manifests/${reference}`, { method: 'HEAD' });
          assert.equal(head.status, 200);
          assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(image.body)));
        }
      });

      test('a manifest whose media type the client does not accept is not served', async () => {
        await pushImage('manifests/accept', 'v1');
        const get = await berth.request('/v2/manifests/accept/manifests/v1', { headers: { accept: DOCKER_MANIFEST } });
        assert.equal(get.status, 404);
        assert.equal(await errorCode(get), 'MANIFEST_UNKNOWN');
      });

      test('a manifest referencing a missing blob is refused with MANIFEST_BLOB_UNKNOWN and changes nothing', async () => {
        const body = JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('missing'), size: 7 },
          layers: [],
        });
        const put = await berth.request('/v2/manifests/missing/manifests/v1', { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
        assert.equal(put.status, 400);
        assert.equal(await errorCode(put), 'MANIFEST_BLOB_UNKNOWN');
        const tags = await berth.request('/v2/manifests/missing/tags/list');
        if (tags.status === 200) assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, []);
      });

      test('invalid manifests are refused with MANIFEST_INVALID', async () => {
        const cases = ['not json', '{"schemaVersion":1}', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { digest: 'nope' }, layers: [] })];
        for (const body of cases) {
          const put = await berth.request('/v2/manifests/invalid/manifests/v1', { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
          assert.equal(put.status, 400);
          assert.equal(await errorCode(put), 'MANIFEST_INVALID');
        }
        const mismatch = await berth.request('/v2/manifests/invalid/manifests/v1', {
          method: 'PUT',
          headers: { 'content-type': DOCKER_MANIFEST },
          body: JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }),
        });
        assert.equal(await errorCode(mismatch), 'MANIFEST_INVALID');
      });

      test('a manifest over 4 MiB is refused', async () => {
        const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
        const put = await berth.request('/v2/manifests/big/manifests/v1', { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
        assert.equal(put.status, 413);
      });

      test('a PUT by digest must match the content', async () => {
        const image = await pushImage('manifests/bydigest', 'v1');
        const wrong = await berth.request(`/v2/manifests/bydigest/manifests/${sha256('other')}`, {
          method: 'PUT',
          headers: { 'content-type': OCI_MANIFEST },
          body: image.body,
        });
        assert.equal(wrong.status, 400);
        assert.equal(await errorCode(wrong), 'DIGEST_INVALID');
        const right = await berth.request(`/v2/manifests/bydigest/manifests/${image.digest}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: image.body });
        assert.equal(right.status, 201);
      });

      test('an index needs its child manifests; Docker schema 2 manifests and manifest lists work', async () => {
        const repo = 'manifests/multi';
        const config = await pushBlob(repo, '{"architecture":"arm64","os":"linux"}');
        const layer = await pushBlob(repo, randomBytes(100));
        const child = JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layer }],
        });
        const list = JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_LIST,
          manifests: [{ mediaType: DOCKER_MANIFEST, digest: sha256(child), size: Buffer.byteLength(child), platform: { architecture: 'arm64', os: 'linux' } }],
        });
        const early = await berth.request(`/v2/${repo}/manifests/multi`, { method: 'PUT', headers: { 'content-type': DOCKER_LIST }, body: list });
        assert.equal(early.status, 400);
        assert.equal(await errorCode(early), 'MANIFEST_BLOB_UNKNOWN');
        const putChild = await berth.request(`/v2/${repo}/manifests/${sha256(child)}`, { method: 'PUT', headers: { 'content-type': DOCKER_MANIFEST }, body: child });
        assert.equal(putChild.status, 201);
        const putList = await berth.request(`/v2/${repo}/manifests/multi`, { method: 'PUT', headers: { 'content-type': DOCKER_LIST }, body: list });
        assert.equal(putList.status, 201);
        const get = await berth.request(`/v2/${repo}/manifests/multi`, { headers: { accept: `${DOCKER_LIST}, ${OCI_INDEX}` } });
        assert.equal(get.headers.get('content-type'), DOCKER_LIST);
      });

      test('subject yields OCI-Subject, and the referrers API lists referrers filtered by artifactType', async () => {
        const repo = 'manifests/referrers';
        const image = await pushImage(repo, 'v1');
        const subject = { mediaType: OCI_MANIFEST, digest: image.digest, size: Buffer.byteLength(image.body) };
        const emptyConfig = await pushBlob(repo, '{}');
        const referrer = async (artifactType: string): Promise<string> => {
          const body = JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            artifactType,
            config: { mediaType: 'application/vnd.oci.empty.v1+json', ...emptyConfig },
            layers: [],
            subject,
            annotations: { 'org.example.kind': artifactType },
          });
          const put = await berth.request(`/v2/${repo}/manifests/${sha256(body)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
          assert.equal(put.status, 201);
          assert.equal(put.headers.get('oci-subject'), image.digest);
          return sha256(body);
        };
        const sbom = await referrer('application/spdx+json');
        const signature = await referrer('application/vnd.dev.cosign.artifact.sig.v1+json');

        const all = await berth.request(`/v2/${repo}/referrers/${image.digest}`);
        assert.equal(all.status, 200);
        assert.equal(all.headers.get('content-type'), OCI_INDEX);
        const index = (await all.json()) as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
        assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sbom, signature].sort());
        assert.equal(index.manifests.find((m) => m.digest === sbom)?.annotations['org.example.kind'], 'application/spdx+json');

        const filtered = await berth.request(`/v2/${repo}/referrers/${image.digest}?artifactType=application/spdx%2Bjson`);
        assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
        const filteredIndex = (await filtered.json()) as { manifests: { digest: string }[] };
        assert.deepEqual(filteredIndex.manifests.map((m) => m.digest), [sbom]);

        const none = await berth.request(`/v2/${repo}/referrers/${sha256('nothing refers to me')}`);
        assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
      });

      test('DELETE by tag removes only the tag; DELETE by digest removes the manifest and its tags', async () => {
        const repo = 'manifests/delete';
        const image = await pushImage(repo, 'a');
        await berth.request(`/v2/${repo}/manifests/b`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: image.body });
        assert.equal((await berth.request(`/v2/${repo}/manifests/a`, { method: 'DELETE' })).status, 202);
        assert.equal((await berth.request(`/v2/${repo}/manifests/a`)).status, 404);
        assert.equal((await berth.request(`/v2/${repo}/manifests/b`)).status, 200);
        assert.equal((await berth.request(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
        assert.equal((await berth.request(`/v2/${repo}/manifests/b`)).status, 404);
        const gone = await berth.request(`/v2/${repo}/manifests/${image.digest}`);
        assert.equal(await errorCode(gone), 'MANIFEST_UNKNOWN');
        const tags = (await (await berth.request(`/v2/${repo}/tags/list`)).json()) as { tags: string[] };
        assert.deepEqual(tags.tags, []);
      });
    });

    describe('listing', () => {
      test('tags list paginates with n, last and a Link header', async () => {
        const repo = 'listing/tags';
        const image = await pushImage(repo, 't00');
        for (let i = 1; i < 25; i++) {
          const tag = `t${String(i).padStart(2, '0')}`;
          const put = await berth.request(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: image.body });
          assert.equal(put.status, 201);
        }
        const seen: string[] = [];
        let next: string | undefined = `/v2/${repo}/tags/list?n=10`;
        while (next) {
          const response = await berth.request(next);
          const body = (await response.json()) as { name: string; tags: string[] };
          assert.equal(body.name, repo);
          seen.push(...body.tags);
          next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
        }
        assert.equal(seen.length, 25);
        assert.deepEqual(seen, [...seen].sort());
        const empty = (await (await berth.request(`/v2/${repo}/tags/list?n=0`)).json()) as { tags: string[] };
        assert.deepEqual(empty.tags, []);
      });

      test('catalog lists repositories in order with pagination', async () => {
        const response = await berth.request('/v2/_catalog?n=3');
        assert.equal(response.status, 200);
        const body = (await response.json()) as { repositories: string[] };
        assert.equal(body.repositories.length, 3);
        assert.match(response.headers.get('link') ?? '', /rel="next"/);
        const rest = (await (await berth.request(`/v2/_catalog?n=1000&last=${encodeURIComponent(body.repositories[2] as string)}`)).json()) as { repositories: string[] };
        assert.ok(rest.repositories.length > 0);
        assert.ok((rest.repositories[0] as string) > (body.repositories[2] as string));
      });
    });

    describe('names and bad input', () => {
      test('invalid repository names are refused with NAME_INVALID', async () => {
        for (const name of ['UPPER/case', 'a', 'a..b', 'x/-y']) {
          const response = await berth.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
          assert.equal(response.status, 400, name);
          assert.equal(await errorCode(response), 'NAME_INVALID', name);
        }
      });

      test('paths that try to climb out of the data directory reach nothing', async () => {
        for (const path of ['/v2/../../etc/passwd', '/v2/a%2F..%2F..%2Fetc/blobs/sha256:abc', '/v2/repo/blobs/uploads/..%2F..%2Fberth.db', '/v2/repo/blobs/sha256:..%2F..%2Fx']) {
          const response = await berth.request(path);
          assert.ok([400, 404].includes(response.status), `${path} → ${response.status}`);
        }
      });

      test('unknown repositories answer NAME_UNKNOWN', async () => {
        const response = await berth.request('/v2/does/not/exist/tags/list');
        assert.equal(response.status, 404);
        assert.equal(await errorCode(response), 'NAME_UNKNOWN');
      });

      test('an unsupported method answers UNSUPPORTED in the OCI format', async () => {
        const response = await berth.request('/v2/_catalog', { method: 'DELETE' });
        assert.equal(response.status, 405);
        assert.equal(await errorCode(response), 'UNSUPPORTED');
      });
    });
  });
}

runV2Suite('SQLite', () => ({}));
if (pgUnreachable === undefined) {
  runV2Suite('PostgreSQL', () => {
    const { schema, url } = freshSchemaUrl('berth_v2');
    return { url, cleanup: () => dropSchema(schema) };
  });
} else {
  reportPostgresUnavailable('/v2/ API on PostgreSQL');
}
