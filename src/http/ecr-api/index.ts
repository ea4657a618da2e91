import type { AwsService } from '../../aws/operations.js';
import { authTokenHandlers } from './auth-token.js';
import type { EcrApiDeps, EcrHandler } from './call.js';
import { imageHandlers } from './images.js';
import { layerHandlers } from './layers.js';
import { lifecycleHandlers } from './lifecycle.js';
import { policyHandlers } from './policies.js';
import { publicRegistryHandlers } from './public-registry.js';
import { registrySettingsHandlers } from './registry-settings.js';
import { repositoryHandlers } from './repositories.js';

/** Every implemented operation of ECR and ECR Public, by service and name. Each module owns a group of operations. */
export function ecrHandlers(deps: EcrApiDeps): Record<AwsService, Readonly<Record<string, EcrHandler>>> {
  const merged: Record<AwsService, Record<string, EcrHandler>> = { ecr: {}, 'ecr-public': {} };
  for (const group of [authTokenHandlers(deps), imageHandlers(deps), layerHandlers(deps), lifecycleHandlers(deps), policyHandlers(deps), publicRegistryHandlers(deps), registrySettingsHandlers(deps), repositoryHandlers(deps)]) {
    for (const service of Object.keys(merged) as AwsService[]) {
      for (const [operation, handler] of Object.entries(group[service] ?? {})) {
        if (merged[service][operation]) throw new Error(`${service} ${operation} is implemented twice`);
        merged[service][operation] = handler;
      }
    }
  }
  return merged;
}
