import { tryParsePolicy } from '../../iam/policy/index.js';
import { isLifecyclePolicyError, parseLifecyclePolicy } from '../../lifecycle/index.js';
import {
  normalizedPrefix,
  type CreationTemplateScenario,
  type ImageTagMutability,
  type RepositoryCreationTemplate,
  type StoredItem,
} from '../../storage/registry-settings-store.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrHandlers } from './call.js';
import { invalidParameter, itemPage, roleArnAccount } from './registry-common.js';

/** ECR's limit on repository policy text. */
const MAX_REPOSITORY_POLICY_TEXT = 10_240;
/** Tags per repository. */
const MAX_RESOURCE_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/** The members a create or update may carry; the model has checked their shapes. */
type TemplateInput = Partial<Omit<RepositoryCreationTemplate, 'prefix'>>;

/**
 * Repository creation templates: the settings a repository gets when ECR
 * creates it on the caller's behalf (create on push, replication, pull
 * through cache). Everything in a template is validated as the operation it
 * stands for would validate it (the repository policy by the policy engine,
 * the lifecycle policy by the lifecycle parser), so a template never holds
 * what could not be applied. Which template applies to a new repository:
 * `RegistrySettingsStore.matchingCreationTemplate`.
 */
export function creationTemplateHandlers({ registrySettings: store, serverKey }: EcrApiDeps): EcrHandlers {
  const notFound = (prefix: string, registryId: string): AwsError =>
    new AwsError('TemplateNotFoundException', `The repository creation template with prefix '${prefix}' does not exist in the registry with id '${registryId}'`, 400);
  const described = ({ document, createdAt, updatedAt }: StoredItem<RepositoryCreationTemplate>) => ({ ...document, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) });

  return {
    ecr: {
      CreateRepositoryCreationTemplate: async ({ registryId, input }) => {
        const prefix = input.prefix as string;
        const given = templateInput(input);
        const template = validTemplate(
          {
            prefix,
            appliedFor: [],
            encryptionConfiguration: { encryptionType: 'AES256' },
            resourceTags: [],
            imageTagMutability: 'MUTABLE',
            ...given,
          },
          registryId,
        );
        const now = Date.now();
        const result = await store.createItem(registryId, 'repository-creation-template', normalizedPrefix(prefix), template, now);
        if (result === 'exists') {
          throw new AwsError('TemplateAlreadyExistsException', `A repository creation template with prefix '${prefix}' already exists in the registry with id '${registryId}'`, 400);
        }
        return { registryId, repositoryCreationTemplate: described({ key: prefix, document: template, createdAt: now, updatedAt: now }) };
      },
      DescribeRepositoryCreationTemplates: async (call) => {
        const prefixes = call.input.prefixes as string[] | undefined;
        const keys = prefixes && [...new Set(prefixes.map(normalizedPrefix))];
        const { items, nextToken } = await itemPage(store, call, serverKey.apiSigningKey, 'repository-creation-template', keys);
        return { registryId: call.registryId, repositoryCreationTemplates: items.map(described), ...(nextToken ? { nextToken } : {}) };
      },
      UpdateRepositoryCreationTemplate: async ({ registryId, input }) => {
        const prefix = input.prefix as string;
        const given = templateInput(input);
        const updated = await store.updateItem(
          registryId,
          'repository-creation-template',
          normalizedPrefix(prefix),
          (current) => {
            const next: RepositoryCreationTemplate = { ...current, ...given };
            // A new mutability without filters drops the old filters; new filters alone keep the mutability.
            if (given.imageTagMutability !== undefined && given.imageTagMutabilityExclusionFilters === undefined) delete next.imageTagMutabilityExclusionFilters;
            return validTemplate(next, registryId);
          },
          Date.now(),
        );
        if (!updated) throw notFound(prefix, registryId);
        return { registryId, repositoryCreationTemplate: described(updated) };
      },
      DeleteRepositoryCreationTemplate: async ({ registryId, input }) => {
        const prefix = input.prefix as string;
        const deleted = await store.deleteItem(registryId, 'repository-creation-template', normalizedPrefix(prefix));
        if (!deleted) throw notFound(prefix, registryId);
        return { registryId, repositoryCreationTemplate: described(deleted) };
      },
    },
  };
}

const OPTIONAL_TEXT = ['description', 'repositoryPolicy', 'lifecyclePolicy', 'customRoleArn'] as const;

