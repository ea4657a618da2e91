import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';

/** The root key Berth is started with in the benchmark, so it can create an IAM user over the real API. */
export const BENCH_ROOT_KEY = { accessKeyId: 'AKIABENCHROOTKEY0001', secretAccessKey: 'bench/root/secret/key/for/berth/benchmark0' };

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Sends one SigV4-signed POST / as the AWS SDKs do, and answers the body. */
async function signedPost(baseUrl: string, credentials: Credentials, service: string, headers: Record<string, string>, body: string): Promise<string> {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const request = new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, ...headers }, body });
  const signed = await signer.sign(request);
  const response = await fetch(`${baseUrl}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  const text = await response.text();
  if (!response.ok) throw new Error(`${service} ${headers['x-amz-target'] ?? body.slice(0, 60)}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return text;
}

function iam(baseUrl: string, credentials: Credentials, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
  return signedPost(baseUrl, credentials, 'iam', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body);
}

/**
 * Creates an IAM user with `AmazonEC2ContainerRegistryPullOnly`, gives it a
 * key, and answers the `Authorization` header its `docker login` password
 * makes: the registry request path with real policy evaluation.
 */
export async function pullOnlyUserAuthorization(baseUrl: string): Promise<string> {
  const user = 'bench-puller';
  await iam(baseUrl, BENCH_ROOT_KEY, { Action: 'CreateUser', UserName: user });
  await iam(baseUrl, BENCH_ROOT_KEY, { Action: 'AttachUserPolicy', UserName: user, PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly' });
  const created = await iam(baseUrl, BENCH_ROOT_KEY, { Action: 'CreateAccessKey', UserName: user });
  const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(created)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(created)?.[1];
  if (!accessKeyId || !secretAccessKey) throw new Error(`CreateAccessKey answered no key: ${created.slice(0, 300)}`);
  const token = await signedPost(
    baseUrl,
    { accessKeyId, secretAccessKey },
    'ecr',
    { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken' },
    '{}',
  );
  const data = (JSON.parse(token) as { authorizationData: { authorizationToken: string }[] }).authorizationData[0];
  if (!data) throw new Error('GetAuthorizationToken answered no authorizationData');
  return `Basic ${data.authorizationToken}`;
}
