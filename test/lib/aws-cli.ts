import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type RunResult } from '../support/process.js';
import { TestClient } from './client.js';

/**
 * An environment for the AWS CLI that uses only what the test gives it: no
 * profile, credentials file or instance metadata of the machine.
 */
export async function isolatedAwsEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const config = join(dir, 'aws-config');
  await writeFile(config, '[default]\nregion = us-east-1\n');
  return {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The CLI's credentials, as environment variables (temporary ones with their session token). */
export type AwsKey = { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_SESSION_TOKEN?: string };

/**
 * The real AWS CLI against one Berth server: `aws(key, args)` runs it with
 * JSON output (asserting success unless `expectOk` is false), `loginAs(key)`
 * is a TestClient holding the registry password `get-login-password` gives,
 * and `login(key)` is that client with the password.
 */
export function awsCliFor(serverUrl: string, baseEnv: NodeJS.ProcessEnv) {
  const aws = async (as: AwsKey, args: string[], expectOk = true): Promise<RunResult> => {
    const result = await run('aws', [...args, '--endpoint-url', serverUrl, '--output', 'json'], { env: { ...baseEnv, ...as }, allowFailure: true, timeoutMs: 60_000 });
    if (expectOk) assert.equal(result.code, 0, `aws ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const login = async (as: AwsKey): Promise<{ client: TestClient; password: string }> => {
    const password = (await aws(as, ['ecr', 'get-login-password'])).stdout.trim();
    const client = new TestClient(serverUrl);
    (client as { authorization: string }).authorization = `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
    return { client, password };
  };
  const loginAs = async (as: AwsKey): Promise<TestClient> => (await login(as)).client;
  return { aws, login, loginAs };
}