/** The template members of a request. An empty string clears a text member (on update) or leaves it unset (on create). */
function templateInput(input: Readonly<Record<string, unknown>>): TemplateInput {
  const members: TemplateInput = {};
  if (input.appliedFor !== undefined) members.appliedFor = [...new Set(input.appliedFor as CreationTemplateScenario[])];
  if (input.encryptionConfiguration !== undefined) members.encryptionConfiguration = input.encryptionConfiguration as RepositoryCreationTemplate['encryptionConfiguration'];
  if (input.resourceTags !== undefined) members.resourceTags = input.resourceTags as RepositoryCreationTemplate['resourceTags'];
  if (input.imageTagMutability !== undefined) members.imageTagMutability = input.imageTagMutability as ImageTagMutability;
  if (input.imageTagMutabilityExclusionFilters !== undefined) {
    members.imageTagMutabilityExclusionFilters = input.imageTagMutabilityExclusionFilters as NonNullable<RepositoryCreationTemplate['imageTagMutabilityExclusionFilters']>;
  }
  for (const member of OPTIONAL_TEXT) {
    const value = input[member];
    if (typeof value === 'string') members[member] = value;
  }
  return members;
}

/** Checks what the model cannot and returns the template as stored (empty optional texts removed). */
function validTemplate(template: RepositoryCreationTemplate, registryId: string): RepositoryCreationTemplate {
  const valid: RepositoryCreationTemplate = { ...template };
  for (const member of OPTIONAL_TEXT) if (valid[member] === '') delete valid[member];

  if (valid.appliedFor.length === 0) throw invalidParameter('appliedFor', 'Member must have length greater than or equal to 1');

  const withExclusion = valid.imageTagMutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion && valid.imageTagMutabilityExclusionFilters === undefined) {
    throw invalidParameter('imageTagMutabilityExclusionFilters', `Exclusion filters are required when imageTagMutability is ${valid.imageTagMutability}`);
  }
  if (!withExclusion && valid.imageTagMutabilityExclusionFilters !== undefined) {
    throw invalidParameter('imageTagMutabilityExclusionFilters', `Exclusion filters are allowed only with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, not ${valid.imageTagMutability}`);
  }

  const { encryptionType, kmsKey } = valid.encryptionConfiguration;
  if (encryptionType === 'AES256' && kmsKey !== undefined && kmsKey !== '') {
    throw invalidParameter('encryptionConfiguration.kmsKey', 'A KMS key may be given only with the KMS or KMS_DSSE encryption type');
  }

  validateResourceTags(valid.resourceTags);

  if (valid.customRoleArn !== undefined && roleArnAccount(valid.customRoleArn) !== registryId) {
    throw invalidParameter('customRoleArn', `The role must be an IAM role in the registry's account '${registryId}'`);
  }
  if (valid.repositoryPolicy !== undefined) {
    const parsed = tryParsePolicy(valid.repositoryPolicy, { kind: 'resource', maxLength: MAX_REPOSITORY_POLICY_TEXT });
    if (!parsed.ok) throw AwsError.of('INVALID_PARAMETER', `Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided': ${parsed.error.message}`);
  }
  if (valid.lifecyclePolicy !== undefined) {
    try {
      parseLifecyclePolicy(valid.lifecyclePolicy);
    } catch (err) {
      if (isLifecyclePolicyError(err)) throw invalidParameter('lifecyclePolicy', `Lifecycle policy validation failure: ${err.reason}`);
      throw err;
    }
  }
  return valid;
}

/** The rules TagResource applies to a repository's tags, applied when the template is written rather than when a repository is created from it. */
function validateResourceTags(tags: RepositoryCreationTemplate['resourceTags']): void {
  if (tags.length > MAX_RESOURCE_TAGS) throw invalidParameter('resourceTags', `Member must have length less than or equal to ${MAX_RESOURCE_TAGS}`);
  const keys = new Set<string>();
  tags.forEach(({ Key, Value }, index) => {
    const path = `resourceTags.${index + 1}.member`;
    if (Key.length < 1 || Key.length > MAX_TAG_KEY) throw invalidParameter(`${path}.Key`, `Member must have length between 1 and ${MAX_TAG_KEY}`);
    if (Value.length > MAX_TAG_VALUE) throw invalidParameter(`${path}.Value`, `Member must have length less than or equal to ${MAX_TAG_VALUE}`);
    if (Key.toLowerCase().startsWith('aws:')) throw invalidParameter(`${path}.Key`, "Tag keys starting with 'aws:' are reserved");
    if (keys.has(Key)) throw invalidParameter(`${path}.Key`, `Duplicate tag key '${Key}'`);
    keys.add(Key);
  });
}
