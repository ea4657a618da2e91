/**
 * End-to-end: a real Docker engine (a private dockerd started by this file)
 * pushing to and pulling from a registry. Like clients.test.ts, the same
 * scenario runs against CNCF Distribution (with htpasswd Basic auth) and
 * Berth. The image is built offline with umoci and loaded with `docker load`
 * from a docker-archive made by skopeo.
 *
 * When dockerd cannot start here the tests skip with the reason, or fail
 * under BERTH_E2E_REQUIRED=1. dockerd, its containerd and every temp dir are
 * removed in `after`, whatever happened.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ClientSandbox } from '../support/clients.js';
import { DockerEngine, dockerUnavailable } from '../support/docker-engine.js';
import { e2eRequired, hasClient, removeDir, requireClients, requireOrSkip, tempDir } from '../support/env.js';
import { buildTestImages, type TestImages } from '../support/images.js';
import { registryUnavailable, startRegistry, type Registry, type RegistryKind } from '../support/registries.js';
import { goArch, once, parseJson, withDiagnostics } from '../support/scenario.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Upper bound for one test; every client command has its own 120 s limit. */
const TEST_TIMEOUT_MS = 300_000;

let workDir: string | undefined;
let images: TestImages | undefined;
/** docker-archive of the `app` image, tagged e2e/app:v1 inside. */
let archive: string | undefined;
let engine: DockerEngine | undefined;
/** Why the engine is not there (cannot start here), when it is not. */
let engineProblem: string | undefined;

before(async () => {
  const bothMissing = registryUnavailable('distribution') && registryUnavailable('berth');
  if (bothMissing || !hasClient('umoci') || !hasClient('skopeo')) return;
  engineProblem = dockerUnavailable();
  if (engineProblem) return;
  workDir = await tempDir('docker-images');
  images = await buildTestImages(workDir);
  archive = join(workDir, 'app.tar');
  const box = await ClientSandbox.create('docker-archive');
  try {
    await box.skopeo(['copy', images.app.ref, `docker-archive:${archive}:e2e/app:v1`]);
  } finally {
    await box.dispose();
  }
  try {
    engine = await DockerEngine.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A one-line reason for the skip; the full message (with dockerd's output) when it must fail.
    engineProblem = `Docker engine could not start: ${e2eRequired() ? message : (message.split('\n')[0] ?? '').slice(0, 300)}`;
  }
});

after(async () => {
  await engine?.stop();
  if (workDir) await removeDir(workDir);
});

interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Architecture: string;
  Os: string;
}

