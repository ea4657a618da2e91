import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildQueryString, HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { isolatedAwsEnv } from './lib/aws-cli.js';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { requireClients, requireOrSkip } from './support/env.js';
import { run } from './support/process.js';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Answer {
  status: number;
  body: string;
}

const ROOT: Credentials = { accessKeyId: 'AKIAQUERYPRESIGNROOT', secretAccessKey: 'query/presigned/root/secret/for/tests/000' };
const ACCOUNT = '000000000000';
const STS_VERSION = '2011-06-15';
const IAM_VERSION = '2010-05-08';
const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const EXPIRES_IN_SECONDS = 2;

const element = (body: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
const errorCode = (answer: Answer): string => element(answer.body, 'Code') ?? `no <Code> in ${answer.body.slice(0, 300)}`;

/**
 * The Query protocol (STS, IAM) over GET: parameters in the URL, signed in the
 * Authorization header or presigned in the query string, as the presigned
 * GetCallerIdentity URLs of EKS-style tokens are. Everything goes through the
 * server over HTTP.
 */
describe('Query protocol GET and presigned URLs', () => {
  let berth: TestBerth;
  let alice: Credentials;

  const signer = (credentials: Credentials, service: 'sts' | 'iam'): SignatureV4 =>
    new SignatureV4({ credentials, region: 'us-east-1', service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const unsignedRequest = (method: 'GET' | 'POST', query: Record<string, string>, body?: string): HttpRequest => {
    const url = new URL(berth.url);
    const headers: Record<string, string> = { host: url.host, ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }) };
    return new HttpRequest({ method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', query, headers, ...(body === undefined ? {} : { body }) });
  };
  const send = async (url: string, init: RequestInit = {}): Promise<Answer> => {
    const response = await fetch(url, init);
    return { status: response.status, body: await response.text() };
  };

  /** A POST signed in the Authorization header, as the SDKs send Query calls. */
  const post = async (credentials: Credentials, service: 'sts' | 'iam', params: Record<string, string>): Promise<Answer> => {
    const body = new URLSearchParams({ ...params, Version: service === 'sts' ? STS_VERSION : IAM_VERSION }).toString();
    const signed = await signer(credentials, service).sign(unsignedRequest('POST', {}, body));
    return send(`${berth.url}/`, { method: 'POST', headers: signed.headers, body });
  };
  /** A GET with its parameters in the URL, signed in the Authorization header. */
  const getSignedInHeader = async (credentials: Credentials, service: 'sts' | 'iam', params: Record<string, string>): Promise<Answer> => {
    const signed = await signer(credentials, service).sign(unsignedRequest('GET', params));
    return send(`${berth.url}/?${buildQueryString(signed.query ?? {})}`, { headers: signed.headers });
  };
  /** A presigned URL: the parameters and the signature in the query string, valid for `expiresIn` seconds. */
  const presign = async (credentials: Credentials, service: 'sts' | 'iam', params: Record<string, string>, expiresIn = EXPIRES_IN_SECONDS): Promise<string> => {
    const query = { ...params, Version: service === 'sts' ? STS_VERSION : IAM_VERSION };
    const presigned = await signer(credentials, service).presign(unsignedRequest('GET', query), { expiresIn });
    return `${berth.url}/?${buildQueryString(presigned.query ?? {})}`;
  };
  /** Waits until the presigned URL's X-Amz-Date plus X-Amz-Expires is over, with a second to spare for the server's whole-second clock. */
  const waitForExpiry = async (url: string): Promise<void> => {
    const query = new URL(url).searchParams;
    const signedAt = Date.parse((query.get('X-Amz-Date') ?? '').replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    const expiresAt = signedAt + (Number(query.get('X-Amz-Expires')) + 1) * 1000;
    await sleep(Math.max(0, expiresAt - Date.now()) + 100);
  };
  const userExists = async (name: string): Promise<boolean> => (await post(ROOT, 'iam', { Action: 'ListUsers' })).body.includes(`<UserName>${name}</UserName>`);

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey });
    assert.equal((await post(ROOT, 'iam', { Action: 'CreateUser', UserName: 'alice' })).status, 200);
    const key = (await post(ROOT, 'iam', { Action: 'CreateAccessKey', UserName: 'alice' })).body;
    alice = { accessKeyId: element(key, 'AccessKeyId') ?? '', secretAccessKey: element(key, 'SecretAccessKey') ?? '' };
    assert.match(alice.accessKeyId, /^AKIA/);
  });
  after(async () => {
    await berth?.stop();
  });

  test('a GET signed in the Authorization header is a Query call like a POST', async () => {
    const identity = await getSignedInHeader(alice, 'sts', { Action: 'GetCallerIdentity', Version: STS_VERSION });
    assert.equal(identity.status, 200, identity.body);
    assert.match(identity.body, new RegExp(`^<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}"><GetCallerIdentityResult>`));
    assert.equal(element(identity.body, 'Arn'), `arn:aws:iam::${ACCOUNT}:user/alice`);
    const users = await getSignedInHeader(ROOT, 'iam', { Action: 'ListUsers', Version: IAM_VERSION });
    assert.equal(users.status, 200, users.body);
    assert.match(users.body, /<UserName>alice<\/UserName>/);
  });

  test("a presigned GetCallerIdentity URL answers the user's ARN until it expires, then AWS's expired-signature error", async () => {
    const url = await presign(alice, 'sts', { Action: 'GetCallerIdentity' });
    const query = new URL(url).searchParams;
    assert.equal(query.get('X-Amz-Expires'), String(EXPIRES_IN_SECONDS));
    assert.match(query.get('X-Amz-Credential') ?? '', new RegExp(`^${alice.accessKeyId}/\\d{8}/us-east-1/sts/aws4_request$`));
    const identity = await send(url);
    assert.equal(identity.status, 200, identity.body);
    assert.equal(element(identity.body, 'Arn'), `arn:aws:iam::${ACCOUNT}:user/alice`);
    assert.equal(element(identity.body, 'Account'), ACCOUNT);
    // A presigned URL may be used again while it is valid.
    assert.equal((await send(url)).status, 200);

    await waitForExpiry(url);
    const expired = await send(url);
    assert.equal(expired.status, 403);
    assert.match(
      expired.body,
      new RegExp(`^<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>[^<]+</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$`),
    );
    assert.match(
      element(expired.body, 'Message') ?? '',
      new RegExp(`^Signature expired: ${query.get('X-Amz-Date')} is now earlier than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z - ${EXPIRES_IN_SECONDS} sec\\.\\)$`),
    );
  });

  test('a tampered presigned URL is SignatureDoesNotMatch; a refused URL creates nothing', async () => {
    const identityUrl = await presign(alice, 'sts', { Action: 'GetCallerIdentity' });
    const otherSignature = identityUrl.replace(/X-Amz-Signature=([0-9a-f])/, (_match, first: string) => `X-Amz-Signature=${first === '0' ? '1' : '0'}`);
    assert.notEqual(otherSignature, identityUrl);
    const badSignature = await send(otherSignature);
    assert.equal(badSignature.status, 403);
    assert.equal(errorCode(badSignature), 'SignatureDoesNotMatch');
    const longer = await send(identityUrl.replace(`X-Amz-Expires=${EXPIRES_IN_SECONDS}`, 'X-Amz-Expires=3600'));
    assert.equal(longer.status, 403);
    assert.equal(errorCode(longer), 'SignatureDoesNotMatch');

    // The root's presigned CreateUser works only as signed and only while valid.
    const createUrl = await presign(ROOT, 'iam', { Action: 'CreateUser', UserName: 'presigned-signed' }, 60);
    const renamed = await send(createUrl.replace('UserName=presigned-signed', 'UserName=presigned-renamed'));
    assert.equal(renamed.status, 403);
    assert.equal(errorCode(renamed), 'SignatureDoesNotMatch');
    assert.equal(await userExists('presigned-renamed'), false);
    assert.equal(await userExists('presigned-signed'), false);

    const lateUrl = await presign(ROOT, 'iam', { Action: 'CreateUser', UserName: 'presigned-late' });
    await waitForExpiry(lateUrl);
    const late = await send(lateUrl);
    assert.equal(late.status, 403);
    assert.match(element(late.body, 'Message') ?? '', /^Signature expired: /);
    assert.equal(await userExists('presigned-late'), false);

    const created = await send(createUrl);
    assert.equal(created.status, 200, created.body);
    assert.equal(await userExists('presigned-signed'), true);
  });

  test('temporary credentials presign with their session token, and the URL needs it', async () => {
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` }, Action: 'sts:AssumeRole' }] });
    assert.equal((await post(ROOT, 'iam', { Action: 'CreateRole', RoleName: 'identity', AssumeRolePolicyDocument: trust })).status, 200);
    const assumed = await post(alice, 'sts', { Action: 'AssumeRole', RoleArn: `arn:aws:iam::${ACCOUNT}:role/identity`, RoleSessionName: 'token' });
    assert.equal(assumed.status, 200, assumed.body);
    const session: Credentials = {
      accessKeyId: element(assumed.body, 'AccessKeyId') ?? '',
      secretAccessKey: element(assumed.body, 'SecretAccessKey') ?? '',
      sessionToken: element(assumed.body, 'SessionToken') ?? '',
    };
    const url = await presign(session, 'sts', { Action: 'GetCallerIdentity' }, 60);
    assert.ok(new URL(url).searchParams.has('X-Amz-Security-Token'));
    const identity = await send(url);
    assert.equal(identity.status, 200, identity.body);
    assert.equal(element(identity.body, 'Arn'), `arn:aws:sts::${ACCOUNT}:assumed-role/identity/token`);
    const withoutToken = new URL(url);
    withoutToken.searchParams.delete('X-Amz-Security-Token');
    const refused = await send(withoutToken.toString());
    assert.equal(refused.status, 403);
    assert.equal(errorCode(refused), 'InvalidClientTokenId');
  });

  test('GET errors have the Query protocol format: no signature, an unknown action', async () => {
    const unsigned = await send(`${berth.url}/?Action=GetCallerIdentity&Version=${STS_VERSION}`);
    assert.equal(unsigned.status, 403);
    assert.match(unsigned.body, /^<ErrorResponse xmlns="[^"]+"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/);
    const unknown = await send(await presign(alice, 'sts', { Action: 'GetNothing' }, 60));
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, new RegExp(`^<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation GetNothing for version ${STS_VERSION}</Message>`));
  });

  test("boto3's presigner (botocore's SigV4 query auth) makes a URL the server accepts", async (t) => {
    if (!requireClients(t, ['python3'])) return;
    const probe = await run('python3', ['-c', 'import boto3'], { allowFailure: true });
    if (!requireOrSkip(t, probe.code === 0 ? undefined : 'boto3 is not installed for python3')) return;
    const scratch = await mkdtemp(join(tmpdir(), 'berth-presign-boto3-'));
    try {
      const script = join(scratch, 'presign.py');
      await writeFile(
        script,
        [
          'import sys, boto3',
          "sts = boto3.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1')",
          "print(sts.generate_presigned_url('get_caller_identity', Params={}, ExpiresIn=int(sys.argv[2]), HttpMethod='GET'))",
        ].join('\n'),
      );
      const env = { ...(await isolatedAwsEnv(scratch)), AWS_ACCESS_KEY_ID: alice.accessKeyId, AWS_SECRET_ACCESS_KEY: alice.secretAccessKey };
      const presigned = await run('python3', [script, berth.url, String(EXPIRES_IN_SECONDS)], { env, allowFailure: true, timeoutMs: 60_000 });
      assert.equal(presigned.code, 0, presigned.stderr);
      const url = presigned.stdout.trim();
      assert.match(url, /[?&]Action=GetCallerIdentity(&|$)/);
      assert.match(url, /[?&]X-Amz-Signature=[0-9a-f]{64}(&|$)/);
      const identity = await send(url);
      assert.equal(identity.status, 200, identity.body);
      assert.equal(element(identity.body, 'Arn'), `arn:aws:iam::${ACCOUNT}:user/alice`);
      await waitForExpiry(url);
      assert.equal(errorCode(await send(url)), 'SignatureDoesNotMatch');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
