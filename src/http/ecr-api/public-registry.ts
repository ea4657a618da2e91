import type { EcrApiDeps, EcrHandlers } from './call.js';

/** ECR Public's registry-level operations. */
export function publicRegistryHandlers({ addressing }: EcrApiDeps): EcrHandlers {
  return {
    'ecr-public': {
      DescribeRegistries: async ({ caller, request }) => {
        const registryId = caller.principal.accountId;
        const alias = (await addressing.account(registryId))?.publicAlias ?? registryId;
        const host = request.headers.host ?? request.hostname;
        return {
          registries: [
            {
              registryId,
              registryArn: `arn:aws:ecr-public::${registryId}:registry/${registryId}`,
              registryUri: `${host}/public/${alias}`,
              verified: false,
              aliases: [{ name: alias, status: 'ACTIVE', primaryRegistryAlias: true, defaultRegistryAlias: true }],
            },
          ],
        };
      },
    },
  };
}
