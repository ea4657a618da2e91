/**
 * End-to-end: real container clients (skopeo, podman, buildah) against a
 * running registry. The same scenario runs against CNCF Distribution (the
 * reference, started with htpasswd Basic auth) and against Berth, so every
 * expectation here is one the reference implementation meets too.
 *
 * Clients run in a ClientSandbox (private HOME, auth file, storage, blob-info
 * cache, ...) and reach the registry through a recording proxy; a failing
 * test reports the last HTTP exchanges and the server's output.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ClientSandbox } from '../support/clients.js';
import { hasClient, removeDir, requireClients, requireOrSkip, tempDir } from '../support/env.js';
import {
  buildTestImages,
  DPKG_STATUS,
  fileFromLayer,
  MARKER_PATH,
  OCI_INDEX,
  OCI_MANIFEST,
  readBlob,
  readLayoutManifest,
  sha256,
  type ImageIndex,
  type ImageManifest,
  type TestImages,
} from '../support/images.js';
import { registryUnavailable, startRegistry, type Registry, type RegistryKind } from '../support/registries.js';
import { credsOf, goArch, once, parseJson, withDiagnostics } from '../support/scenario.js';

/** Upper bound for one test; every client command has its own 120 s limit. */
const TEST_TIMEOUT_MS = 300_000;

let images: TestImages | undefined;
let imagesDir: string | undefined;

before(async () => {
  if (registryUnavailable('distribution') && registryUnavailable('berth')) return;
  // Without umoci the tests skip (or fail under BERTH_E2E_REQUIRED=1) in requireClients.
  if (!hasClient('umoci')) return;
  imagesDir = await tempDir('images');
  images = await buildTestImages(imagesDir);
});

after(async () => {
  if (imagesDir) await removeDir(imagesDir);
});

interface Ctx {
  registry: Registry;
  box: ClientSandbox;
  images: TestImages;
  /** `user:password` for --creds, or undefined when the registry has no auth. */
  creds: string | undefined;
  /** docker://<host>/<path> */
  ref(path: string): string;
  /** Flags giving skopeo/podman/buildah the credentials (for commands taking --creds). */
  credsFlags(flag?: string): string[];
}

