import { ECRClient } from '@aws-sdk/client-ecr';
import { ECRPUBLICClient } from '@aws-sdk/client-ecr-public';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The AWS SDK's own ECR and ECR Public clients, pointed at a Berth server (real serializers, signing and error parsing). */
export function ecrClients(url: string, credentials: Credentials, region = 'us-east-1'): { ecr: ECRClient; ecrPublic: ECRPUBLICClient } {
  const common = { endpoint: url, region, credentials, maxAttempts: 1 };
  return { ecr: new ECRClient(common), ecrPublic: new ECRPUBLICClient(common) };
}

/** Runs `work` and returns the SDK exception's name (`__type`), or fails if it did not throw. */
export async function sdkErrorName(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    return (err as { name: string }).name;
  }
  throw new Error('expected the call to fail');
}
