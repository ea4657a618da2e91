/**
 * Registry-level configuration of an account, as ECR's registry operations
 * set it (src/http/ecr-api/registry-settings.ts): settings that are one
 * document per registry, and keyed items (pull-through cache rules and
 * repository creation templates by prefix, pull-time update exclusions by
 * principal ARN). The store persists what the API validated and checks
 * nothing but existence, uniqueness and item counts. It also keeps the
 * exclusions per account in memory, because every recorded pull consults them.
 */

export type AccountSettingName = 'BASIC_SCAN_TYPE_VERSION' | 'REGISTRY_POLICY_SCOPE' | 'BLOB_MOUNTING';

export interface RepositoryNameFilter<FilterType extends string> {
  filter: string;
  filterType: FilterType;
}

export interface RegistryScanningConfiguration {
  scanType: 'BASIC' | 'ENHANCED';
  rules: { scanFrequency: 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL'; repositoryFilters: RepositoryNameFilter<'WILDCARD'>[] }[];
}

export interface ReplicationConfiguration {
  rules: { destinations: { region: string; registryId: string }[]; repositoryFilters?: RepositoryNameFilter<'PREFIX_MATCH'>[] }[];
}

export interface SigningConfiguration {
  rules: { signingProfileArn: string; repositoryFilters?: RepositoryNameFilter<'WILDCARD_MATCH'>[] }[];
}

/** ECR Public's catalog data of the account's public registry. */
export interface RegistryCatalogData {
  displayName?: string;
}

/** The documents held once per registry, by setting name. */
export type RegistrySettingDocuments = {
  scanning: RegistryScanningConfiguration;
  replication: ReplicationConfiguration;
  signing: SigningConfiguration;
  'public-catalog': RegistryCatalogData;
} & { [Name in `account-setting/${AccountSettingName}`]: { value: string } };

export type RegistrySettingName = keyof RegistrySettingDocuments;

export type UpstreamRegistry =
  | 'ecr'
  | 'ecr-public'
  | 'quay'
  | 'k8s'
  | 'docker-hub'
  | 'github-container-registry'
  | 'azure-container-registry'
  | 'gitlab-container-registry'
  | 'chainguard';

export interface PullThroughCacheRule {
  /** As given (ECR reads `prefix` and `prefix/` alike); the item key is `normalizedPrefix(ecrRepositoryPrefix)`. */
  ecrRepositoryPrefix: string;
  upstreamRegistryUrl: string;
  upstreamRegistry: UpstreamRegistry;
  upstreamRepositoryPrefix: string;
  credentialArn?: string;
  customRoleArn?: string;
}

export type CreationTemplateScenario = 'CREATE_ON_PUSH' | 'REPLICATION' | 'PULL_THROUGH_CACHE';

export type ImageTagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface RepositoryCreationTemplate {
  /** `ROOT` or a namespace prefix, as given; the item key is `normalizedPrefix(prefix)`. */
  prefix: string;
  appliedFor: CreationTemplateScenario[];
  description?: string;
  encryptionConfiguration: { encryptionType: 'AES256' | 'KMS' | 'KMS_DSSE'; kmsKey?: string };
  resourceTags: { Key: string; Value: string }[];
  imageTagMutability: ImageTagMutability;
  imageTagMutabilityExclusionFilters?: RepositoryNameFilter<'WILDCARD'>[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  customRoleArn?: string;
}

/** A principal whose pulls do not update `lastRecordedPullTime`; the item key is its ARN. */
export type PullTimeUpdateExclusion = Record<string, never>;

/** The documents of keyed items, by kind. */
export interface RegistryItemDocuments {
  'pull-through-cache-rule': PullThroughCacheRule;
  'repository-creation-template': RepositoryCreationTemplate;
  'pull-time-update-exclusion': PullTimeUpdateExclusion;
}

export type RegistryItemKind = keyof RegistryItemDocuments;

export interface StoredSetting<Document> {
  document: Document;
  /** Epoch milliseconds. */
  updatedAt: number;
}

export interface StoredItem<Document> {
  key: string;
  document: Document;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

export interface ItemPage {
  /** Only items with a key after this one (keys in byte order). */
  after?: string;
  limit: number;
  /** Only these keys. */
  keys?: readonly string[];
}

export type CreateItemResult = 'created' | 'exists' | 'limit-exceeded';

export interface RegistrySettingsStore {
  getSetting<Name extends RegistrySettingName>(accountId: string, name: Name): Promise<StoredSetting<RegistrySettingDocuments[Name]> | undefined>;
  /** Creates or replaces the setting. */
  putSetting<Name extends RegistrySettingName>(accountId: string, name: Name, document: RegistrySettingDocuments[Name], now: number): Promise<void>;
  /** Removes the setting and returns what it held, or undefined when there was none. */
  deleteSetting<Name extends RegistrySettingName>(accountId: string, name: Name): Promise<StoredSetting<RegistrySettingDocuments[Name]> | undefined>;

  getItem<Kind extends RegistryItemKind>(accountId: string, kind: Kind, key: string): Promise<StoredItem<RegistryItemDocuments[Kind]> | undefined>;
  /** Items of one kind in key order. */
  listItems<Kind extends RegistryItemKind>(accountId: string, kind: Kind, page: ItemPage): Promise<StoredItem<RegistryItemDocuments[Kind]>[]>;
  /**
   * Inserts the item unless its key exists or the account already holds
   * `maxItems` items of that kind; concurrent creates are serialized, so
   * the limit holds across processes.
   */
  createItem<Kind extends RegistryItemKind>(accountId: string, kind: Kind, key: string, document: RegistryItemDocuments[Kind], now: number, maxItems?: number): Promise<CreateItemResult>;
  /** Replaces an existing item's document; undefined when there is no such item. */
  updateItem<Kind extends RegistryItemKind>(
    accountId: string,
    kind: Kind,
    key: string,
    update: (current: RegistryItemDocuments[Kind]) => RegistryItemDocuments[Kind],
    now: number,
  ): Promise<StoredItem<RegistryItemDocuments[Kind]> | undefined>;
  /** Removes the item and returns it, or undefined when there was none. */
  deleteItem<Kind extends RegistryItemKind>(accountId: string, kind: Kind, key: string): Promise<StoredItem<RegistryItemDocuments[Kind]> | undefined>;

  /**
   * The principal ARNs excluded from pull-time updates in the account, for
   * the pull path: cached per process. A change made through this store
   * shows at once; one made by another process within about a second.
   */
  pullTimeUpdateExclusions(accountId: string): Promise<ReadonlySet<string>>;

  /**
   * The repository creation template that applies when `repositoryName` is
   * created for `scenario` (see `templatePrefixesFor`), or undefined.
   */
  matchingCreationTemplate(accountId: string, repositoryName: string, scenario: CreationTemplateScenario): Promise<StoredItem<RepositoryCreationTemplate> | undefined>;
}

/** ECR reads a prefix with or without its trailing `/` alike ("there is always an assumed / applied to the end"). */
export function normalizedPrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

export const ROOT_PREFIX = 'ROOT';

/**
 * The template prefixes that can apply to `repositoryName`, most specific
 * first: each namespace prefix of the name (a prefix `p` applies to names
 * beginning with `p/`, so never the whole name), then `ROOT`, which applies
 * to every repository no other template matches. For `a/b/c`: `a/b`, `a`,
 * `ROOT`.
 */
export function templatePrefixesFor(repositoryName: string): string[] {
  const parts = repositoryName.split('/');
  const prefixes: string[] = [];
  for (let length = parts.length - 1; length > 0; length--) prefixes.push(parts.slice(0, length).join('/'));
  prefixes.push(ROOT_PREFIX);
  return prefixes;
}
