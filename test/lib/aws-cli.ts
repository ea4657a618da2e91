import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
