import { registryHost } from '../addressing.js';
import type { EcrApiDeps, EcrHandlers } from './call.js';

/** ECR Public's registry-level operations. */
export function publicRegistryHandlers({ addressing, registryPort }: EcrApiDeps): EcrHandlers {
  return {
    'ecr-public': {
      DescribeRegistries: async ({ caller, request }) => {
        const registryId = caller.principal.accountId;
        const alias = (await addressing.account(registryId))?.publicAlias ?? registryId;
        return {
          registries: [
            {
              registryId,
              registryArn: `arn:aws:ecr-public::${registryId}:registry/${registryId}`,
              registryUri: `${registryHost(request, registryPort)}/public/${alias}`,
              verified: false,
              aliases: [{ name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
            },
          ],
        };
      },
    },
  };
}
