/**
 * SigV4 verifier tests. Requests are signed with the real AWS SDK for
 * JavaScript v3 signer (@smithy/signature-v4 with the SDK's Node sha256,
 * `Hash` from @smithy/core/serde) and, for a cross-check, with botocore.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { buildQueryString, HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  canonicalQueryString,
  canonicalUri,
  normalizePath,
  parseQuery,
  SigningKeyCache,
  verifySigV4,
  type SigV4Credentials,
  type SigV4Request,
  type SigV4Result,
  type SigV4Success,
  type VerifySigV4Options,
} from '../src/iam/sigv4/index.js';

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

interface TestCredentials extends SigV4Credentials {
  principal: { arn: string };
}

const ALICE = { accessKeyId: 'AKIAALICEEXAMPLE0001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const TEMP = {
  accessKeyId: 'ASIATEMPEXAMPLE00002',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with+special=chars',
};
const BOTO = { accessKeyId: 'AKIABOTOEXAMPLE00003', secretAccessKey: 'botocore/secret+KEY/example' };

const T0 = new Date('2024-05-01T12:00:00Z');

const STORE = new Map<string, TestCredentials>([
  [ALICE.accessKeyId, { secretAccessKey: ALICE.secretAccessKey, principal: { arn: 'arn:aws:iam::123456789012:user/alice' } }],
  [
    TEMP.accessKeyId,
    {
      secretAccessKey: TEMP.secretAccessKey,
      sessionToken: TEMP.sessionToken,
      expiration: new Date('2024-05-01T18:00:00Z'),
      principal: { arn: 'arn:aws:sts::123456789012:assumed-role/pusher/ci' },
    },
  ],
  [BOTO.accessKeyId, { secretAccessKey: BOTO.secretAccessKey, principal: { arn: 'arn:aws:iam::123456789012:user/boto' } }],
]);

const lookup = async (accessKeyId: string): Promise<TestCredentials | undefined> => STORE.get(accessKeyId);

const sha256 = Hash.bind(null, 'sha256');

function makeSigner(
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  service: string,
  region: string,
  applyChecksum = false,
): SignatureV4 {
  return new SignatureV4({ credentials: creds, region, service, sha256, applyChecksum, uriEscapePath: true });
}

/** The shape the signer returns (the @smithy/types HttpRequest interface). */
interface SignedHttpRequest {
  method: string;
  path: string;
  query?: Parameters<typeof buildQueryString>[0];
  headers: Record<string, string>;
  body?: unknown;
}

/** What a server sees for a request the SDK would put on the wire. */
function toWire(req: SignedHttpRequest): SigV4Request {
  const qs = buildQueryString(req.query ?? {});
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  const body: unknown = req.body;
  const wire: SigV4Request = { method: req.method, path: qs === '' ? req.path : `${req.path}?${qs}`, headers };
  if (typeof body === 'string') wire.body = Buffer.from(body, 'utf8');
  else if (body instanceof Uint8Array) wire.body = Buffer.from(body);
  return wire;
}

const ECR_HOST = 'api.ecr.us-east-1.amazonaws.com';