function dockerScenario(kind: RegistryKind): void {
  describe(`docker engine against ${kind}`, () => {
    const unavailable = registryUnavailable(kind);
    let registry: Registry | undefined;
    /** This suite's DOCKER_CONFIG (login state) and skopeo sandbox. */
    let box: ClientSandbox | undefined;

    before(async () => {
      if (unavailable || !engine) return;
      registry = await startRegistry(kind);
      box = await ClientSandbox.create(`docker-${kind}`);
    });

    after(async () => {
      await box?.dispose();
      await registry?.stop();
    });

    interface Ctx {
      registry: Registry;
      box: ClientSandbox;
      engine: DockerEngine;
      images: TestImages;
      archive: string;
      docker(args: readonly string[], options?: { input?: string; allowFailure?: boolean }): ReturnType<DockerEngine['docker']>;
    }

    function current(): Ctx {
      assert.ok(registry && box && engine && images && archive, 'suite setup did not complete');
      const e = engine;
      const config = box.dockerConfig;
      return {
        registry,
        box,
        engine: e,
        images,
        archive,
        docker: (args, options = {}) => e.docker(args, config, options),
      };
    }

    function dockerTest(name: string, body: (ctx: Ctx, t: TestContext) => Promise<void>): void {
      it(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        if (!requireOrSkip(t, unavailable)) return;
        if (!requireClients(t, ['umoci', 'skopeo', 'docker', 'dockerd'])) return;
        if (!requireOrSkip(t, engineProblem)) return;
        const ctx = current();
        const mark = ctx.registry.exchanges.length;
        try {
          await body(ctx, t);
        } catch (err) {
          throw withDiagnostics(err, ctx.registry, mark, `=== dockerd output (end) ===\n${ctx.engine.output(3000)}`);
        }
      });
    }

    async function inspectImage(ctx: Ctx, ref: string): Promise<ImageInspect> {
      const r = await ctx.docker(['image', 'inspect', ref]);
      const [info] = parseJson<ImageInspect[]>(r.stdout, 'docker image inspect');
      assert.ok(info, `docker image inspect ${ref}`);
      return info;
    }

    /** Removes every image from the engine. */
    async function removeAllImages(ctx: Ctx): Promise<void> {
      const ids = (await ctx.docker(['images', '--quiet', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await ctx.docker(['rmi', '--force', ...new Set(ids)]);
    }

    async function readDockerAuth(ctx: Ctx): Promise<Record<string, { auth?: string }>> {
      try {
        const config = parseJson<{ auths?: Record<string, { auth?: string }> }>(
          await readFile(join(ctx.box.dockerConfig, 'config.json'), 'utf8'),
          'docker config.json',
        );
        return config.auths ?? {};
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw err;
      }
    }

    const login = once(async () => {
      const ctx = current();
      assert.ok(ctx.registry.credentials, 'the registry requires credentials');
      const { username, password } = ctx.registry.credentials;
      const r = await ctx.docker(['login', ctx.registry.host, '-u', username, '--password-stdin'], { input: `${password}\n` });
      return r;
    });

    /** Pushes the loaded image as <host>/e2e/docker-app:v1; resolves with the digest docker printed. */
    const pushApp = once(async () => {
      const ctx = current();
      await login();
      await ctx.docker(['load', '-i', ctx.archive]);
      const target = `${ctx.registry.host}/e2e/docker-app:v1`;
      await ctx.docker(['tag', 'e2e/app:v1', target]);
      const pushed = await ctx.docker(['push', target]);
      const match = /v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed.stdout);
      assert.ok(match?.[1], `docker push printed a digest:\n${pushed.stdout}`);
      return { digest: match[1], target };
    });

    dockerTest('docker login refuses a wrong password and stores the right one', async (ctx) => {
      assert.ok(ctx.registry.credentials, 'the registry requires credentials');
      const { username, password } = ctx.registry.credentials;
      const wrong = await ctx.docker(['login', ctx.registry.host, '-u', username, '--password-stdin'], {
        input: `${password}-wrong\n`,
        allowFailure: true,
      });
      assert.notEqual(wrong.code, 0, 'login with a wrong password must fail');
      assert.match(wrong.stderr, /401|unauthorized/i);
      assert.equal((await readDockerAuth(ctx))[ctx.registry.host], undefined, 'nothing stored after a refused login');

      const right = await login();
      assert.match(right.stdout, /Login Succeeded/);
      const stored = (await readDockerAuth(ctx))[ctx.registry.host]?.auth ?? '';
      assert.equal(Buffer.from(stored, 'base64').toString('utf8'), `${username}:${password}`);
    });

    dockerTest('docker push, rmi, pull round trip gives back the same image id and repo digest', async (ctx) => {
      const original = await inspectImage(ctx, 'e2e/app:v1').catch(async () => {
        await ctx.docker(['load', '-i', ctx.archive]);
        return inspectImage(ctx, 'e2e/app:v1');
      });
      assert.equal(original.Id, ctx.images.app.manifest.config.digest, 'loaded image id = config digest');
      const { digest, target } = await pushApp();

      const head = await ctx.registry.fetch('/v2/e2e/docker-app/manifests/v1', {
        method: 'HEAD',
        headers: { accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` },
      });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('docker-content-digest'), digest, 'registry serves the digest docker pushed');

      // Empty the engine (it is shared with the other registry's suite, whose
      // images may share layers with this one) so the pull must fetch everything.
      await removeAllImages(ctx);
      const gone = await ctx.docker(['image', 'inspect', original.Id], { allowFailure: true });
      assert.notEqual(gone.code, 0, 'image removed locally');

      const pulled = await ctx.docker(['pull', target]);
      assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
      const info = await inspectImage(ctx, target);
      assert.equal(info.Id, original.Id, 'same image id after the round trip');
      assert.ok(info.RepoDigests?.includes(`${ctx.registry.host}/e2e/docker-app@${digest}`), `RepoDigests: ${info.RepoDigests?.join(', ')}`);
    });

    dockerTest('docker push of the same image to a second repository mounts its layers from the first', async (ctx) => {
      const { target } = await pushApp();
      const local = await ctx.docker(['image', 'inspect', target], { allowFailure: true });
      if (local.code !== 0) await ctx.docker(['pull', target]);
      const other = `${ctx.registry.host}/e2e/docker-other:v1`;
      await ctx.docker(['tag', target, other]);
      const mark = ctx.registry.exchanges.length;
      const pushed = await ctx.docker(['push', other]);
      const mounted = pushed.stdout.split('\n').filter((l) => /Mounted from e2e\/docker-app/.test(l));
      const mounts = ctx.registry.exchanges.slice(mark).filter((e) => e.method === 'POST' && e.url.includes('mount='));
      assert.ok(mounts.length >= 1, `docker asked to mount layers:\n${pushed.stdout}`);
      for (const m of mounts) assert.equal(m.status, 201, `mount answered 201: ${m.url}`);
      assert.equal(mounted.length, ctx.images.app.manifest.layers.length, `every layer "Mounted from e2e/docker-app":\n${pushed.stdout}`);
    });

    dockerTest('docker pull of a multi-arch index picks the image for the engine platform', async (ctx, t) => {
      const platform = goArch();
      if (!['amd64', 'arm64'].includes(platform)) {
        t.skip(`the test index has amd64 and arm64 images only, this is ${platform}`);
        return;
      }
      await login();
      assert.ok(ctx.registry.credentials);
      const { username, password } = ctx.registry.credentials;
      await ctx.box.skopeo([
        'copy',
        '--all',
        '--dest-tls-verify=false',
        '--dest-creds',
        `${username}:${password}`,
        ctx.images.multi.ref,
        `docker://${ctx.registry.host}/e2e/docker-multi:v1`,
      ]);
      const ref = `${ctx.registry.host}/e2e/docker-multi:v1`;
      await removeAllImages(ctx);
      const pulled = await ctx.docker(['pull', ref]);
      assert.match(pulled.stdout, new RegExp(`Digest: ${ctx.images.multi.indexDigest}`));
      const info = await inspectImage(ctx, ref);
      assert.equal(info.Architecture, platform);
      const expected = platform === 'arm64' ? ctx.images.arm64 : ctx.images.amd64;
      assert.equal(info.Id, expected.manifest.config.digest, `the ${platform} image was pulled`);
    });

    dockerTest('after docker logout an anonymous pull is refused', async (ctx) => {
      const { target } = await pushApp();
      await ctx.docker(['logout', ctx.registry.host]);
      assert.equal((await readDockerAuth(ctx))[ctx.registry.host], undefined, 'logout removed the credentials');
      const anon = await ctx.docker(['pull', target], { allowFailure: true });
      assert.notEqual(anon.code, 0, 'anonymous pull must fail');
      assert.match(anon.stderr, /unauthorized|no basic auth credentials|authentication required/i);
    });
  });
}

dockerScenario('distribution');
dockerScenario('berth');
