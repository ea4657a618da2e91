import type {
  EncryptionConfiguration,
  ImageTagMutabilityExclusionFilter,
  RepositoryScanningConfiguration,
  RepositoryScanningConfigurationFailure,
} from '../../aws/models/ecr-types.js';
import type { AwsService } from '../../aws/operations.js';
import { DEFAULT_REPOSITORY_SETTINGS, type ImageTagMutability } from '../../storage/metadata-store.js';
import type { RegistryScanningConfiguration } from '../../storage/registry-settings-store.js';
import type { EcrApiDeps, EcrHandler, EcrHandlers } from './call.js';
import { invalidParameter } from './registry-common.js';
import { publicRepositoryHandlers } from './repositories-public.js';
import {
  deleteRepositoryHandler,
  describeRepositories,
  existingRepository,
  namedRepositories,
  registryOf,
  repositoryAlreadyExists,
  repositoryNotFound,
  repositoryUri,
  storedDocument,
  type FoundRepository,
  typedInput,
  type RepositoryView,
} from './repository-common.js';
import { mergedTags, readTags, resourceTagHandlers } from './resource-tags.js';

type ScanFrequency = RegistryScanningConfiguration['rules'][number]['scanFrequency'];

/** A repository without an encryption configuration is encrypted as ECR's default is. */
const DEFAULT_ENCRYPTION: EncryptionConfiguration = { encryptionType: 'AES256' };

/**
 * The repository operations of ECR and ECR Public: creating, describing and
 * deleting repositories, their settings, and their resource tags. A `/v2/`
 * push to a repository that does not exist still creates it with the
 * default settings; it is then like any other repository here.
 */
export function repositoryHandlers(deps: EcrApiDeps): EcrHandlers {
  const { metadata } = deps;

  const view: RepositoryView = async (call, { address, repository }) => {
    const { settings } = repository;
    const exclusions = storedDocument<ImageTagMutabilityExclusionFilter[]>(settings.tagMutabilityExclusions);
    return {
      repositoryArn: call.repositoryArn(address),
      registryId: address.registry.accountId,
      repositoryName: address.name,
      repositoryUri: await repositoryUri(deps, call, address),
      createdAt: new Date(repository.createdAt),
      imageTagMutability: settings.imageTagMutability,
      ...(exclusions ? { imageTagMutabilityExclusionFilters: exclusions } : {}),
      imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
      encryptionConfiguration: storedDocument<EncryptionConfiguration>(settings.encryption) ?? DEFAULT_ENCRYPTION,
    };
  };

  const createRepository: EcrHandler = async (call) => {
    const address = call.repository as FoundRepository['address'];
    const input = typedInput<'ecr', 'CreateRepository'>(call);
    const mutability = tagMutability(input.imageTagMutability ?? 'MUTABLE', input.imageTagMutabilityExclusionFilters);
    const tags = input.tags === undefined ? [] : mergedTags(address, [], readTags(input.tags));
    const encryption = encryptionConfiguration(input.encryptionConfiguration);
    const repository = await metadata.createRepository(
      address.qualified,
      {
        ...DEFAULT_REPOSITORY_SETTINGS,
        ...mutability,
        scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false,
        encryption: JSON.stringify(encryption),
        resourceTags: tags.length === 0 ? null : JSON.stringify(tags),
      },
      null,
    );
    if (!repository) throw repositoryAlreadyExists(address.name, call.registryId);
    return { repository: await view(call, { address, repository }) };
  };

  const putImageTagMutability: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(deps, call);
    const input = typedInput<'ecr', 'PutImageTagMutability'>(call);
    const mutability = tagMutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters);
    await metadata.updateRepositorySettings(repository.id, mutability);
    const exclusions = storedDocument<ImageTagMutabilityExclusionFilter[]>(mutability.tagMutabilityExclusions);
    return {
      registryId: call.registryId,
      repositoryName: address.name,
      imageTagMutability: mutability.imageTagMutability,
      ...(exclusions ? { imageTagMutabilityExclusionFilters: exclusions } : {}),
    };
  };

  const putImageScanningConfiguration: EcrHandler = async (call) => {
    const { address, repository } = await existingRepository(deps, call);
    const input = typedInput<'ecr', 'PutImageScanningConfiguration'>(call);
    const scanOnPush = input.imageScanningConfiguration.scanOnPush ?? false;
    await metadata.updateRepositorySettings(repository.id, { scanOnPush });
    return { registryId: call.registryId, repositoryName: address.name, imageScanningConfiguration: { scanOnPush } };
  };

  const batchGetRepositoryScanningConfiguration: EcrHandler = async (call) => {
    const registry = registryOf(call);
    const { repositoryNames } = typedInput<'ecr', 'BatchGetRepositoryScanningConfiguration'>(call);
    const found = await namedRepositories(deps, call, registry, 'ecr:BatchGetRepositoryScanningConfiguration', repositoryNames);
    const registryScanning = (await deps.registrySettings.getSetting(registry.accountId, 'scanning'))?.document;
    const scanningConfigurations: RepositoryScanningConfiguration[] = [];
    const failures: RepositoryScanningConfigurationFailure[] = [];
    for (const { address, repository } of found) {
      if (!repository) {
        failures.push({ repositoryName: address.name, failureCode: 'REPOSITORY_NOT_FOUND', failureReason: repositoryNotFound(address.name, registry.accountId).message });
        continue;
      }
      scanningConfigurations.push({
        repositoryArn: call.repositoryArn(address),
        repositoryName: address.name,
        ...effectiveScanning(address.name, repository.settings.scanOnPush, registryScanning),
      });
    }
    return { scanningConfigurations, failures };
  };

  const own: EcrHandlers = {
    ecr: {
      CreateRepository: createRepository,
      DescribeRepositories: (call) => describeRepositories(deps, call, view),
      DeleteRepository: deleteRepositoryHandler(deps, view),
      PutImageTagMutability: putImageTagMutability,
      PutImageScanningConfiguration: putImageScanningConfiguration,
      BatchGetRepositoryScanningConfiguration: batchGetRepositoryScanningConfiguration,
    },
  };
  const merged: Record<AwsService, Record<string, EcrHandler>> = { ecr: {}, 'ecr-public': {} };
  for (const group of [own, publicRepositoryHandlers(deps), resourceTagHandlers(deps)]) {
    for (const service of Object.keys(merged) as AwsService[]) Object.assign(merged[service], group[service]);
  }
  return merged;
}

