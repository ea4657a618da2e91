/**
 * The end-to-end helpers themselves: skipping versus failing on a missing
 * client, command errors that carry stderr and time limits, secret masking,
 * and the recording proxy passing requests through byte for byte.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { requireClient } from '../support/env.js';
import { CommandError, formatCommand, run } from '../support/process.js';
import { RecordingProxy } from '../support/recording-proxy.js';

function fakeContext(): { t: TestContext; skipped: string[] } {
  const skipped: string[] = [];
  const t = { skip: (message?: string) => skipped.push(message ?? '') } as unknown as TestContext;
  return { t, skipped };
}

function withRequired<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.BERTH_E2E_REQUIRED;
  if (value === undefined) delete process.env.BERTH_E2E_REQUIRED;
  else process.env.BERTH_E2E_REQUIRED = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.BERTH_E2E_REQUIRED;
    else process.env.BERTH_E2E_REQUIRED = saved;
  }
}

describe('e2e support helpers', () => {
  it('requireClient skips with "<client> not installed" when a binary is missing', () => {
    const { t, skipped } = fakeContext();
    const ok = withRequired(undefined, () => requireClient(t, 'berth-no-such-client'));
    assert.equal(ok, false);
    assert.deepEqual(skipped, ['berth-no-such-client not installed']);
  });

  it('requireClient fails instead of skipping under BERTH_E2E_REQUIRED=1', () => {
    const { t, skipped } = fakeContext();
    assert.throws(
      () => withRequired('1', () => requireClient(t, 'berth-no-such-client')),
      /berth-no-such-client not installed/,
    );
    assert.deepEqual(skipped, []);
  });

  it('requireClient lets the test run when the binary is on PATH', () => {
    const { t, skipped } = fakeContext();
    assert.equal(
      withRequired('1', () => requireClient(t, 'sh')),
      true,
    );
    assert.deepEqual(skipped, []);
  });

  it('a failing command rejects with its exit code and stderr', async () => {
    await assert.rejects(run('sh', ['-c', 'echo oops >&2; exit 3']), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.equal(err.result.code, 3);
      assert.match(err.message, /exited with code 3/);
      assert.match(err.message, /oops/);
      return true;
    });
  });

  it('a command over its time limit is killed and reported as timed out', async () => {
    const started = Date.now();
    await assert.rejects(run('sleep', ['30'], { timeoutMs: 300 }), /timed out after/);
    assert.ok(Date.now() - started < 5_000);
  });

  it('stdin input reaches the command', async () => {
    const r = await run('cat', [], { input: 'secret\n' });
    assert.equal(r.stdout, 'secret\n');
  });

  it('formatCommand masks credentials', () => {
    const shown = formatCommand('skopeo', ['copy', '--dest-creds', 'admin:pw', '--creds=admin:pw', 'a b']);
    assert.equal(shown, 'skopeo copy --dest-creds *** --creds=*** "a b"');
  });

  it('the recording proxy passes bodies and headers through and records each exchange', async () => {
    const upstream: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
          return;
        }
        res.writeHead(201, { 'content-type': 'application/octet-stream', 'docker-content-digest': 'sha256:x', location: `/v2${req.url}` });
        res.end(req.method === 'HEAD' ? undefined : Buffer.concat([Buffer.from(`${req.method} ${req.headers.host} `), body]));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const proxy = new RecordingProxy('127.0.0.1', (upstream.address() as AddressInfo).port);
    try {
      const port = await proxy.start();
      const payload = Buffer.alloc(300_000, 7);
      const put = await fetch(`http://127.0.0.1:${port}/upload?x=1`, { method: 'PUT', body: payload });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('location'), '/v2/upload?x=1');
      const echoed = Buffer.from(await put.arrayBuffer());
      const prefix = `PUT 127.0.0.1:${port} `;
      assert.equal(echoed.subarray(0, prefix.length).toString(), prefix, 'Host header passed through unchanged');
      assert.ok(echoed.subarray(prefix.length).equals(payload), 'body passed through byte for byte');

      const head = await fetch(`http://127.0.0.1:${port}/blob`, { method: 'HEAD' });
      assert.equal(head.status, 201);

      const missing = await fetch(`http://127.0.0.1:${port}/missing`);
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /BLOB_UNKNOWN/);

      const [e1, e2, e3] = proxy.exchanges;
      assert.equal(proxy.exchanges.length, 3);
      assert.deepEqual([e1?.method, e1?.url, e1?.status], ['PUT', '/upload?x=1', 201]);
      assert.equal(e1?.responseHeaders['docker-content-digest'], 'sha256:x');
      assert.deepEqual([e2?.method, e2?.status], ['HEAD', 201]);
      assert.equal(e3?.status, 404);
      assert.match(e3?.errorBody ?? '', /BLOB_UNKNOWN/);
    } finally {
      await proxy.stop();
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});
