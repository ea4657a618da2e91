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

/** With `--auth-challenge bearer`, clients follow the Docker token flow: 401 Bearer → /auth/token → Bearer requests. */
describe('Docker token flow (BERTH_AUTH_CHALLENGE=bearer)', () => {
  let scratch: string;
  let server: BerthProcess;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-token-'));
    server = await spawnBerth({ BERTH_DATA_DIR: join(scratch, 'data'), BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_AUTH_CHALLENGE: 'bearer' });
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('the challenge names the token endpoint; the endpoint trades a login for a token that /v2/ accepts as Bearer', async () => {
    const anonymous = await fetch(`${server.url}/v2/team/app/tags/list`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), `Bearer realm="${server.url}/auth/token",service="Berth",scope="repository:team/app:pull,push"`);
    // Without credentials the endpoint gives the anonymous token (enough for public registries), which opens nothing private.
    const anonymousToken = (await (await fetch(`${server.url}/auth/token?service=Berth`)).json()) as { token: string };
    assert.equal((await fetch(`${server.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${anonymousToken.token}` } })).status, 401);
    assert.equal((await fetch(`${server.url}/auth/token?service=Berth`, { headers: { authorization: 'Basic YWRtaW46d3Jvbmc=' } })).status, 401);
    const admin = new TestClient(server.url);
    const issued = (await (await admin.request('/auth/token?service=Berth&scope=repository:team/app:pull,push')).json()) as { token: string; access_token: string; expires_in: number };
    assert.equal(issued.token, issued.access_token);
    assert.ok(issued.expires_in > 11 * 3600);
    const bearer = { authorization: `Bearer ${issued.token}` };
    assert.equal((await fetch(`${server.url}/v2/`, { headers: bearer })).status, 200);
    assert.equal((await fetch(`${server.url}/v2/`, { headers: { authorization: `Bearer ${issued.token}x` } })).status, 401);
    assert.equal((await fetch(`${server.url}/v2/`, { headers: { authorization: 'Bearer admin' } })).status, 401);
  });

  test('skopeo and podman log in, push and pull through the token flow', async (t) => {
    if (!requireClients(t, ['skopeo', 'podman', 'umoci'])) return;
    const host = server.url.replace(/^https?:\/\//, '');
    const box = await ClientSandbox.create('token-flow');
    try {
      const images = await buildTestImages(join(scratch, 'images'));
      const login = await box.skopeo(['login', '--tls-verify=false', '--username', 'admin', '--password-stdin', host], { input: ADMIN_PASSWORD });
      assert.equal(login.code, 0, login.stderr);
      const copy = await box.skopeo(['copy', '--dest-tls-verify=false', images.app.ref, `docker://${host}/token/app:v1`]);
      assert.equal(copy.code, 0, copy.stderr);
      const pull = await box.podman(['pull', '--tls-verify=false', `${host}/token/app:v1`]);
      assert.equal(pull.code, 0, pull.stderr);
      const wrong = await box.skopeo(['login', '--tls-verify=false', '--username', 'admin', '--password-stdin', host], { input: 'wrong', allowFailure: true });
      assert.notEqual(wrong.code, 0);
    } finally {
      await box.dispose();
    }
  });
});
