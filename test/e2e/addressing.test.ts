import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { ClientSandbox } from '../support/clients.js';
import { requireClients } from '../support/env.js';
import { buildTestImages } from '../support/images.js';

const ACCOUNT = '000000000000';
const DOMAIN = 'registry.berth.test';

/**
 * Host-style addressing: with a wildcard domain configured,
 * `<account>.<domain>/<repository>` is that account's private registry, as
 * ECR's `<account>.dkr.ecr.<region>.amazonaws.com`. The sandbox's own
 * /etc/hosts stands in for the wildcard DNS record.
 */
describe('host-style addressing with --registry-domain', () => {
  let scratch: string;
  let server: BerthProcess;
  let port: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-addr-'));
    server = await spawnBerth({ BERTH_DATA_DIR: join(scratch, 'data'), BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_REGISTRY_DOMAIN: DOMAIN });
    port = new URL(server.url).port;
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('skopeo and podman push and pull through <account>.<domain>; the same repository is <host>/<account>/<name>', async (t) => {
    if (!requireClients(t, ['skopeo', 'podman', 'umoci'])) return;
    const images = await buildTestImages(join(scratch, 'images'));
    const box = await ClientSandbox.create('hoststyle');
    try {
      if (!(await box.resolveToLoopback([`${ACCOUNT}.${DOMAIN}`, `999999999999.${DOMAIN}`]))) {
        t.skip('no private mount namespace for an /etc/hosts of the test’s own');
        return;
      }
      const registry = `${ACCOUNT}.${DOMAIN}:${port}`;
      assert.equal((await box.skopeo(['login', '--tls-verify=false', '--username', 'admin', '--password-stdin', registry], { input: ADMIN_PASSWORD })).code, 0);
      const pushed = await box.skopeo(['copy', '--dest-tls-verify=false', images.app.ref, `docker://${registry}/hosted/app:v1`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const pulled = await box.podman(['pull', '--tls-verify=false', `${registry}/hosted/app:v1`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      // An account that does not exist has no registry.
      assert.equal((await box.skopeo(['login', '--tls-verify=false', '--username', 'admin', '--password-stdin', `999999999999.${DOMAIN}:${port}`], { input: ADMIN_PASSWORD })).code, 0);
      const unknown = await box.skopeo(['inspect', '--tls-verify=false', `docker://999999999999.${DOMAIN}:${port}/hosted/app:v1`], { allowFailure: true });
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /name unknown|no registry for account/i);
    } finally {
      await box.dispose();
    }
    const admin = new TestClient(server.url);
    const byPath = await admin.request(`/v2/${ACCOUNT}/hosted/app/manifests/v1`, { method: 'HEAD' });
    assert.equal(byPath.status, 200);
    assert.equal((await admin.request('/v2/hosted/app/manifests/v1', { method: 'HEAD' })).status, 200);
  });
});
