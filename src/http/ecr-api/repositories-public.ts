import type { FastifyRequest } from 'fastify';
import type { RepositoryCatalogData, RepositoryCatalogDataInput } from '../../aws/models/ecr-public-types.js';
import { DEFAULT_REPOSITORY_SETTINGS, type Repository } from '../../storage/metadata-store.js';
import { registryHost, type RepositoryAddress } from '../addressing.js';
import type { EcrApiDeps, EcrCall, EcrHandlers } from './call.js';
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

/** Where the logos of public repositories are served (./repository-logos.ts): `<LOGO_PATH><account id>/<repository name>`. */
export const LOGO_PATH = '/public-repository-logos/';

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
        return { repository: await view(call, { address, repository }), catalogData: catalogDataView(deps, call, { address, repository }) };
      },
      DescribeRepositories: (call) => describeRepositories(deps, call, view),
      DeleteRepository: deleteRepositoryHandler(deps, view),
      GetRepositoryCatalogData: async (call) => ({ catalogData: catalogDataView(deps, call, await existingRepository(deps, call)) }),
      PutRepositoryCatalogData: async (call) => {
        const { address, repository } = await existingRepository(deps, call);
        const input = typedInput<'ecr-public', 'PutRepositoryCatalogData'>(call);
        const catalogData = JSON.stringify(storedCatalogData(input.catalogData));
        await metadata.updateRepositorySettings(repository.id, { catalogData });
        return { catalogData: catalogDataView(deps, call, { address, repository: { ...repository, settings: { ...repository.settings, catalogData } } }) };
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
 * `RepositoryCatalogData` as the API returns it: the logo as the URL it is
 * served at, on the registry listener of the host the request came to. No
 * repository here is certified by AWS Marketplace.
 */
function catalogDataView({ registryPort }: EcrApiDeps, call: EcrCall, { address, repository }: FoundRepository): RepositoryCatalogData {
  const { logoImageBlob, ...shown } = storedDocument<StoredCatalogData>(repository.settings.catalogData) ?? {};
  return { ...shown, ...(logoImageBlob === undefined ? {} : { logoUrl: logoUrl(call.request, registryPort, address) }), marketplaceCertified: false };
}

function logoUrl(request: FastifyRequest, registryPort: number | undefined, address: RepositoryAddress): string {
  return `${request.protocol}://${registryHost(request, registryPort)}${LOGO_PATH}${address.registry.accountId}/${address.name}`;
}

/** The logo PutRepositoryCatalogData (or CreateRepository) stored for a public repository, if any. */
export function storedLogo(repository: Repository): Buffer | undefined {
  const logo = storedDocument<StoredCatalogData>(repository.settings.catalogData)?.logoImageBlob;
  return logo === undefined ? undefined : Buffer.from(logo, 'base64');
}