/** A request shaped like @aws-sdk/client-ecr's (AWS JSON 1.1, X-Amz-Target) just before signing. */
function ecrRequest(operation: string, input: object, host = ECR_HOST, targetPrefix = 'AmazonEC2ContainerRegistry_V20150921'): HttpRequest {
  const body = JSON.stringify(input);
  return new HttpRequest({
    protocol: 'https:',
    hostname: host,
    method: 'POST',
    path: '/',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${targetPrefix}.${operation}`,
      host,
      'content-length': String(Buffer.byteLength(body)),
      'amz-sdk-invocation-id': randomUUID(),
      'amz-sdk-request': 'attempt=1; max=3',
      'x-amz-user-agent': 'aws-sdk-js/3.600.0',
      'user-agent': 'aws-sdk-js/3.600.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.19.0 api/ecr#3.600.0',
    },
    body,
  });
}

/** A Query-protocol (IAM/STS) POST with a form-encoded body. */
function queryApiRequest(host: string, params: Record<string, string>): HttpRequest {
  const body = new URLSearchParams(params).toString();
  return new HttpRequest({
    protocol: 'https:',
    hostname: host,
    method: 'POST',
    path: '/',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      host,
      'content-length': String(Buffer.byteLength(body)),
      'amz-sdk-invocation-id': randomUUID(),
      'amz-sdk-request': 'attempt=1; max=3',
    },
    body,
  });
}

async function signEcr(
  operation = 'DescribeRepositories',
  input: object = { repositoryNames: ['team/app'] },
  opts: { creds?: typeof ALICE | typeof TEMP; region?: string; service?: string; date?: Date; applyChecksum?: boolean } = {},
): Promise<SigV4Request> {
  const signer = makeSigner(opts.creds ?? ALICE, opts.service ?? 'ecr', opts.region ?? 'us-east-1', opts.applyChecksum ?? false);
  const signed = await signer.sign(ecrRequest(operation, input), { signingDate: opts.date ?? T0 });
  return toWire(signed);
}

function verify(
  req: SigV4Request,
  options: Partial<VerifySigV4Options> = {},
  lookupFn: (id: string) => Promise<TestCredentials | undefined> = lookup,
): Promise<SigV4Result<TestCredentials>> {
  return verifySigV4(req, lookupFn, { now: T0, expectedService: 'ecr', ...options });
}

function assertOk(result: SigV4Result<TestCredentials>): SigV4Success<TestCredentials> {
  if (!result.ok) assert.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result;
}

function assertError(
  result: SigV4Result<TestCredentials>,
  code: string,
  message?: string | RegExp,
  status?: number,
): void {
  assert.equal(result.ok, false, 'expected a failure');
  if (result.ok) return;
  assert.equal(result.error.code, code, `message was: ${result.error.message}`);
  if (typeof message === 'string') assert.equal(result.error.message, message);
  else if (message !== undefined) assert.match(result.error.message, message);
  if (status !== undefined) assert.equal(result.error.status, status);
}

function withHeaders(req: SigV4Request, changes: Record<string, string | string[] | undefined>): SigV4Request {
  const headers: Record<string, string | readonly string[] | undefined> = { ...req.headers };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { ...req, headers };
}

function authHeader(req: SigV4Request): string {
  const value = req.headers['authorization'];
  assert.equal(typeof value, 'string');
  return value as string;
}

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

// ---------------------------------------------------------------------------
// Canonicalization building blocks
// ---------------------------------------------------------------------------

describe('canonicalization', () => {
  test('path normalization and double encoding (non-S3 rules)', () => {
    assert.equal(normalizePath('/foo/../bar'), '/bar');
    assert.equal(normalizePath('/foo/./bar/'), '/foo/bar/');
    assert.equal(normalizePath('//foo//bar'), '/foo/bar');
    assert.equal(normalizePath('/..'), '/');
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalUri(''), '/');
    assert.equal(canonicalUri('//'), '/');
    // Received path is already encoded once; canonical form encodes it again.
    assert.equal(canonicalUri('/my%20repo/a+b'), '/my%2520repo/a%2Bb');
    assert.equal(canonicalUri('/%C3%BC/x:y'), '/%25C3%25BC/x%3Ay');
    assert.equal(canonicalUri('/a/./b/../c//d/'), '/a/c/d/');
  });

  test('query: decode, re-encode, sort by key then value, keep repeats and empty values', () => {
    const q = parseQuery('b=2&a=2&a=1&empty=&bare&c=%7e%2a&d=x+y&e=%2B&f=%zz');
    assert.equal(
      canonicalQueryString(q),
      'a=1&a=2&b=2&bare=&c=~%2A&d=x%20y&e=%2B&empty=&f=%25zz',
    );
    assert.equal(canonicalQueryString(parseQuery('')), '');
    assert.equal(canonicalQueryString(parseQuery('%C3%A4=%E2%82%AC')), '%C3%A4=%E2%82%AC');
  });

  test('AWS documentation example (IAM ListUsers, 20150830T123600Z)', async () => {
    const req: SigV4Request = {
      method: 'GET',
      path: '/?Action=ListUsers&Version=2010-05-08',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        host: 'iam.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
          'SignedHeaders=content-type;host;x-amz-date, ' +
          'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
      },
    };
    const result = await verifySigV4(
      req,
      async (id) => (id === 'AKIDEXAMPLE' ? { secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', principal: 'doc' } : undefined),
      { now: new Date('2015-08-30T12:36:00Z'), expectedService: 'iam' },
    );
    assert.equal(result.ok, true, result.ok ? '' : result.error.message);
  });
});

// ---------------------------------------------------------------------------
// Requests signed by the real SDK signer
// ---------------------------------------------------------------------------

describe('SDK-signed requests verify', () => {
  test('ECR JSON 1.1 POST (X-Amz-Target, content-type application/x-amz-json-1.1)', async () => {
    const req = await signEcr();
    assert.match(authHeader(req), /SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target;x-amz-user-agent,/);
    const ok = assertOk(await verify(req));
    assert.equal(ok.accessKeyId, ALICE.accessKeyId);
    assert.equal(ok.service, 'ecr');
    assert.equal(ok.region, 'us-east-1');
    assert.equal(ok.signedAt.toISOString(), T0.toISOString());
    assert.equal(ok.authType, 'header');
    assert.equal(ok.payloadSigned, true);
    assert.equal(ok.payloadHash, createHash('sha256').update(req.body as Buffer).digest('hex'));
    assert.deepEqual(ok.credentials.principal, { arn: 'arn:aws:iam::123456789012:user/alice' });
    assert.equal(ok.sessionToken, undefined);
  });

  test('ECR JSON POST with x-amz-content-sha256 (applyChecksum) and an empty {} body', async () => {
    const req = await signEcr('GetAuthorizationToken', {}, { applyChecksum: true });
    assert.ok(req.headers['x-amz-content-sha256']);
    assertOk(await verify(req));
  });

  test('precomputed payload hash instead of the body', async () => {
    const req = await signEcr();
    const payloadHash = createHash('sha256').update(req.body as Buffer).digest('hex');
    const { body: _body, ...withoutBody } = req;
    assertOk(await verify({ ...withoutBody, payloadHash }));
  });

  test('ECR Public (SpencerFrontendService, signing name ecr-public) with a list of expected services', async () => {
    const host = 'api.ecr-public.us-east-1.amazonaws.com';
    const signer = makeSigner(ALICE, 'ecr-public', 'us-east-1');
    const signed = await signer.sign(ecrRequest('DescribeRegistries', {}, host, 'SpencerFrontendService'), { signingDate: T0 });
    const ok = assertOk(await verify(toWire(signed), { expectedService: ['ecr', 'ecr-public'] }));
    assert.equal(ok.service, 'ecr-public');
  });

  test('Query-API POST (IAM ListUsers, STS GetCallerIdentity) with a form-encoded body', async () => {
    const iam = makeSigner(ALICE, 'iam', 'us-east-1');
    const iamReq = await iam.sign(queryApiRequest('iam.amazonaws.com', { Action: 'ListUsers', Version: '2010-05-08', PathPrefix: '/división/ a+b/' }), {
      signingDate: T0,
    });
    const okIam = assertOk(await verify(toWire(iamReq), { expectedService: 'iam' }));
    assert.equal(okIam.service, 'iam');

    const sts = makeSigner(ALICE, 'sts', 'eu-central-1');
    const stsReq = await sts.sign(queryApiRequest('sts.eu-central-1.amazonaws.com', { Action: 'GetCallerIdentity', Version: '2011-06-15' }), {
      signingDate: T0,
    });
    const okSts = assertOk(await verify(toWire(stsReq), { expectedService: ['iam', 'sts'] }));
    assert.equal(okSts.region, 'eu-central-1');
  });

  test('GET with an encoded path and query parameters that need encoding (repeats, empty, unicode, reserved)', async () => {
    const signer = makeSigner(ALICE, 'ecr', 'us-west-2');
    const req = new HttpRequest({
      protocol: 'https:',
      hostname: 'berth.example.test',
      method: 'GET',
      path: '/v1/repos/my%20repo/%C3%BCmlaut/a%2Bb',
      query: {
        'b key': 'x y',
        a: ['2', '1', '10'],
        c: "ä/ö*!'()~",
        empty: '',
        'X-Amz-Meta': 'v=1&w=2',
      },
      headers: { host: 'berth.example.test', 'x-custom': '  spaced    out   value ' },
    });
    const signed = await signer.sign(req, { signingDate: T0 });
    const wire = toWire(signed);
    assert.match(wire.path, /\?X-Amz-Meta=v%3D1%26w%3D2&a=2&a=1&a=10&b%20key=x%20y&c=%C3%A4%2F%C3%B6%2A%21%27%28%29~&empty=/);
    assertOk(await verify(wire));
    // Whitespace in the received header value differs only in runs/edges: still the same canonical value.
    assertOk(await verify(withHeaders(wire, { 'x-custom': 'spaced out value' })));
  });

  test('path with dot segments and double slashes is normalized like the SDK does', async () => {
    const signer = makeSigner(ALICE, 'ecr', 'us-east-1');
    const signed = await signer.sign(
      new HttpRequest({ method: 'GET', hostname: 'h.test', path: '/a/./b/../c//d/', headers: { host: 'h.test' } }),
      { signingDate: T0 },
    );
    assertOk(await verify(toWire(signed)));
    // The normalized form signs the same, so a router must route on the normalized path too.
    assertOk(await verify({ ...toWire(signed), path: '/a/c/d/' }));
  });

  test('repeated header delivered as an array joins with commas', async () => {
    const signer = makeSigner(ALICE, 'ecr', 'us-east-1');
    const signed = await signer.sign(
      new HttpRequest({ method: 'GET', hostname: 'h.test', path: '/', headers: { host: 'h.test', 'x-amz-meta-tags': 'a,b  b,c' } }),
      { signingDate: T0 },
    );
    const wire = toWire(signed);
    assertOk(await verify(wire));
    // Each value trimmed/collapsed, then joined with ',' (not ', ' as Node's req.headers does).
    assertOk(await verify(withHeaders(wire, { 'x-amz-meta-tags': ['a', ' b   b ', 'c'] })));
    assertError(await verify(withHeaders(wire, { 'x-amz-meta-tags': ['a', 'c', 'b b'] })), 'InvalidSignatureException', MISMATCH);
    assertError(await verify(withHeaders(wire, { 'x-amz-meta-tags': 'a, b b, c' })), 'InvalidSignatureException', MISMATCH);
  });

  test('end to end through a real HTTP server (req.url, req.headers, streamed body)', async () => {
    const seen: SigV4Result<TestCredentials>[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string | string[] | undefined> = { ...req.headers };
        void verify({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: Buffer.concat(chunks) }, {
          now: new Date(),
        }).then((r) => {
          seen.push(r);
          res.end(r.ok ? 'ok' : r.error.code);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const host = `127.0.0.1:${port}`;
      const signer = makeSigner(ALICE, 'ecr', 'us-east-1');
      const send = async (req: HttpRequest): Promise<string> => {
        const signed = await signer.sign(req, { signingDate: new Date() });
        const wire = toWire(signed);
        return new Promise<string>((resolve, reject) => {
          const out = httpRequest({ host: '127.0.0.1', port, method: wire.method, path: wire.path, headers: signed.headers }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          });
          out.on('error', reject);
          if (wire.body !== undefined) out.write(wire.body);
          out.end();
        });
      };
      const post = ecrRequest('ListImages', { repositoryName: 'ns/app', filter: { tagStatus: 'TAGGED' } }, host);
      assert.equal(await send(post), 'ok');
      const get = new HttpRequest({
        method: 'GET',
        hostname: '127.0.0.1',
        port,
        path: '/v2/ns%2Fapp/tags/list',
        query: { n: '10', last: 'v1.0+build 7' },
        headers: { host },
      });
      assert.equal(await send(get), 'ok');
      assert.equal(seen.length, 2);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

// ---------------------------------------------------------------------------
// Presigned URLs
// ---------------------------------------------------------------------------

function stsGetCallerIdentity(): HttpRequest {
  return new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: 'sts.amazonaws.com',
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: 'sts.amazonaws.com', 'x-k8s-aws-id': 'my-cluster' },
  });
}

describe('presigned URLs', () => {
  test('presign verifies within X-Amz-Expires and is refused after it (replay)', async () => {
    const signer = makeSigner(ALICE, 'sts', 'us-east-1');
    const presigned = toWire(await signer.presign(stsGetCallerIdentity(), { signingDate: T0, expiresIn: 900 }));
    assert.match(presigned.path, /X-Amz-Expires=900/);
    const opts = { expectedService: 'sts' };
    const ok = assertOk(await verify(presigned, { ...opts, now: T0 }));
    assert.equal(ok.authType, 'presigned');
    assert.equal(ok.expiresAt?.toISOString(), '2024-05-01T12:15:00.000Z');
    assert.deepEqual(ok.signedHeaders, ['host', 'x-k8s-aws-id']);
    // Older than the 5-minute header skew but still inside X-Amz-Expires.
    assertOk(await verify(presigned, { ...opts, now: new Date(T0.getTime() + 899_000) }));
    assertOk(await verify(presigned, { ...opts, now: new Date(T0.getTime() + 900_000) }));
    const late = await verify(presigned, { ...opts, now: new Date(T0.getTime() + 901_000) });
    assertError(
      late,
      'SignatureDoesNotMatch',
      'Signature expired: 20240501T120000Z is now earlier than 20240501T120001Z (20240501T121501Z - 15 min.)',
      403,
    );
    // Same URL against a JSON-style service reports the Coral name.
    assertError(await verify(presigned, { expectedService: 'sts', errorStyle: 'json', now: new Date(T0.getTime() + 3600_000) }), 'InvalidSignatureException', /^Signature expired/, 400);
  });

  test('presign dated in the future beyond the skew is not yet current', async () => {
    const signer = makeSigner(ALICE, 'sts', 'us-east-1');
    const presigned = toWire(await signer.presign(stsGetCallerIdentity(), { signingDate: new Date(T0.getTime() + 301_000), expiresIn: 60 }));
    assertError(
      await verify(presigned, { expectedService: 'sts' }),
      'SignatureDoesNotMatch',
      'Signature not yet current: 20240501T120501Z is still later than 20240501T120500Z (20240501T120000Z + 5 min.)',
    );
  });

  test('presign with the 7-day maximum works; X-Amz-Expires above it or non-numeric is refused', async () => {
    const signer = makeSigner(ALICE, 'ecr', 'us-east-1');
    const get = new HttpRequest({ method: 'GET', hostname: 'h.test', path: '/v2/', headers: { host: 'h.test' } });
    const week = toWire(await signer.presign(get, { signingDate: T0, expiresIn: 604_800 }));
    assertOk(await verify(week, { now: new Date(T0.getTime() + 604_000_000) }));
    const tooLong = { ...week, path: week.path.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801') };
    assertError(await verify(tooLong), 'IncompleteSignatureException', 'X-Amz-Expires must be less than a week (in seconds) that is 604800', 400);
    const nonNumeric = { ...week, path: week.path.replace('X-Amz-Expires=604800', 'X-Amz-Expires=1e3') };
    assertError(await verify(nonNumeric), 'IncompleteSignatureException', 'X-Amz-Expires should be a number');
    assertError(await verify(week, { maxPresignExpiresSeconds: 3600 }), 'IncompleteSignatureException', 'X-Amz-Expires must be at most 3600 seconds');
  });

  test('presign tampering: changed parameter, extra parameter, stripped signature, missing parameters', async () => {
    const signer = makeSigner(ALICE, 'sts', 'us-east-1');
    const presigned = toWire(await signer.presign(stsGetCallerIdentity(), { signingDate: T0, expiresIn: 300 }));
    const o = { expectedService: 'sts' };
    assertError(await verify({ ...presigned, path: presigned.path.replace('GetCallerIdentity', 'GetSessionToken') }, o), 'SignatureDoesNotMatch', MISMATCH, 403);
    assertError(await verify({ ...presigned, path: `${presigned.path}&extra=1` }, o), 'SignatureDoesNotMatch', MISMATCH);
    assertError(await verify({ ...presigned, path: presigned.path.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000') }, o), 'SignatureDoesNotMatch', MISMATCH);
    assertError(await verify(withHeaders(presigned, { 'x-k8s-aws-id': 'other-cluster' }), o), 'SignatureDoesNotMatch', MISMATCH);
    assertError(await verify({ ...presigned, path: presigned.path.replace(/&?X-Amz-Signature=[0-9a-f]+/, '') }, o), 'IncompleteSignature', "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.", 400);
    assertError(await verify({ ...presigned, path: presigned.path.replace(/&?X-Amz-Date=[0-9TZ]+/, '') }, o), 'IncompleteSignature', /must include 'X-Amz-Date'/);
    assertError(await verify({ ...presigned, path: presigned.path.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1') }, o), 'IncompleteSignature', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    assertError(await verify(presigned, { ...o, allowPresigned: false }), 'MissingAuthenticationToken', 'Missing Authentication Token', 403);
  });

  test('presign with session-token credentials (token in the query, signed); wrong token refused', async () => {
    const signer = makeSigner(TEMP, 'ecr', 'us-east-1');
    const get = new HttpRequest({ method: 'GET', hostname: 'h.test', path: '/v2/', headers: { host: 'h.test' } });
    const presigned = toWire(await signer.presign(get, { signingDate: T0, expiresIn: 600 }));
    assert.match(presigned.path, /X-Amz-Security-Token=/);
    const ok = assertOk(await verify(presigned));
    assert.equal(ok.sessionToken, TEMP.sessionToken);
    const wrong = { ...presigned, path: presigned.path.replace(/X-Amz-Security-Token=[^&]+/, 'X-Amz-Security-Token=bogus') };
    assertError(await verify(wrong), 'UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
    const missing = { ...presigned, path: presigned.path.replace(/&?X-Amz-Security-Token=[^&]+/, '') };
    assertError(await verify(missing), 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  });

  test('presign where the security token was appended after signing (unsigned token) is accepted', async () => {
    const signer = makeSigner({ accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey }, 'ecr', 'us-east-1');
    const get = new HttpRequest({ method: 'GET', hostname: 'h.test', path: '/mqtt', headers: { host: 'h.test' } });
    const presigned = toWire(await signer.presign(get, { signingDate: T0, expiresIn: 600 }));
    const appended = { ...presigned, path: `${presigned.path}&X-Amz-Security-Token=${encodeURIComponent(TEMP.sessionToken)}` };
    assertOk(await verify(appended));
  });

  test('both an Authorization header and X-Amz-* query authentication is refused', async () => {
    const signer = makeSigner(ALICE, 'ecr', 'us-east-1');
    const get = new HttpRequest({ method: 'GET', hostname: 'h.test', path: '/v2/', headers: { host: 'h.test' } });
    const presigned = toWire(await signer.presign(get, { signingDate: T0, expiresIn: 600 }));
    const header = await signEcr();
    assertError(
      await verify(withHeaders(presigned, { authorization: authHeader(header) })),
      'IncompleteSignatureException',
      /Only one authentication mechanism is allowed/,
    );
  });
});

// ---------------------------------------------------------------------------
// Session tokens on header-signed requests
// ---------------------------------------------------------------------------

describe('session tokens', () => {
  test('temporary credentials with the token signed verify and report the token', async () => {
    const req = await signEcr('DescribeRepositories', {}, { creds: TEMP });
    assert.match(authHeader(req), /x-amz-security-token/);
    const ok = assertOk(await verify(req));
    assert.equal(ok.sessionToken, TEMP.sessionToken);
    assert.equal(ok.accessKeyId, TEMP.accessKeyId);
  });

  test('token sent but not signed is accepted (AWS allows either)', async () => {
    const signer = makeSigner({ accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey }, 'ecr', 'us-east-1');
    const req = toWire(await signer.sign(ecrRequest('DescribeRepositories', {}), { signingDate: T0 }));
    assertOk(await verify(withHeaders(req, { 'x-amz-security-token': TEMP.sessionToken })));
  });

  test('missing, wrong or superfluous tokens are UnrecognizedClientException / InvalidClientTokenId', async () => {
    const signer = makeSigner({ accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey }, 'ecr', 'us-east-1');
    const noToken = toWire(await signer.sign(ecrRequest('DescribeRepositories', {}), { signingDate: T0 }));
    assertError(await verify(noToken), 'UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
    assertError(await verify(noToken, { expectedService: undefined, errorStyle: 'query' }), 'InvalidClientTokenId', 'The security token included in the request is invalid.', 403);

    const signed = await signEcr('DescribeRepositories', {}, { creds: TEMP });
    assertError(await verify(withHeaders(signed, { 'x-amz-security-token': `${TEMP.sessionToken}x` })), 'UnrecognizedClientException');

    // A long-term key presented with some session token.
    const aliceWithToken = makeSigner({ ...ALICE, sessionToken: 'not-a-token-for-this-key' }, 'ecr', 'us-east-1');
    const req = toWire(await aliceWithToken.sign(ecrRequest('DescribeRepositories', {}), { signingDate: T0 }));
    assertError(await verify(req), 'UnrecognizedClientException');
  });

  test('expired temporary credentials are ExpiredTokenException / ExpiredToken', async () => {
    const late = new Date('2024-05-01T18:00:00Z');
    const req = await signEcr('DescribeRepositories', {}, { creds: TEMP, date: late });
    assertError(await verify(req, { now: late }), 'ExpiredTokenException', 'The security token included in the request is expired', 400);
    assertError(await verify(req, { now: late, expectedService: 'sts' }), 'SignatureDoesNotMatch', /correct service/);
    const stsSigned = toWire(
      await makeSigner(TEMP, 'sts', 'us-east-1').sign(queryApiRequest('sts.amazonaws.com', { Action: 'GetCallerIdentity', Version: '2011-06-15' }), {
        signingDate: late,
      }),
    );
    assertError(await verify(stsSigned, { now: late, expectedService: 'sts' }), 'ExpiredToken', 'The security token included in the request is expired', 403);
  });
});

// ---------------------------------------------------------------------------
// Tampering and policy failures
// ---------------------------------------------------------------------------

describe('tampering', () => {
  test('changed body, signed header, path, query, method are InvalidSignatureException with debug strings', async () => {
    const req = await signEcr();
    const cases: [string, SigV4Request][] = [
      ['body', { ...req, body: Buffer.from(JSON.stringify({ repositoryNames: ['team/other'] })) }],
      ['x-amz-target', withHeaders(req, { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository' })],
      ['content-type', withHeaders(req, { 'content-type': 'application/json' })],
      ['host', withHeaders(req, { host: 'evil.example' })],
      ['path', { ...req, path: '/other' }],
      ['query', { ...req, path: '/?x=1' }],
      ['method', { ...req, method: 'PUT' }],
      ['signature', withHeaders(req, { authorization: authHeader(req).replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`) })],
      ['uppercase signature', withHeaders(req, { authorization: authHeader(req).replace(/Signature=([0-9a-f]+)/, (_m, s: string) => `Signature=${s.toUpperCase()}`) })],
      ['short signature', withHeaders(req, { authorization: authHeader(req).replace(/Signature=([0-9a-f]+)/, 'Signature=abc') })],
    ];
    for (const [what, tampered] of cases) {
      const result = await verify(tampered);
      assertError(result, 'InvalidSignatureException', MISMATCH, 400);
      assert.ok(!result.ok && result.error.canonicalRequest?.startsWith(tampered.method), what);
      assert.ok(!result.ok && result.error.stringToSign?.startsWith('AWS4-HMAC-SHA256\n20240501T120000Z\n20240501/us-east-1/ecr/aws4_request\n'), what);
      assert.ok(!result.ok && result.error.accessKeyId === ALICE.accessKeyId, what);
    }
    // Unsigned headers may change freely.
    assertOk(await verify(withHeaders(req, { 'user-agent': 'curl/8', 'x-forwarded-for': '10.0.0.1' })));
  });

  test('x-amz-content-sha256 that does not match the body; UNSIGNED-PAYLOAD policy', async () => {
    const req = await signEcr('DescribeRepositories', {}, { applyChecksum: true });
    assertError(await verify({ ...req, body: Buffer.from('{"x":1}') }), 'InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");

    const signer = makeSigner(ALICE, 'ecr', 'us-east-1');
    const unsignedReq = ecrRequest('DescribeRepositories', {});
    unsignedReq.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const unsigned = toWire(await signer.sign(unsignedReq, { signingDate: T0 }));
    assertError(await verify(unsigned), 'InvalidSignatureException', /UNSIGNED-PAYLOAD/);
    const ok = assertOk(await verify({ ...unsigned, body: Buffer.from('anything') }, { allowUnsignedPayload: true }));
    assert.equal(ok.payloadSigned, false);
    assert.equal(ok.payloadHash, 'UNSIGNED-PAYLOAD');
    assertError(await verify(withHeaders(unsigned, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' })), 'IncompleteSignatureException', /x-amz-content-sha256 must be/);
  });

  test('wrong secret', async () => {
    const signer = makeSigner({ accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-the-secret' }, 'ecr', 'us-east-1');
    const req = toWire(await signer.sign(ecrRequest('DescribeRepositories', {}), { signingDate: T0 }));
    assertError(await verify(req), 'InvalidSignatureException', MISMATCH, 400);
    assertError(await verify(req, { errorStyle: 'query' }), 'SignatureDoesNotMatch', MISMATCH, 403);
  });

  test('wrong service in the credential scope', async () => {
    const req = await signEcr('DescribeRepositories', {}, { service: 'ecs' });
    assertError(await verify(req), 'InvalidSignatureException', "Credential should be scoped to correct service: 'ecr'.", 400);
    assertError(await verify(req, { expectedService: ['iam', 'sts'] }), 'SignatureDoesNotMatch', "Credential should be scoped to correct service: 'iam'.", 403);
    // No expectation: any service is accepted and reported.
    assert.equal(assertOk(await verify(req, { expectedService: undefined })).service, 'ecs');
  });

  test('region: any well-formed region is accepted and reported unless restricted', async () => {
    const req = await signEcr('DescribeRepositories', {}, { region: 'ap-southeast-2' });
    assert.equal(assertOk(await verify(req)).region, 'ap-southeast-2');
    assertOk(await verify(req, { region: ['us-east-1', 'ap-southeast-2'] }));
    assertError(await verify(req, { region: 'us-east-1' }), 'InvalidSignatureException', "Credential should be scoped to a valid region, not 'ap-southeast-2'.");
    const weird = await signEcr('DescribeRepositories', {}, { region: 'US EAST' });
    assertError(await verify(weird), 'InvalidSignatureException', "Credential should be scoped to a valid region, not 'US EAST'.");
  });

  test('clock skew beyond 5 minutes in both directions (exactly 5 minutes is accepted)', async () => {
    const req = await signEcr();
    assertOk(await verify(req, { now: new Date(T0.getTime() + 300_000) }));
    assertOk(await verify(req, { now: new Date(T0.getTime() - 300_000) }));
    assertError(
      await verify(req, { now: new Date(T0.getTime() + 301_000) }),
      'InvalidSignatureException',
      'Signature expired: 20240501T120000Z is now earlier than 20240501T120001Z (20240501T120501Z - 5 min.)',
      400,
    );
    assertError(
      await verify(req, { now: new Date(T0.getTime() - 301_000) }),
      'InvalidSignatureException',
      'Signature not yet current: 20240501T120000Z is still later than 20240501T115959Z (20240501T115459Z + 5 min.)',
    );
    assertError(await verify(req, { now: new Date(T0.getTime() + 61_000), maxSkewSeconds: 60 }), 'InvalidSignatureException', /\(20240501T120101Z - 1 min\.\)$/);
    assertError(await verify(req, { now: new Date(T0.getTime() + 3_600_000), errorStyle: 'query' }), 'SignatureDoesNotMatch', /^Signature expired/, 403);
  });

  test('unknown access key', async () => {
    const signer = makeSigner({ accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' }, 'ecr', 'us-east-1');
    const req = toWire(await signer.sign(ecrRequest('DescribeRepositories', {}), { signingDate: T0 }));
    assertError(await verify(req), 'UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
    assertError(await verify(req, { expectedService: 'iam' }), 'SignatureDoesNotMatch', /correct service: 'iam'/);
    const iamReq = toWire(
      await makeSigner({ accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' }, 'iam', 'us-east-1').sign(
        queryApiRequest('iam.amazonaws.com', { Action: 'ListUsers', Version: '2010-05-08' }),
        { signingDate: T0 },
      ),
    );
    assertError(await verify(iamReq, { expectedService: 'iam' }), 'InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
  });

  test('no authentication at all', async () => {
    const req: SigV4Request = { method: 'POST', path: '/', headers: { host: ECR_HOST, 'x-amz-target': 'X.Y' }, body: Buffer.from('{}') };
    assertError(await verify(req), 'MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
    assertError(await verify(withHeaders(req, { authorization: '   ' })), 'MissingAuthenticationTokenException');
    assertError(await verify(req, { expectedService: 'sts' }), 'MissingAuthenticationToken', 'Missing Authentication Token', 403);
  });

  test('a throwing credential lookup becomes InternalFailure, never a throw', async () => {
    const req = await signEcr();
    const result = await verify(req, {}, async () => {
      throw new Error('database is down');
    });
    assertError(result, 'InternalFailure', /internal error/, 500);
  });

  test('garbage input never throws', async () => {
    const garbage: SigV4Request[] = [
      { method: 'GET', path: '', headers: {} },
      { method: 'GET', path: '/?%', headers: { authorization: 'AWS4-HMAC-SHA256' } },
      { method: 'GET', path: '/%zz?X-Amz-Credential=%ff%fe&X-Amz-Algorithm', headers: {} },
      { method: 'GET', path: '/', headers: { authorization: 'AWS4-HMAC-SHA256 ,,,,' } },
      { method: 'GET', path: '/', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x', date: 'yesterday' } },
      { method: 'GET', path: '/', headers: { authorization: ['AWS4-HMAC-SHA256 Credential=x'], 'x-amz-date': ['1', '2'] } },
      { method: 'GET', path: '/', headers: { authorization: 42 as unknown as string } },
    ];
    for (const req of garbage) {
      const result = await verify(req);
      assert.equal(result.ok, false);
    }
  });
});

// ---------------------------------------------------------------------------
// Malformed Authorization headers
// ---------------------------------------------------------------------------

describe('malformed Authorization headers', () => {
  test('each shape yields the AWS error code and message', async () => {
    const req = await signEcr();
    const auth = authHeader(req);
    const cred = /Credential=([^,]+)/.exec(auth)?.[1] ?? '';
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '';
    const sig = /Signature=([0-9a-f]+)/.exec(auth)?.[1] ?? '';
    const cases: { name: string; headers: Record<string, string | string[] | undefined>; code: string; message: string | RegExp }[] = [
      {
        name: 'missing Credential',
        headers: { authorization: `AWS4-HMAC-SHA256 SignedHeaders=${signedHeaders}, Signature=${sig}` },
        code: 'IncompleteSignatureException',
        message: `Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=${signedHeaders}, Signature=${sig}`,
      },
      {
        name: 'missing Signature and SignedHeaders',
        headers: { authorization: `AWS4-HMAC-SHA256 Credential=${cred}` },
        code: 'IncompleteSignatureException',
        message: `Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=${cred}`,
      },
      {
        name: 'algorithm only',
        headers: { authorization: 'AWS4-HMAC-SHA256' },
        code: 'IncompleteSignatureException',
        message: /^Authorization header requires 'Credential' parameter\. Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\./,
      },
      {
        name: 'no X-Amz-Date or Date header',
        headers: { 'x-amz-date': undefined },
        code: 'IncompleteSignatureException',
        message: `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${auth}`,
      },
      {
        name: 'unsupported SigV4 algorithm',
        headers: { authorization: auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512') },
        code: 'IncompleteSignatureException',
        message: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.",
      },
      {
        name: 'not SigV4 at all (Bearer)',
        headers: { authorization: 'Bearer secret-token' },
        code: 'IncompleteSignatureException',
        message: `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${createHash('sha256').update('Bearer secret-token').digest('base64')}'.`,
      },
      {
        name: 'part without equal sign',
        headers: { authorization: `AWS4-HMAC-SHA256 Credential ${cred}, SignedHeaders=${signedHeaders}, Signature=${sig}` },
        code: 'IncompleteSignatureException',
        message: `'Credential ${cred}' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential ${cred}, SignedHeaders=${signedHeaders}, Signature=${sig}'.`,
      },
      {
        name: 'duplicate Signature',
        headers: { authorization: `${auth}, Signature=${sig}` },
        code: 'IncompleteSignatureException',
        message: /^'Signature' appears more than once in Authorization header/,
      },
      {
        name: 'two Authorization headers',
        headers: { authorization: [auth, auth] },
        code: 'IncompleteSignatureException',
        message: 'Only one Authorization header is allowed.',
      },
      {
        name: 'credential with four elements',
        headers: { authorization: auth.replace(cred, cred.replace('/us-east-1', '')) },
        code: 'IncompleteSignatureException',
        message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${cred.replace('/us-east-1', '')}'`,
      },
      {
        name: 'bad terminator',
        headers: { authorization: auth.replace('/aws4_request', '/aws5_request') },
        code: 'InvalidSignatureException',
        message: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
      },
      {
        name: 'scope date differs from X-Amz-Date',
        headers: { authorization: auth.replace('/20240501/', '/20240430/') },
        code: 'InvalidSignatureException',
        message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240430' != '20240501', from '20240501T120000Z'.",
      },
      {
        name: 'host not signed',
        headers: { authorization: auth.replace(';host;', ';') },
        code: 'InvalidSignatureException',
        message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      },
      {
        name: 'empty SignedHeaders',
        headers: { authorization: auth.replace(`SignedHeaders=${signedHeaders}`, 'SignedHeaders=') },
        code: 'InvalidSignatureException',
        message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      },
      {
        name: 'SignedHeaders with an empty name',
        headers: { authorization: auth.replace(`SignedHeaders=${signedHeaders}`, `SignedHeaders=${signedHeaders};;x`) },
        code: 'IncompleteSignatureException',
        message: /^Invalid SignedHeaders/,
      },
      {
        name: 'extended ISO-8601 X-Amz-Date',
        headers: { 'x-amz-date': '2024-05-01T12:00:00Z' },
        code: 'IncompleteSignatureException',
        message: "Date must be in ISO-8601 'basic format'. Got '2024-05-01T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
      },
      {
        name: 'impossible calendar date',
        headers: { 'x-amz-date': '20240230T120000Z' },
        code: 'IncompleteSignatureException',
        message: /^Date must be in ISO-8601 'basic format'\. Got '20240230T120000Z'/,
      },
      {
        name: 'empty access key id',
        headers: { authorization: auth.replace(ALICE.accessKeyId, '') },
        code: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      },
    ];
    for (const c of cases) {
      const result = await verify(withHeaders(req, c.headers));
      assert.equal(result.ok, false, c.name);
      if (result.ok) continue;
      assert.equal(result.error.code, c.code, `${c.name}: ${result.error.message}`);
      if (typeof c.message === 'string') assert.equal(result.error.message, c.message, c.name);
      else assert.match(result.error.message, c.message, c.name);
      assert.equal(result.error.status, 400, c.name);
    }
  });

  test('query-protocol names for the same shapes (IAM/STS)', async () => {
    const req = await signEcr();
    const o = { expectedService: 'ecr', errorStyle: 'query' as const };
    assertError(await verify(withHeaders(req, { authorization: 'AWS4-HMAC-SHA256 Credential=x' }), o), 'IncompleteSignature', /requires 'Signature'/, 400);
    assertError(await verify(withHeaders(req, { authorization: authHeader(req).replace(';host;', ';') }), o), 'SignatureDoesNotMatch', /'Host'/, 403);
  });
});

// ---------------------------------------------------------------------------
// Date header (no X-Amz-Date): signed by hand, following the documented algorithm
// ---------------------------------------------------------------------------

describe('Date header', () => {
  test('a request dated with the HTTP Date header verifies; the string to sign uses its ISO-8601 form', async () => {
    const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    const hex = (data: string): string => createHash('sha256').update(data).digest('hex');
    const dateHeader = 'Wed, 01 May 2024 12:00:00 GMT';
    const canonical = ['GET', '/', '', 'date:' + dateHeader, 'host:h.test', '', 'date;host', hex('')].join('\n');
    const sts = ['AWS4-HMAC-SHA256', '20240501T120000Z', '20240501/us-east-1/ecr/aws4_request', hex(canonical)].join('\n');
    let key: Buffer = hmac(`AWS4${ALICE.secretAccessKey}`, '20240501');
    for (const part of ['us-east-1', 'ecr', 'aws4_request']) key = hmac(key, part);
    const signature = hmac(key, sts).toString('hex');
    const req: SigV4Request = {
      method: 'GET',
      path: '/',
      headers: {
        host: 'h.test',
        date: dateHeader,
        authorization: `AWS4-HMAC-SHA256 Credential=${ALICE.accessKeyId}/20240501/us-east-1/ecr/aws4_request, SignedHeaders=date;host, Signature=${signature}`,
      },
    };
    const ok = assertOk(await verify(req));
    assert.equal(ok.signedAt.toISOString(), T0.toISOString());
    assertError(await verify(withHeaders(req, { date: 'Wed, 01 May 2024 12:00:01 GMT' })), 'InvalidSignatureException', MISMATCH);
  });
});

// ---------------------------------------------------------------------------
// Signing-key cache
// ---------------------------------------------------------------------------

describe('signing-key cache', () => {
  test('derived keys are reused and the cache stays bounded', async () => {
    const cache = new SigningKeyCache(2);
    const req = await signEcr();
    assertOk(await verify(req, { signingKeyCache: cache }));
    assertOk(await verify(req, { signingKeyCache: cache }));
    assert.deepEqual(cache.stats, { hits: 1, misses: 1, size: 1 });
    for (const region of ['eu-west-1', 'eu-west-2', 'eu-west-3']) {
      assertOk(await verify(await signEcr('DescribeRepositories', {}, { region }), { signingKeyCache: cache }));
    }
    assert.equal(cache.size, 2);
    // A rotated secret for the same key id is a different cache entry, not a stale hit.
    const rotated = new Map(STORE);
    rotated.set(ALICE.accessKeyId, { secretAccessKey: 'rotated', principal: { arn: 'x' } });
    assertError(await verify(req, { signingKeyCache: cache }, async (id) => rotated.get(id)), 'InvalidSignatureException', MISMATCH);
  });
});

// ---------------------------------------------------------------------------
// Cross-check against botocore (Python AWS SDK)
// ---------------------------------------------------------------------------

const BOTOCORE_SCRIPT = String.raw`
import json, sys
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
spec = json.loads(sys.argv[1])
out = []
for item in spec['requests']:
    creds = Credentials(spec['accessKeyId'], spec['secretAccessKey'], item.get('token'))
    params = [tuple(pair) for pair in (item.get('params') or [])]
    req = AWSRequest(method=item['method'], url=item['url'], params=params, headers=item.get('headers') or {}, data=item.get('body'))
    if item.get('presign'):
        SigV4QueryAuth(creds, item['service'], item['region'], expires=item['presign']).add_auth(req)
    else:
        SigV4Auth(creds, item['service'], item['region']).add_auth(req)
    p = req.prepare()
    headers = {k.lower(): v for k, v in p.headers.items()}
    body = p.body
    if isinstance(body, str):
        body = body.encode('utf-8')
    out.append({'method': p.method, 'url': p.url, 'headers': headers, 'body': (body or b'').decode('latin-1')})
print(json.dumps(out))
`;

function botocoreAvailable(): boolean {
  const r = spawnSync('python3', ['-c', 'import botocore'], { encoding: 'utf8' });
  return r.status === 0;
}

describe('botocore cross-check', () => {
  test('requests signed by botocore verify', { skip: botocoreAvailable() ? false : 'python3 with botocore not available' }, async () => {
    const spec = {
      accessKeyId: BOTO.accessKeyId,
      secretAccessKey: BOTO.secretAccessKey,
      requests: [
        {
          method: 'POST',
          url: `https://${ECR_HOST}/`,
          service: 'ecr',
          region: 'us-east-1',
          headers: {
            'Content-Type': 'application/x-amz-json-1.1',
            'X-Amz-Target': 'AmazonEC2ContainerRegistry_V20150921.DescribeImages',
          },
          body: JSON.stringify({ repositoryName: 'team/app', imageIds: [{ imageTag: 'v1' }] }),
        },
        {
          method: 'GET',
          url: 'https://berth.example.test:8443/v1/my%20repo/a+b',
          service: 'ecr',
          region: 'eu-west-1',
          params: [
            ['b key', 'x y'],
            ['a', '2'],
            ['a', '1'],
            ['c', 'ä/ö*~'],
            ['empty', ''],
          ],
          headers: { 'X-Custom': '  a   b  ' },
        },
        {
          method: 'POST',
          url: 'https://iam.amazonaws.com/',
          service: 'iam',
          region: 'us-east-1',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
          body: 'Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fdivision%2F',
        },
        {
          method: 'GET',
          url: 'https://sts.amazonaws.com/',
          service: 'sts',
          region: 'us-east-1',
          params: [
            ['Action', 'GetCallerIdentity'],
            ['Version', '2011-06-15'],
          ],
          headers: { 'x-k8s-aws-id': 'my-cluster' },
          presign: 60,
        },
      ],
    };
    const r = spawnSync('python3', ['-c', BOTOCORE_SCRIPT, JSON.stringify(spec)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const signed = JSON.parse(r.stdout) as { method: string; url: string; headers: Record<string, string>; body: string }[];
    assert.equal(signed.length, spec.requests.length);
    for (const [i, s] of signed.entries()) {
      const url = new URL(s.url);
      const headers: Record<string, string> = { ...s.headers, host: url.host };
      const req: SigV4Request = { method: s.method, path: `${url.pathname}${url.search}`, headers, body: Buffer.from(s.body, 'latin1') };
      const item = spec.requests[i];
      const result = await verify(req, { now: new Date(), expectedService: item?.service ?? '' });
      if (!result.ok) assert.fail(`botocore request ${i} (${s.method} ${s.url}): ${result.error.code}: ${result.error.message}\n${result.error.canonicalRequest ?? ''}`);
      assert.equal(result.accessKeyId, BOTO.accessKeyId);
      assert.equal(result.authType, item?.presign !== undefined ? 'presigned' : 'header');
      // And tampering is still caught on botocore's requests.
      const mismatchCode = item?.service === 'ecr' ? 'InvalidSignatureException' : 'SignatureDoesNotMatch';
      const tampered = { ...req, method: req.method === 'GET' ? 'HEAD' : 'PUT' };
      assertError(await verify(tampered, { now: new Date(), expectedService: item?.service ?? '' }), mismatchCode, MISMATCH);
    }
  });
});