/** The scenario, identical for every registry. */
function clientScenario(kind: RegistryKind): void {
  describe(`container clients against ${kind}`, () => {
    const unavailable = registryUnavailable(kind);
    let registry: Registry | undefined;
    let box: ClientSandbox | undefined;

    before(async () => {
      if (unavailable || !images) return;
      registry = await startRegistry(kind);
      box = await ClientSandbox.create(kind);
    });

    after(async () => {
      await box?.dispose();
      await registry?.stop();
    });

    function scenarioTest(name: string, clients: readonly string[], body: (ctx: Ctx, t: TestContext) => Promise<void>): void {
      it(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        if (!requireOrSkip(t, unavailable)) return;
        if (!requireClients(t, ['umoci', ...clients])) return;
        const ctx = current();
        const mark = ctx.registry.exchanges.length;
        try {
          await body(ctx, t);
        } catch (err) {
          throw withDiagnostics(err, ctx.registry, mark);
        }
      });
    }

    // Shared pushes, done by whichever test needs them first.
    const pushApp = once(async () => {
      const { box: b, images: img, credsFlags, ref } = current();
      await b.skopeo(['copy', '--dest-tls-verify=false', ...credsFlags('--dest-creds'), img.app.ref, ref('e2e/app:v1')]);
    });
    const pushMulti = once(async () => {
      const { box: b, images: img, credsFlags, ref } = current();
      await b.skopeo(['copy', '--all', '--dest-tls-verify=false', ...credsFlags('--dest-creds'), img.multi.ref, ref('e2e/multi:v1')]);
    });
    function current(): Ctx {
      assert.ok(registry && box && images, 'suite setup did not complete');
      const reg = registry;
      const creds = credsOf(reg);
      return {
        registry: reg,
        box,
        images,
        creds,
        ref: (path) => `docker://${reg.host}/${path}`,
        credsFlags: (flag = '--creds') => (creds ? [flag, creds] : []),
      };
    }

    async function inspectRaw(ctx: Ctx, path: string): Promise<string> {
      const r = await ctx.box.skopeo(['inspect', '--raw', '--tls-verify=false', ...ctx.credsFlags(), ctx.ref(path)]);
      return r.stdout;
    }

    scenarioTest('skopeo copy pushes an OCI image and the registry serves it under the source manifest digest', ['skopeo'], async (ctx) => {
      await pushApp();
      const source = await ctx.box.skopeo(['inspect', '--format', '{{.Digest}}', ctx.images.app.ref]);
      assert.equal(source.stdout.trim(), ctx.images.app.manifestDigest, 'skopeo agrees on the source digest');
      const raw = await inspectRaw(ctx, 'e2e/app:v1');
      assert.equal(sha256(raw), ctx.images.app.manifestDigest, 'digest of the manifest bytes served');
      assert.equal(raw, (await readBlob(ctx.images.layoutDir, ctx.images.app.manifestDigest)).toString('utf8'));

      const inspected = await ctx.box.skopeo(['inspect', '--tls-verify=false', ...ctx.credsFlags(), ctx.ref('e2e/app:v1')]);
      const info = parseJson<{ Digest: string; Layers: string[]; Architecture: string }>(inspected.stdout, 'skopeo inspect');
      assert.equal(info.Digest, ctx.images.app.manifestDigest, 'skopeo inspect Digest');
      assert.deepEqual(
        info.Layers,
        ctx.images.app.manifest.layers.map((l) => l.digest),
      );

      const rawFile = join(ctx.box.root, 'app-manifest.json');
      await writeFile(rawFile, raw);
      const computed = await ctx.box.skopeo(['manifest-digest', rawFile]);
      assert.equal(computed.stdout.trim(), ctx.images.app.manifestDigest, 'skopeo manifest-digest of the served bytes');

      const res = await ctx.registry.fetch('/v2/e2e/app/manifests/v1', { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), ctx.images.app.manifestDigest, 'Docker-Content-Digest');
      assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
    });

    scenarioTest('skopeo copy back into a fresh OCI layout reproduces the manifest, layer digests and file contents', ['skopeo'], async (ctx) => {
      await pushApp();
      const back = join(ctx.box.root, 'pulled-app');
      await ctx.box.skopeo(['copy', '--src-tls-verify=false', ...ctx.credsFlags('--src-creds'), ctx.ref('e2e/app:v1'), `oci:${back}:v1`]);
      const { digest, manifest } = await readLayoutManifest(back, 'v1');
      assert.equal(digest, ctx.images.app.manifestDigest);
      assert.deepEqual(
        manifest.layers.map((l) => l.digest),
        ctx.images.app.manifest.layers.map((l) => l.digest),
      );
      assert.equal(manifest.config.digest, ctx.images.app.manifest.config.digest);
      for (const layer of manifest.layers) {
        assert.equal(sha256(await readBlob(back, layer.digest)), layer.digest, `layer ${layer.digest} bytes`);
      }
      const [first, second] = manifest.layers;
      assert.ok(first && second);
      const extracted = join(ctx.box.root, 'extracted-app');
      const status = await fileFromLayer(join(back, 'blobs', 'sha256', first.digest.slice(7)), DPKG_STATUS, extracted);
      assert.ok(status.equals(await readFile(DPKG_STATUS)), '/var/lib/dpkg/status in the pulled layer equals the original');
      const marker = await fileFromLayer(join(back, 'blobs', 'sha256', second.digest.slice(7)), MARKER_PATH, extracted);
      assert.equal(marker.toString('utf8'), ctx.images.marker);
    });

    scenarioTest('skopeo list-tags lists exactly the tags pushed to a repository', ['skopeo'], async (ctx) => {
      for (const tag of ['one', 'two', 'latest']) {
        await ctx.box.skopeo(['copy', '--dest-tls-verify=false', ...ctx.credsFlags('--dest-creds'), ctx.images.app.ref, ctx.ref(`e2e/tags:${tag}`)]);
      }
      const r = await ctx.box.skopeo(['list-tags', '--tls-verify=false', ...ctx.credsFlags(), ctx.ref('e2e/tags')]);
      const listed = parseJson<{ Repository: string; Tags: string[] }>(r.stdout, 'skopeo list-tags');
      assert.equal(listed.Repository, `${ctx.registry.host}/e2e/tags`);
      assert.deepEqual([...listed.Tags].sort(), ['latest', 'one', 'two']);
    });

    scenarioTest('skopeo copy --all pushes a multi-arch index whose inspect shows linux/amd64 and linux/arm64', ['skopeo'], async (ctx) => {
      await pushMulti();
      const raw = await inspectRaw(ctx, 'e2e/multi:v1');
      assert.equal(sha256(raw), ctx.images.multi.indexDigest, 'index digest preserved');
      const index = parseJson<ImageIndex>(raw, 'index');
      assert.equal(index.mediaType, OCI_INDEX);
      const platforms = index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort();
      assert.deepEqual(platforms, ['linux/amd64', 'linux/arm64']);
      for (const child of index.manifests) {
        const childRaw = await inspectRaw(ctx, `e2e/multi@${child.digest}`);
        assert.equal(sha256(childRaw), child.digest, `child manifest ${child.digest} served by digest`);
      }
      const armInfo = await ctx.box.skopeo([
        '--override-arch',
        'arm64',
        '--override-os',
        'linux',
        'inspect',
        '--tls-verify=false',
        ...ctx.credsFlags(),
        ctx.ref('e2e/multi:v1'),
      ]);
      // (skopeo reports the index digest as Digest; the platform shows in Architecture and Layers.)
      const arm = parseJson<{ Architecture: string; Layers: string[] }>(armInfo.stdout, 'skopeo inspect (arm64)');
      assert.equal(arm.Architecture, 'arm64');
      assert.deepEqual(
        arm.Layers,
        ctx.images.arm64.manifest.layers.map((l) => l.digest),
      );
    });

    scenarioTest(
      'cross-repository mount: copying the image to a second repository mounts its layers (201) instead of uploading them',
      ['skopeo'],
      async (ctx) => {
        await pushApp();
        const mark = ctx.registry.exchanges.length;
        await ctx.box.skopeo(['copy', '--dest-tls-verify=false', ...ctx.credsFlags('--dest-creds'), ctx.images.app.ref, ctx.ref('e2e/mounted:v1')]);
        const mounts = ctx.registry.exchanges
          .slice(mark)
          .filter((e) => e.method === 'POST' && e.url.startsWith('/v2/e2e/mounted/blobs/uploads/') && e.url.includes('mount='));
        // skopeo's blob-info cache (filled by the earlier pushes of this sandbox) names a
        // repository that holds each layer: e2e/app or another one this suite pushed to.
        assert.ok(mounts.length >= 1, 'skopeo asked to mount at least one layer from another repository');
        for (const m of mounts) {
          const from = new URLSearchParams(m.url.split('?')[1]).get('from') ?? '';
          assert.match(from, /^e2e\/(?!mounted$)/, `mount names a source repository: ${m.url}`);
          assert.equal(m.status, 201, `mount answered 201 Created: ${m.url}`);
        }
        for (const layer of ctx.images.app.manifest.layers) {
          const head = await ctx.registry.fetch(`/v2/e2e/mounted/blobs/${layer.digest}`, { method: 'HEAD' });
          assert.equal(head.status, 200, `layer ${layer.digest} present in e2e/mounted`);
          assert.equal(head.headers.get('content-length'), String(layer.size));
        }
        assert.equal(sha256(await inspectRaw(ctx, 'e2e/mounted:v1')), ctx.images.app.manifestDigest);

        // The same operation straight over HTTP, as the spec describes it.
        const layer = ctx.images.app.manifest.layers[0];
        assert.ok(layer);
        const res = await ctx.registry.fetch(`/v2/e2e/mounted-http/blobs/uploads/?mount=${encodeURIComponent(layer.digest)}&from=e2e%2Fapp`, {
          method: 'POST',
        });
        await res.arrayBuffer();
        assert.equal(res.status, 201, 'POST ?mount=&from= answers 201 Created');
        assert.equal(res.headers.get('docker-content-digest'), layer.digest);
        assert.match(res.headers.get('location') ?? '', new RegExp(`/v2/e2e/mounted-http/blobs/${layer.digest}$`));
        const head = await ctx.registry.fetch(`/v2/e2e/mounted-http/blobs/${layer.digest}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
      },
    );

    scenarioTest('skopeo delete removes the manifest from that repository only; inspect then fails', ['skopeo'], async (ctx) => {
      await pushApp();
      await ctx.box.skopeo(['copy', '--dest-tls-verify=false', ...ctx.credsFlags('--dest-creds'), ctx.images.app.ref, ctx.ref('e2e/doomed:v1')]);
      await ctx.box.skopeo(['delete', '--tls-verify=false', ...ctx.credsFlags(), ctx.ref('e2e/doomed:v1')]);
      const after = await ctx.box.skopeo(['inspect', '--raw', '--tls-verify=false', ...ctx.credsFlags(), ctx.ref('e2e/doomed:v1')], {
        allowFailure: true,
      });
      assert.notEqual(after.code, 0, 'inspect of the deleted image fails');
      assert.match(after.stderr, /manifest unknown|not found/i);
      const byDigest = await ctx.registry.fetch(`/v2/e2e/doomed/manifests/${ctx.images.app.manifestDigest}`, {
        headers: { accept: OCI_MANIFEST },
      });
      await byDigest.arrayBuffer();
      assert.equal(byDigest.status, 404, 'GET by digest after delete');
      assert.equal(sha256(await inspectRaw(ctx, 'e2e/app:v1')), ctx.images.app.manifestDigest, 'e2e/app:v1 untouched');
    });

    scenarioTest(
      'podman: anonymous pull refused, wrong-password login refused, login stores credentials that pull then uses',
      ['skopeo', 'podman'],
      async (ctx) => {
        await pushApp();
        assert.ok(ctx.registry.credentials, 'the registry requires credentials');
        const own = await ClientSandbox.create(`${kind}-login`);
        try {
          const anon = await own.podman(['pull', '--tls-verify=false', `${ctx.registry.host}/e2e/app:v1`], { allowFailure: true });
          assert.notEqual(anon.code, 0, 'anonymous pull must fail');
          assert.match(anon.stderr, /unauthorized|authentication required|401/i);

          const { username, password } = ctx.registry.credentials;
          const wrong = await own.podman(['login', '--tls-verify=false', '-u', username, '--password-stdin', ctx.registry.host], {
            input: `${password}-wrong\n`,
            allowFailure: true,
          });
          assert.notEqual(wrong.code, 0, 'login with a wrong password must fail');
          assert.match(wrong.stderr, /invalid username\/password|unauthorized|401/i);
          const authAfterWrong = parseJson<{ auths?: Record<string, unknown> }>(await readFile(own.authFile, 'utf8'), 'auth file');
          assert.equal(authAfterWrong.auths?.[ctx.registry.host], undefined, 'nothing stored after a refused login');

          const right = await own.podman(['login', '--tls-verify=false', '-u', username, '--password-stdin', ctx.registry.host], {
            input: `${password}\n`,
          });
          assert.match(right.stdout, /Login Succeeded/);
          const auth = parseJson<{ auths?: Record<string, { auth?: string }> }>(await readFile(own.authFile, 'utf8'), 'auth file');
          assert.equal(
            Buffer.from(auth.auths?.[ctx.registry.host]?.auth ?? '', 'base64').toString('utf8'),
            `${username}:${password}`,
            'credentials stored in the sandbox auth file',
          );

          const pulled = await own.podman(['pull', '--tls-verify=false', `${ctx.registry.host}/e2e/app:v1`]);
          assert.equal(pulled.stdout.trim().split('\n').pop(), ctx.images.app.manifest.config.digest.slice(7), 'image id = config digest');

          await own.podman(['logout', ctx.registry.host]);
          const loggedOut = parseJson<{ auths?: Record<string, unknown> }>(await readFile(own.authFile, 'utf8'), 'auth file');
          assert.equal(loggedOut.auths?.[ctx.registry.host], undefined, 'logout removes the credentials');
        } finally {
          await own.dispose();
        }
      },
    );

    scenarioTest('podman pull, then podman push to another tag, yields the same image (config digest and layers)', ['skopeo', 'podman'], async (ctx) => {
      await pushApp();
      const host = ctx.registry.host;
      const pulled = await ctx.box.podman(['pull', '--tls-verify=false', ...ctx.credsFlags(), `${host}/e2e/app:v1`]);
      const imageId = pulled.stdout.trim().split('\n').pop();
      assert.equal(imageId, ctx.images.app.manifest.config.digest.slice(7), 'podman image id = config digest');

      await ctx.box.podman(['push', '--tls-verify=false', ...ctx.credsFlags(), `${host}/e2e/app:v1`, `docker://${host}/e2e/app:podman`]);
      const raw = await inspectRaw(ctx, 'e2e/app:podman');
      const manifest = parseJson<ImageManifest>(raw, 'manifest pushed by podman');
      assert.equal(manifest.config.digest, ctx.images.app.manifest.config.digest, 'same config blob');
      assert.equal(manifest.layers.length, ctx.images.app.manifest.layers.length);
      const head = await ctx.registry.fetch(`/v2/e2e/app/manifests/podman`, {
        method: 'HEAD',
        headers: { accept: [manifest.mediaType ?? OCI_MANIFEST, OCI_MANIFEST].join(', ') },
      });
      assert.equal(head.headers.get('docker-content-digest'), sha256(raw));

      // And the pushed tag pulls back into a second, empty podman store.
      const fresh = await ClientSandbox.create(`${kind}-podman-pull`);
      try {
        const again = await fresh.podman(['pull', '--tls-verify=false', ...ctx.credsFlags(), `${host}/e2e/app:podman`]);
        assert.equal(again.stdout.trim().split('\n').pop(), imageId);
      } finally {
        await fresh.dispose();
      }
    });

    scenarioTest('podman manifest create/add/push --all publishes a two-platform index', ['skopeo', 'podman'], async (ctx) => {
      await pushMulti();
      const host = ctx.registry.host;
      const list = 'localhost/e2e-podman-list:v1';
      await ctx.box.podman(['manifest', 'create', list]);
      for (const image of [ctx.images.amd64, ctx.images.arm64]) {
        await ctx.box.podman(['manifest', 'add', '--tls-verify=false', ...ctx.credsFlags(), list, `docker://${host}/e2e/multi@${image.manifestDigest}`]);
      }
      await ctx.box.podman(['manifest', 'push', '--all', '--tls-verify=false', ...ctx.credsFlags(), list, `docker://${host}/e2e/podman-multi:v1`]);
      const index = parseJson<ImageIndex>(await inspectRaw(ctx, 'e2e/podman-multi:v1'), 'index pushed by podman');
      const platforms = index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort();
      assert.deepEqual(platforms, ['linux/amd64', 'linux/arm64']);
      for (const child of index.manifests) {
        const childRaw = await inspectRaw(ctx, `e2e/podman-multi@${child.digest}`);
        assert.equal(sha256(childRaw), child.digest, `child ${child.digest} stored by digest`);
        const childManifest = parseJson<ImageManifest>(childRaw, 'child manifest');
        const source = child.platform?.architecture === 'arm64' ? ctx.images.arm64 : ctx.images.amd64;
        assert.equal(childManifest.config.digest, source.manifest.config.digest, `${child.platform?.architecture} config`);
      }
    });

    scenarioTest(
      'buildah from scratch + copy + commit + push, then skopeo pulls the same digest with /var/lib/dpkg/status inside',
      ['skopeo', 'buildah'],
      async (ctx) => {
        const host = ctx.registry.host;
        const from = await ctx.box.buildah(['from', '--name', 'e2e-scratch', 'scratch']);
        const container = from.stdout.trim().split('\n').pop() ?? '';
        assert.equal(container, 'e2e-scratch');
        await ctx.box.buildah(['copy', container, DPKG_STATUS, DPKG_STATUS]);
        await ctx.box.buildah(['config', '--os', 'linux', '--arch', goArch(), '--label', 'org.example.berth-e2e=buildah', container]);
        await ctx.box.buildah(['commit', '--format', 'oci', container, 'localhost/e2e-built:v1']);
        const digestFile = join(ctx.box.root, 'buildah-digest');
        await ctx.box.buildah([
          'push',
          '--tls-verify=false',
          ...ctx.credsFlags(),
          '--digestfile',
          digestFile,
          'localhost/e2e-built:v1',
          `docker://${host}/e2e/built:v1`,
        ]);
        const pushedDigest = (await readFile(digestFile, 'utf8')).trim();
        assert.match(pushedDigest, /^sha256:[0-9a-f]{64}$/);

        const pulled = join(ctx.box.root, 'pulled-built');
        await ctx.box.skopeo(['copy', '--src-tls-verify=false', ...ctx.credsFlags('--src-creds'), ctx.ref('e2e/built:v1'), `oci:${pulled}:v1`]);
        const { digest, manifest } = await readLayoutManifest(pulled, 'v1');
        assert.equal(digest, pushedDigest, 'skopeo pulled the digest buildah pushed');
        assert.equal(manifest.layers.length, 1);
        const layer = manifest.layers[0];
        assert.ok(layer);
        const status = await fileFromLayer(join(pulled, 'blobs', 'sha256', layer.digest.slice(7)), DPKG_STATUS, join(ctx.box.root, 'x-built'));
        assert.ok(status.equals(await readFile(DPKG_STATUS)), 'layer holds this machine’s /var/lib/dpkg/status');
        const config = parseJson<{ architecture: string; config?: { Labels?: Record<string, string> } }>(
          (await readBlob(pulled, manifest.config.digest)).toString('utf8'),
          'image config',
        );
        assert.equal(config.architecture, goArch());
        assert.equal(config.config?.Labels?.['org.example.berth-e2e'], 'buildah');
      },
    );
  });
}

clientScenario('distribution');
clientScenario('berth');
