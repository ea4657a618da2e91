import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { ServerKey } from '../src/accounts/server-key.js';
import { RegistryTokens } from '../src/auth/registry-token.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';

const ROOT = { accessKeyId: 'AKIAAUTHERRORSROOT01', secretAccessKey: 'auth/errors/root/secret/key/for/tests/000' };
const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';

interface Sent {
  status: number;
  body: string;
}

/**
 * Bad authentication through the server, for both AWS protocols and for
 * registry passwords: each gets AWS's error, and none changes anything.
 */
describe('authentication failures through the server', () => {
  let berth: TestBerth;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey });
  });
  after(async () => {
    await berth?.stop();
  });

  /** Signs a POST / as the SDKs do, lets `tamper` spoil the signed request, and sends it. */
  const send = async (
    service: 'ecr' | 'iam',
    body: string,
    options: { signingDate?: Date; secret?: string; tamper?: (headers: Record<string, string>) => void; headers?: Record<string, string> } = {},
  ): Promise<Sent> => {
    const url = new URL(berth.url);
    const headers: Record<string, string> = {
      ...(service === 'ecr' ? { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': ECR_TARGET } : { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }),
      ...options.headers,
    };
    const signer = new SignatureV4({
      credentials: { accessKeyId: ROOT.accessKeyId, secretAccessKey: options.secret ?? ROOT.secretAccessKey },
      region: 'us-east-1',
      service,
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: true,
    });
    const request = new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, ...headers }, body });
    const signed = (await signer.sign(request, options.signingDate ? { signingDate: options.signingDate } : {})).headers as Record<string, string>;
    options.tamper?.(signed);
    const response = await fetch(`${berth.url}/`, { method: 'POST', headers: signed, body });
    return { status: response.status, body: await response.text() };
  };
  const iam = (params: Record<string, string>, options?: Parameters<typeof send>[2]): Promise<Sent> =>
    send('iam', new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(), options);
  const jsonError = (sent: Sent): string => (JSON.parse(sent.body) as { __type: string }).__type;
  const xmlError = (sent: Sent): string => /<Code>([^<]+)<\/Code>/.exec(sent.body)?.[1] ?? `no <Code> in ${sent.body.slice(0, 200)}`;
  const userExists = async (name: string): Promise<boolean> => (await iam({ Action: 'ListUsers' })).body.includes(`<UserName>${name}</UserName>`);

  test('a correctly signed call works (the baseline every case below spoils)', async () => {
    assert.equal((await send('ecr', '{}')).status, 200);
    assert.equal((await iam({ Action: 'ListUsers' })).status, 200);
  });

  test('an ECR call whose body is not JSON, or not of a JSON content type, is refused with AWS\'s error and creates nothing', async () => {
    const createRepository = (body: string, contentType = 'application/x-amz-json-1.1'): Promise<Sent> =>
      send('ecr', body, { headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.CreateRepository', 'content-type': contentType } });
    const body = JSON.stringify({ repositoryName: 'never/created' });
    for (const contentType of ['application/x-www-form-urlencoded; charset=utf-8', 'text/plain', 'application/octet-stream']) {
      const sent = await createRepository(body, contentType);
      assert.equal(sent.status, 400, contentType);
      assert.equal(jsonError(sent), 'UnknownOperationException', contentType);
    }
    for (const malformed of ['{"repositoryName": "never/created"', 'repositoryName=never/created', '[]', '"never/created"']) {
      const sent = await createRepository(malformed);
      assert.equal(sent.status, 400, malformed);
      assert.equal(jsonError(sent), 'SerializationException', malformed);
    }
    // The JSON types AWS's JSON services take work as the SDKs' own does.
    assert.equal((await createRepository(JSON.stringify({ repositoryName: 'json/typed' }), 'application/json; charset=utf-8')).status, 200);
    const listed = await send('ecr', '{}', { headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' } });
    const names = (JSON.parse(listed.body) as { repositories: { repositoryName: string }[] }).repositories.map((r) => r.repositoryName);
    assert.deepEqual(names, ['json/typed']);
  });

  test('a malformed Authorization header: IncompleteSignature(Exception), nothing created', async () => {
    const spoil = (headers: Record<string, string>): void => {
      headers.authorization = (headers.authorization as string).replace(/SignedHeaders=[^,]+, /, '');
    };
    const ecr = await send('ecr', '{}', { tamper: spoil });
    assert.equal(ecr.status, 400);
    assert.equal(jsonError(ecr), 'IncompleteSignatureException');
    const created = await iam({ Action: 'CreateUser', UserName: 'never-malformed' }, { tamper: spoil });
    assert.equal(created.status, 400);
    assert.equal(xmlError(created), 'IncompleteSignature');
    assert.equal(await userExists('never-malformed'), false);
  });

  test('a wrong signature: InvalidSignatureException / SignatureDoesNotMatch, nothing created', async () => {
    const ecr = await send('ecr', '{}', { secret: 'not/the/secret/of/this/key/at/all/000000' });
    assert.equal(jsonError(ecr), 'InvalidSignatureException');
    const created = await iam({ Action: 'CreateUser', UserName: 'never-wrong-signature' }, { secret: 'not/the/secret/of/this/key/at/all/000000' });
    assert.equal(created.status, 403);
    assert.equal(xmlError(created), 'SignatureDoesNotMatch');
    // A body changed after signing is the same failure.
    const url = new URL(berth.url);
    const signer = new SignatureV4({ credentials: ROOT, region: 'us-east-1', service: 'iam', sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
    const body = new URLSearchParams({ Action: 'CreateUser', UserName: 'never-a', Version: '2010-05-08' }).toString();
    const signed = await signer.sign(new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' }, body }));
    const swapped = await fetch(`${berth.url}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body: body.replace('never-a', 'never-b') });
    assert.equal(swapped.status, 403);
    assert.equal(await userExists('never-a'), false);
    assert.equal(await userExists('never-b'), false);
  });

  test('a clock skewed beyond 15 minutes: the signature is refused as expired, nothing created', async () => {
    const skewed = new Date(Date.now() - 20 * 60 * 1000);
    const ecr = await send('ecr', '{}', { signingDate: skewed });
    assert.equal(jsonError(ecr), 'InvalidSignatureException');
    assert.match(JSON.parse(ecr.body).message as string, /expired|skew|time/i);
    const ahead = await iam({ Action: 'CreateUser', UserName: 'never-skewed' }, { signingDate: new Date(Date.now() + 20 * 60 * 1000) });
    assert.equal(xmlError(ahead), 'SignatureDoesNotMatch');
    assert.equal(await userExists('never-skewed'), false);
  });

  test('an unknown key, and no signature at all', async () => {
    const unknown = await send('ecr', '{}', {
      tamper: (headers) => {
        headers.authorization = (headers.authorization as string).replace(ROOT.accessKeyId, 'AKIANOSUCHKEY0000000');
      },
    });
    assert.equal(jsonError(unknown), 'UnrecognizedClientException');
    const unsigned = await fetch(`${berth.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': ECR_TARGET }, body: '{}' });
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });

  test('a registry password stops working at its expiry, and a forged one never works', async () => {
    const tokens = new RegistryTokens((await ServerKey.load(berth.dataDir)).signingKey);
    const claims = { sub: 'arn:aws:iam::000000000000:root', akid: ROOT.accessKeyId, acct: '000000000000', typ: 'Account' as const, uid: '000000000000', svc: 'ecr' as const };
    const basic = (token: string): string => `Basic ${Buffer.from(`AWS:${token}`).toString('base64')}`;
    const now = Math.floor(Date.now() / 1000);

    const expired = basic(tokens.mint({ ...claims, exp: now - 1 }));
    const refused = await berth.request('/v2/', { headers: { authorization: expired } });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code, 'UNAUTHORIZED');

    // Accepted while valid (and so cached), refused once its time is up.
    const shortLived = basic(tokens.mint({ ...claims, exp: now + 2 }));
    assert.equal((await berth.request('/v2/', { headers: { authorization: shortLived } })).status, 200);
    await sleep(3100);
    assert.equal((await berth.request('/v2/', { headers: { authorization: shortLived } })).status, 401);

    const forged = basic(new RegistryTokens(Buffer.alloc(32, 7)).mint({ ...claims, exp: now + 3600 }));
    assert.equal((await berth.request('/v2/', { headers: { authorization: forged } })).status, 401);
  });

  test('a client that keeps sending past the limit: answered, then cut off after a bounded drain, not read to the end', async () => {
    const { hostname, port } = new URL(berth.url);
    const declared = 512 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(`POST / HTTP/1.1\r\nHost: ${hostname}\r\nX-Amz-Target: ${ECR_TARGET}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: ${declared}\r\n\r\n`);
    // Like a client that ignores an early answer: it writes on until the server hangs up.
    let written = 0;
    while (written < declared && !socket.destroyed && socket.writable) {
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
      written += chunk.length;
    }
    if (written >= declared) socket.end();
    await closed;
    assert.match(answer, /^HTTP\/1\.1 400/, 'the error was answered before the cut');
    assert.match(answer, /SerializationException/);
    assert.ok(written < declared / 2, `the server read ${written / 1024 / 1024} MiB before hanging up`);
    assert.equal((await berth.request('/v2/')).status, 200, 'the server still answers');
  });
});