/** `imageTagMutability` with its exclusion filters, which the `…_WITH_EXCLUSION` values require and the others refuse. */
function tagMutability(
  imageTagMutability: ImageTagMutability,
  filters: readonly ImageTagMutabilityExclusionFilter[] | undefined,
): { imageTagMutability: ImageTagMutability; tagMutabilityExclusions: string | null } {
  const withExclusion = imageTagMutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion && filters === undefined) {
    throw invalidParameter('imageTagMutabilityExclusionFilters', `imageTagMutabilityExclusionFilters must be specified when imageTagMutability is ${imageTagMutability}`);
  }
  if (!withExclusion && filters !== undefined) {
    throw invalidParameter('imageTagMutabilityExclusionFilters', `imageTagMutabilityExclusionFilters can only be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION`);
  }
  if (filters !== undefined && new Set(filters.map((f) => f.filter)).size !== filters.length) {
    throw invalidParameter('imageTagMutabilityExclusionFilters', 'filters must be unique');
  }
  return { imageTagMutability, tagMutabilityExclusions: filters === undefined ? null : JSON.stringify(filters.map(({ filterType, filter }) => ({ filterType, filter }))) };
}

/** The encryption configuration as stored: AES256 by default; a KMS key only with a KMS type, kept as given. */
function encryptionConfiguration(given: EncryptionConfiguration | undefined): EncryptionConfiguration {
  if (given === undefined) return DEFAULT_ENCRYPTION;
  if (given.encryptionType === 'AES256' && given.kmsKey !== undefined) {
    throw invalidParameter('encryptionConfiguration.kmsKey', 'a KMS key can only be specified with the KMS or KMS_DSSE encryption type');
  }
  return given.kmsKey === undefined ? { encryptionType: given.encryptionType } : { encryptionType: given.encryptionType, kmsKey: given.kmsKey };
}

/**
 * How a repository is scanned: the registry's scanning rules take
 * precedence over the repository's own (deprecated) scan-on-push flag. Of
 * the rules whose WILDCARD filters match the name, continuous scanning wins
 * over scan on push, as ECR documents; the filters of that rule that match
 * are the ones applied.
 */
function effectiveScanning(
  name: string,
  scanOnPush: boolean,
  registryScanning: RegistryScanningConfiguration | undefined,
): Required<Pick<RepositoryScanningConfiguration, 'scanOnPush' | 'scanFrequency' | 'appliedScanFilters'>> {
  const precedence: readonly ScanFrequency[] = ['CONTINUOUS_SCAN', 'SCAN_ON_PUSH', 'MANUAL'];
  const matching = (registryScanning?.rules ?? [])
    .map((rule) => ({ scanFrequency: rule.scanFrequency, filters: rule.repositoryFilters.filter((f) => wildcardMatch(f.filter, name)) }))
    .filter((rule) => rule.filters.length > 0)
    .sort((a, b) => precedence.indexOf(a.scanFrequency) - precedence.indexOf(b.scanFrequency));
  const applied = matching[0];
  if (applied) return { scanOnPush: applied.scanFrequency !== 'MANUAL', scanFrequency: applied.scanFrequency, appliedScanFilters: applied.filters };
  return { scanOnPush, scanFrequency: scanOnPush ? 'SCAN_ON_PUSH' : 'MANUAL', appliedScanFilters: [] };
}

/** `*` matches any run of characters; everything else is literal. */
function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}
