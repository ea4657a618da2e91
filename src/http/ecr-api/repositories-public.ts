import type { RepositoryCatalogData, RepositoryCatalogDataInput } from '../../aws/models/ecr-public-types.js';
import { DEFAULT_REPOSITORY_SETTINGS, type Repository } from '../../storage/metadata-store.js';
import type { EcrApiDeps, EcrHandlers } from './call.js';
import {
  deleteRepositoryHandler,
  describeRepositories,
  existingRepository,
  repositoryAlreadyExists,
  repositoryUri,
  storedDocument,
  type FoundRepository,
  typedInput,
  type RepositoryView,
} from './repository-common.js';
import { mergedTags, readTags } from './resource-tags.js';

/** `RepositoryCatalogDataInput` as stored, the logo as base64. */
type StoredCatalogData = Omit<RepositoryCatalogDataInput, 'logoImageBlob'> & { logoImageBlob?: string };

const TEXT_MEMBERS = ['description', 'aboutText', 'usageText'] as const;
const LIST_MEMBERS = ['architectures', 'operatingSystems'] as const;

/**
 * ECR Public's repository operations (tags are in ./resource-tags.ts).
 * Public repositories live in the public registry of the caller's account
 * (`<account>-public/<name>` inside Berth) and are pulled from
 * `<host>/public/<alias>/<name>`.
 */
export function publicRepositoryHandlers(deps: EcrApiDeps): EcrHandlers {
  const { metadata } = deps;

  const view: RepositoryView = async (call, { address, repository }) => ({
    repositoryArn: call.repositoryArn(address),
    registryId: address.registry.accountId,
    repositoryName: address.name,
    repositoryUri: await repositoryUri(deps, call, address),
    createdAt: new Date(repository.createdAt),
  });

  return {
    'ecr-public': {
      CreateRepository: async (call) => {
        const address = call.repository as FoundRepository['address'];
        const input = typedInput<'ecr-public', 'CreateRepository'>(call);
        const tags = input.tags === undefined ? [] : mergedTags(address, [], readTags(input.tags));
        const catalogData = input.catalogData === undefined ? undefined : storedCatalogData(input.catalogData);
        const repository = await metadata.createRepository(
          address.qualified,
          {
            ...DEFAULT_REPOSITORY_SETTINGS,
            resourceTags: tags.length === 0 ? null : JSON.stringify(tags),
            catalogData: catalogData === undefined ? null : JSON.stringify(catalogData),
          },
          null,
        );
        if (!repository) throw repositoryAlreadyExists(address.name, call.registryId);
        return { repository: await view(call, { address, repository }), catalogData: catalogDataView(repository) };
      },
      DescribeRepositories: (call) => describeRepositories(deps, call, view),
      DeleteRepository: deleteRepositoryHandler(deps, view),
      GetRepositoryCatalogData: async (call) => ({ catalogData: catalogDataView((await existingRepository(deps, call)).repository) }),
      PutRepositoryCatalogData: async (call) => {
        const { repository } = await existingRepository(deps, call);
        const input = typedInput<'ecr-public', 'PutRepositoryCatalogData'>(call);
        const catalogData = JSON.stringify(storedCatalogData(input.catalogData));
        await metadata.updateRepositorySettings(repository.id, { catalogData });
        return { catalogData: catalogDataView({ ...repository, settings: { ...repository.settings, catalogData } }) };
      },
    },
  };
}

/** The catalog data of a request (PutRepositoryCatalogData replaces all of it). */
function storedCatalogData(given: RepositoryCatalogDataInput): StoredCatalogData {
  const stored: StoredCatalogData = {};
  for (const member of TEXT_MEMBERS) if (given[member] !== undefined) stored[member] = given[member];
  for (const member of LIST_MEMBERS) if (given[member] !== undefined) stored[member] = given[member];
  if (given.logoImageBlob !== undefined && given.logoImageBlob.length > 0) stored.logoImageBlob = given.logoImageBlob.toString('base64');
  return stored;
}

/**
 * `RepositoryCatalogData` as the API returns it. The logo is kept but Berth
 * serves no gallery to host it at, so there is no `logoUrl`; no repository
 * here is certified by AWS Marketplace.
 */
function catalogDataView(repository: Repository): RepositoryCatalogData {
  const { logoImageBlob: _logo, ...shown } = storedDocument<StoredCatalogData>(repository.settings.catalogData) ?? {};
  return { ...shown, marketplaceCertified: false };
}
