import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD } from './lib/berth.js';
import { sha256, TestClient } from './lib/client.js';
import { spawnBerth, type BerthProcess } from './lib/process.js';

async function hashFile(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every committed blob file's content hashes to its name. */
async function assertBlobFilesIntact(dataDir: string): Promise<number> {
  let count = 0;
  for (const algorithm of await readdir(join(dataDir, 'blobs')).catch(() => [] as string[])) {
    for (const prefix of await readdir(join(dataDir, 'blobs', algorithm))) {
      for (const hex of await readdir(join(dataDir, 'blobs', algorithm, prefix))) {
        assert.equal(await hashFile(join(dataDir, 'blobs', algorithm, prefix, hex), algorithm), hex, `corrupt blob ${algorithm}:${hex}`);
        count++;
      }
    }
  }
  return count;
}

/** Every tagged manifest is readable and every blob it references is served with the right content. */
async function assertRegistryConsistent(client: TestClient): Promise<number> {
  let manifests = 0;
  const { repositories } = await client.json<{ repositories: string[] }>('/v2/_catalog');
  for (const repo of repositories) {
    const { tags } = await client.json<{ tags: string[] }>(`/v2/${repo}/tags/list`);
    for (const tag of tags) {
      const response = await client.request(`/v2/${repo}/manifests/${tag}`);
      assert.equal(response.status, 200, `${repo}:${tag}`);
      const manifest = (await response.json()) as { config: { digest: string }; layers: { digest: string }[] };
      for (const { digest } of [manifest.config, ...manifest.layers]) {
        const blob = await client.request(`/v2/${repo}/blobs/${digest}`);
        assert.equal(blob.status, 200, `${repo}:${tag} references ${digest}, which is missing`);
        assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), digest);
      }
      manifests++;
    }
  }
  return manifests;
}

describe('crash safety (kill -9)', () => {
  let dataDir: string;
  let server: BerthProcess | undefined;
  const env = (): Record<string, string> => ({
    BERTH_DATA_DIR: dataDir,
    BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BERTH_UPLOAD_TTL: '2',
    BERTH_UPLOAD_CLEANUP_INTERVAL: '1',
  });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-crash-'));
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('killing the server at random moments during pushes leaves no corrupt blob and no dangling manifest', async () => {
    let pushedBeforeKills = 0;
    for (let round = 0; round < 4; round++) {
      server = await spawnBerth(env());
      const client = new TestClient(server.url);
      const pushes = (async () => {
        for (let i = 0; ; i++) {
          await client.pushImage(`crash/round${round}`, `t${i}`, 64 * 1024 + i);
          pushedBeforeKills++;
        }
      })().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 400));
      await server.stop('SIGKILL');
      await pushes;
    }
    assert.ok(pushedBeforeKills > 0, 'some pushes completed between kills');

    server = await spawnBerth(env());
    const client = new TestClient(server.url);
    const manifests = await assertRegistryConsistent(client);
    assert.ok(manifests > 0);
    await assertBlobFilesIntact(dataDir);
    await server.stop();
  });

  test('an upload cut off by a crash never becomes visible, and is removed after the upload TTL', async () => {
    server = await spawnBerth(env());
    let client = new TestClient(server.url);
    const data = randomBytes(8 * 1024 * 1024);
    const digest = sha256(data);
    const start = await client.request('/v2/crash/partial/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location') as string;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(data.subarray(0, 4 * 1024 * 1024));
        // The rest never arrives: the server dies mid-request.
      },
    });
    const patch = client.request(location, { method: 'PATCH', body }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    await server.stop('SIGKILL');
    await patch;

    server = await spawnBerth(env());
    client = new TestClient(server.url);
    assert.equal((await client.request(`/v2/crash/partial/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    const deadline = Date.now() + 15_000;
    while ((await readdir(join(dataDir, 'uploads'))).length > 0) {
      assert.ok(Date.now() < deadline, 'abandoned upload was not removed');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal((await client.request(location)).status, 404);
    await assertBlobFilesIntact(dataDir);
    await server.stop();
  });
});
