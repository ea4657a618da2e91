import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN_PASSWORD } from './lib/berth.js';
import { TestClient } from './lib/client.js';
import { REPO_ROOT, spawnBerth } from './lib/process.js';

const run = promisify(execFile);

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-process-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('berth serve', () => {
  test('--help documents every flag with its environment variable', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--help'], { cwd: REPO_ROOT });
    for (const variable of ['BERTH_LISTEN', 'BERTH_DATA_DIR', 'BERTH_DATABASE_URL', 'BERTH_ADMIN_USER', 'BERTH_ADMIN_PASSWORD', 'BERTH_TLS_CERT', 'BERTH_TLS_KEY', 'BERTH_UPLOAD_TTL', 'BERTH_CONFIG']) {
      assert.match(stdout, new RegExp(variable), variable);
    }
  });

  test('a bad setting is reported and the server does not start', async () => {
    await assert.rejects(run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--listen', 'nonsense'], { cwd: REPO_ROOT }), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr ?? '', /listen must be host:port/);
      return true;
    });
  });

  test('first start without a password generates one, prints it once, and it works', async () => {
    const dataDir = join(scratch, 'generated');
    const first = await spawnBerth({ BERTH_DATA_DIR: dataDir, BERTH_ADMIN_PASSWORD: '' });
    const password = /password: (\S+)/.exec(first.output())?.[1];
    assert.ok(password, first.output());
    assert.equal((await new TestClient(first.url, password).request('/v2/')).status, 200);
    assert.equal((await new TestClient(first.url, 'wrong').request('/v2/')).status, 401);
    await first.stop();
    const credentialFile = await readFile(join(dataDir, 'admin-credential.json'), 'utf8');
    assert.ok(!credentialFile.includes(password), 'only a hash of the password is stored');

    const second = await spawnBerth({ BERTH_DATA_DIR: dataDir, BERTH_ADMIN_PASSWORD: '' });
    assert.doesNotMatch(second.output(), /password:/);
    assert.equal((await new TestClient(second.url, password).request('/v2/')).status, 200);
    await second.stop();
  });

  test("a public alias that another account holds is reported in one line: the server does not start, berth admin does nothing", async () => {
    const dataDir = join(scratch, 'alias-taken');
    await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'account', 'create', '--data-dir', dataDir, '--id', '111111111111', '--alias', 'tools'], { cwd: REPO_ROOT });
    // The default account 000000000000 exists by now (with its id as alias); 222222222222 would be a new one.
    for (const [accountId, workers] of [['000000000000', '1'], ['222222222222', '1'], ['000000000000', '2']] as const) {
      const env = { BERTH_DATA_DIR: dataDir, BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_ACCOUNT_ID: accountId, BERTH_PUBLIC_ALIAS: 'tools', BERTH_WORKERS: workers };
      const outcome = await spawnBerth(env).then(
        async (server) => {
          await server.stop();
          return 'started';
        },
        (err: Error) => err.message,
      );
      assert.equal(outcome, `berth exited with 2:\nberth: public-alias 'tools' (BERTH_PUBLIC_ALIAS) of the default account ${accountId} is taken by account 111111111111; choose another\n`, `${accountId}, ${workers} worker(s)`);
    }
    // berth admin prepares the default account as a server start does, and says so the same way.
    await assert.rejects(run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'account', 'list', '--data-dir', dataDir], { cwd: REPO_ROOT, env: { ...process.env, BERTH_PUBLIC_ALIAS: 'tools' } }), {
      code: 2,
      stderr: "berth: public-alias 'tools' (BERTH_PUBLIC_ALIAS) of the default account 000000000000 is taken by account 111111111111; choose another\n",
    });
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'account', 'list', '--data-dir', dataDir, '--json'], { cwd: REPO_ROOT });
    assert.deepEqual((JSON.parse(stdout) as { accountId: string; publicAlias: string }[]).map((a) => [a.accountId, a.publicAlias]).sort(), [['000000000000', '000000000000'], ['111111111111', 'tools']]);
  });

  test('settings come from a config file, and flags override it', async () => {
    const dataDir = join(scratch, 'from-file');
    const configFile = join(scratch, 'berth.yaml');
    await writeFile(configFile, `dataDir: ${dataDir}\nadminUser: operator\nadminPassword: from-file\nlogLevel: warn\n`);
    const server = await spawnBerth({ BERTH_CONFIG: configFile }, ['--admin-password', 'from-flag']);
    const auth = (password: string): string => `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`;
    assert.equal((await fetch(`${server.url}/v2/`, { headers: { authorization: auth('from-flag') } })).status, 200);
    assert.equal((await fetch(`${server.url}/v2/`, { headers: { authorization: auth('from-file') } })).status, 401);
    assert.match(server.output(), new RegExp(`data in ${dataDir}`));
    await server.stop();
  });

  test('with --workers 2, two processes share the listener and pushes and pulls work across them', async () => {
    const server = await spawnBerth({ BERTH_DATA_DIR: join(scratch, 'workers'), BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_WORKERS: '2' });
    const children = (await readFile(`/proc/${server.child.pid}/task/${server.child.pid}/children`, 'utf8')).trim().split(/\s+/);
    assert.equal(children.length, 2, `worker processes: ${children.join(' ')}`);
    const client = new TestClient(server.url);
    const digests = await Promise.all(Array.from({ length: 12 }, (_, i) => client.pushImage('workers/app', `t${i}`, 4096 + i)));
    for (let i = 0; i < digests.length; i++) {
      const response = await client.request(`/v2/workers/app/manifests/t${i}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('docker-content-digest'), digests[i]);
    }
    await server.stop();
    for (const pid of children) assert.ok(!existsSync(`/proc/${pid}`), `worker ${pid} stopped with the server`);
  });

  test('serves HTTPS when given a certificate and key', async () => {
    const cert = join(scratch, 'cert.pem');
    const key = join(scratch, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const server = await spawnBerth({ BERTH_DATA_DIR: join(scratch, 'tls'), BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_TLS_CERT: cert, BERTH_TLS_KEY: key });
    assert.match(server.url, /^https:/);
    const ca = await readFile(cert);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(`${server.url}/v2/`, { ca, headers: { authorization: new TestClient(server.url).authorization } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    await server.stop();
  });
});

describe('streaming', () => {
  const totalBytes = Number(process.env.BERTH_STREAM_TEST_BYTES ?? 2 * 1024 ** 3);

  test(`a ${(totalBytes / 1024 ** 3).toFixed(1)} GiB push and pull keep the server's memory flat`, async () => {
    const server = await spawnBerth({ BERTH_DATA_DIR: join(scratch, 'large'), BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD });
    const client = new TestClient(server.url);
    const block = randomBytes(1024 * 1024);
    const sent = createHash('sha256');
    let produced = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= totalBytes) {
          controller.close();
          return;
        }
        // Vary each block so the content is not one repeated megabyte.
        const chunk = Buffer.from(block.subarray(0, Math.min(block.length, totalBytes - produced)));
        chunk.writeUInt32BE(produced / block.length, 0);
        sent.update(chunk);
        produced += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const start = await client.request('/v2/large/blob/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location') as string;
    const patch = await client.request(location, { method: 'PATCH', body });
    assert.equal(patch.status, 202, await patch.text());
    const digest = `sha256:${sent.digest('hex')}`;
    const put = await client.request(`${location}?digest=${digest}`, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    const rssAfterPush = await server.peakRss();

    const pull = await client.request(`/v2/large/blob/blobs/${digest}`);
    assert.equal(pull.headers.get('content-length'), String(totalBytes));
    const received = createHash('sha256');
    for await (const chunk of pull.body as unknown as AsyncIterable<Uint8Array>) received.update(chunk);
    assert.equal(`sha256:${received.digest('hex')}`, digest);
    const rssAfterPull = await server.peakRss();
    await server.stop();

    const mib = (n: number): string => `${(n / 1024 ** 2).toFixed(0)} MiB`;
    process.stdout.write(`# peak RSS after ${mib(totalBytes)} push: ${mib(rssAfterPush)}, after pull: ${mib(rssAfterPull)}\n`);
    assert.ok(rssAfterPull < 300 * 1024 ** 2, `server peak RSS ${mib(rssAfterPull)} for a ${mib(totalBytes)} blob`);
  });
});
