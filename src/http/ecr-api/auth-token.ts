import { registryHost } from '../addressing.js';
import type { EcrApiDeps, EcrHandlers } from './call.js';

/**
 * `GetAuthorizationToken`: the password `docker login` takes, a registry
 * token signed with the server key (src/auth/registry-token.ts). ECR Public's
 * also needs `sts:GetServiceBearerToken` (checked by the dispatcher) and its
 * tokens do not open private registries.
 */
export function authTokenHandlers({ tokens, registryPort }: EcrApiDeps): EcrHandlers {
  return {
    ecr: {
      GetAuthorizationToken: async ({ caller, request }) => {
        const { token, expiresAt } = tokens.mintFor(caller, caller.accessKeyId ?? '', 'ecr');
        const proxyEndpoint = `${request.protocol}://${registryHost(request, registryPort)}`;
        return { authorizationData: [{ authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt: new Date(expiresAt * 1000), proxyEndpoint }] };
      },
    },
    'ecr-public': {
      GetAuthorizationToken: async ({ caller }) => {
        const { token, expiresAt } = tokens.mintFor(caller, caller.accessKeyId ?? '', 'ecr-public');
        return { authorizationData: { authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt: new Date(expiresAt * 1000) } };
      },
    },
  };
}
