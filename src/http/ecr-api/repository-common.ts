import { MODELS, OPERATIONS, type AwsService } from '../../aws/operations.js';
import { encodeNextToken, readPageRequest } from '../../aws/pagination.js';
import type { OperationInput, OperationName } from '../../aws/typed-operations.js';
import { qualifiedName, registryPrefix, type RegistryRef } from '../../names.js';
import type { Repository } from '../../storage/metadata-store.js';
import { registryHost, type RepositoryAddress } from '../addressing.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrCall, EcrHandler } from './call.js';
import { invalidParameter } from './registry-common.js';

/** What the repository handler groups (ECR, ECR Public, resource tags) share. */

/** A repository that exists, with the address the request named it by. */
export interface FoundRepository {
  address: RepositoryAddress;
  repository: Repository;
}

/** How a service shows a repository (ECR's `Repository` or ECR Public's). */
export type RepositoryView = (call: EcrCall, found: FoundRepository) => Promise<Readonly<Record<string, unknown>>>;

/** The call's input as its operation's generated type: the dispatcher validated it against that operation's input shape. */
export function typedInput<Service extends AwsService, Operation extends OperationName<Service>>(call: EcrCall): OperationInput<Service, Operation> {
  return call.input as unknown as OperationInput<Service, Operation>;
}

/** The registry a call addresses: `registryId`'s private registry for ECR, its public one for ECR Public. */
export function registryOf(call: EcrCall): RegistryRef {
  return { accountId: call.registryId, kind: call.service === 'ecr-public' ? 'public' : 'private' };
}

export function repositoryNotFound(name: string, registryId: string): AwsError {
  return AwsError.of('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`);
}

/** The repository the dispatcher resolved from `repositoryName` or `resourceArn`; RepositoryNotFoundException unless it exists. */
export async function existingRepository({ metadata }: EcrApiDeps, call: EcrCall): Promise<FoundRepository> {
  const address = call.repository as RepositoryAddress;
  const repository = await metadata.getRepository(address.qualified);
  if (!repository) throw repositoryNotFound(address.name, address.registry.accountId);
  return { address, repository };
}

/** The URI `docker pull` takes for a repository, on the registry listener of the host the request came to. */
export async function repositoryUri({ addressing, registryPort }: EcrApiDeps, call: EcrCall, address: RepositoryAddress): Promise<string> {
  const host = registryHost(call.request, registryPort);
  const alias = address.registry.kind === 'public' ? (await addressing.account(address.registry.accountId))?.publicAlias : undefined;
  return addressing.repositoryUri(host, address.registry, address.name, alias);
}

/** A JSON document of the repository settings, as the API layer stored it. */
export function storedDocument<Document>(text: string | null): Document | undefined {
  return text === null ? undefined : (JSON.parse(text) as Document);
}

/**
 * DeleteRepository of either service: deletes the repository (with its
 * images when `force` is given; RepositoryNotEmptyException for one with
 * images otherwise) and returns it as it was.
 */
export function deleteRepositoryHandler(deps: EcrApiDeps, view: RepositoryView): EcrHandler {
  return async (call) => {
    const found = await existingRepository(deps, call);
    const { address, repository } = found;
    const shown = await view(call, found);
    const outcome = await deps.metadata.deleteRepository(repository.id, call.input.force === true);
    if (outcome === 'not-empty') {
      throw new AwsError(
        'RepositoryNotEmptyException',
        `The repository with name '${address.name}' in registry with id '${address.registry.accountId}' cannot be deleted because it still contains images`,
        400,
      );
    }
    if (outcome === 'missing') throw repositoryNotFound(address.name, address.registry.accountId);
    // Its repository policy went with it.
    deps.policies.invalidate();
    return { repository: shown };
  };
}

export function repositoryAlreadyExists(name: string, registryId: string): AwsError {
  return new AwsError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${registryId}'`, 400);
}

/**
 * DescribeRepositories of either service. With `repositoryNames`, each
 * named repository (the caller must be allowed to describe each, and each
 * must exist); without, one page of the registry's repositories in name
 * order, leaving out those the caller may not describe.
 */
export async function describeRepositories(deps: EcrApiDeps, call: EcrCall, view: RepositoryView): Promise<Readonly<Record<string, unknown>>> {
  const registry = registryOf(call);
  const action = (OPERATIONS[call.service][call.operation] as { action: string }).action;
  const names = call.input.repositoryNames as readonly string[] | undefined;
  if (names !== undefined) {
    for (const member of ['maxResults', 'nextToken'] as const) {
      if (call.input[member] !== undefined) {
        throw invalidParameter(member, `${member} cannot be used together with repositoryNames`);
      }
    }
    const found = await namedRepositories(deps, call, registry, action, names);
    const missing = found.find((entry) => entry.repository === undefined);
    if (missing) throw repositoryNotFound(missing.address.name, registry.accountId);
    return { repositories: await Promise.all(found.map((entry) => view(call, entry as FoundRepository))) };
  }

  const scope = JSON.stringify([call.service, call.operation, registry.accountId]);
  const key = deps.serverKey.apiSigningKey;
  const request = readPageRequest(MODELS[call.service], call.operation, call.input, key, scope);
  if (!request.ok) throw new AwsError(request.error.type, request.error.message, 400);
  const prefix = registryPrefix(registry);
  // One more than a page, so that a nextToken is given only when another allowed repository follows.
  const shown: FoundRepository[] = [];
  let last = typeof request.position === 'string' ? request.position : undefined;
  for (;;) {
    const page = await deps.metadata.listRepositoryRecords(request.limit + 1, last === undefined ? undefined : prefix + last, prefix);
    for (const repository of page.items) {
      const name = repository.name.slice(prefix.length);
      const address: RepositoryAddress = { registry, name, qualified: repository.name };
      if (shown.length <= request.limit && (await call.allowed(action, address))) shown.push({ address, repository });
      last = name;
    }
    if (!page.more || shown.length > request.limit) break;
  }
  const repositories = await Promise.all(shown.slice(0, request.limit).map((found) => view(call, found)));
  if (shown.length <= request.limit) return { repositories };
  return { repositories, nextToken: encodeNextToken(key, scope, (shown[request.limit - 1] as FoundRepository).address.name) };
}

/**
 * The repositories a batch names (each once, in the order given), after
 * checking that the caller may perform `action` on every one of them;
 * `repository` is undefined for those that do not exist.
 */
export async function namedRepositories(
  { metadata }: EcrApiDeps,
  call: EcrCall,
  registry: RegistryRef,
  action: string,
  names: readonly string[],
): Promise<{ address: RepositoryAddress; repository: Repository | undefined }[]> {
  const addresses = [...new Set(names)].map((name): RepositoryAddress => ({ registry, name, qualified: qualifiedName(registry, name) }));
  for (const address of addresses) await call.authorize(action, { repository: address });
  return Promise.all(addresses.map(async (address) => ({ address, repository: await metadata.getRepository(address.qualified) })));
}
