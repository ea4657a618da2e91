import { tryParsePolicy } from '../../iam/policy/index.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrCall, EcrHandler, EcrHandlers } from './call.js';

/** ECR's limit on repository and registry policy text. */
const MAX_POLICY_TEXT = 10_240;

/**
 * Repository policies (ECR and ECR Public) and the registry policy (ECR).
 * Both are resource policies: validated in full when set, never stored when
 * invalid, and evaluated with the caller's identity policies on every
 * request (src/registry/repository-policies.ts caches them).
 */
export function policyHandlers({ metadata, policies }: EcrApiDeps): EcrHandlers {
  const existingRepository = async (call: EcrCall) => {
    const address = call.repository as NonNullable<EcrCall['repository']>;
    const repository = await metadata.getRepository(address.qualified);
    if (!repository) throw AwsError.of('NAME_UNKNOWN', `The repository with name '${address.name}' does not exist in the registry with id '${call.registryId}'`);
    return { address, repository };
  };
  const policyNotFound = (name: string, registryId: string): AwsError =>
    AwsError.of('REPOSITORY_POLICY_NOT_FOUND', `Repository policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`);

  const setRepositoryPolicy: EcrHandler = async (call) => {
    const policyText = call.input.policyText as string;
    const { address, repository } = await existingRepository(call);
    validateResourcePolicy(policyText, 'repository');
    await metadata.setRepositoryPolicy(repository.id, policyText);
    policies.invalidate();
    return { registryId: call.registryId, repositoryName: address.name, policyText };
  };
  const getRepositoryPolicy: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(call);
    if (repository.policy === null) throw policyNotFound(address.name, call.registryId);
    return { registryId: call.registryId, repositoryName: address.name, policyText: repository.policy };
  };
  const deleteRepositoryPolicy: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(call);
    if (repository.policy === null) throw policyNotFound(address.name, call.registryId);
    await metadata.setRepositoryPolicy(repository.id, null);
    policies.invalidate();
    return { registryId: call.registryId, repositoryName: address.name, policyText: repository.policy };
  };
  /** Registry-level operations act on the caller's own registry only. */
  const ownRegistry = (call: EcrCall): string => call.caller.principal.accountId;
  const registryPolicyNotFound = (registryId: string): AwsError => AwsError.of('REGISTRY_POLICY_NOT_FOUND', `Registry policy does not exist in the registry with id '${registryId}'`);

  const repositoryPolicyHandlers = { SetRepositoryPolicy: setRepositoryPolicy, GetRepositoryPolicy: getRepositoryPolicy, DeleteRepositoryPolicy: deleteRepositoryPolicy };
  return {
    ecr: {
      ...repositoryPolicyHandlers,
      PutRegistryPolicy: async (call) => {
        const registryId = ownRegistry(call);
        const policyText = call.input.policyText as string;
        validateResourcePolicy(policyText, 'registry');
        await metadata.setRegistryPolicy(registryId, policyText);
        policies.invalidate();
        return { registryId, policyText };
      },
      GetRegistryPolicy: async (call) => {
        const registryId = ownRegistry(call);
        const policyText = (await metadata.getAccount(registryId))?.registryPolicy;
        if (!policyText) throw registryPolicyNotFound(registryId);
        return { registryId, policyText };
      },
      DeleteRegistryPolicy: async (call) => {
        const registryId = ownRegistry(call);
        const policyText = (await metadata.getAccount(registryId))?.registryPolicy;
        if (!policyText) throw registryPolicyNotFound(registryId);
        await metadata.setRegistryPolicy(registryId, null);
        policies.invalidate();
        return { registryId, policyText };
      },
    },
    'ecr-public': repositoryPolicyHandlers,
  };
}

function validateResourcePolicy(policyText: string, kind: 'repository' | 'registry'): void {
  const parsed = tryParsePolicy(policyText, { kind: 'resource', maxLength: MAX_POLICY_TEXT });
  if (!parsed.ok) {
    throw AwsError.of('INVALID_PARAMETER', `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${kind} policy provided': ${parsed.error.message}`);
  }
}
