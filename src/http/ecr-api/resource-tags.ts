import type { Tag as PublicTag } from '../../aws/models/ecr-public-types.js';
import type { Tag } from '../../aws/models/ecr-types.js';
import type { RepositoryAddress } from '../addressing.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrHandler, EcrHandlers } from './call.js';
import { existingRepository, storedDocument, typedInput, type FoundRepository } from './repository-common.js';

export type ResourceTag = Tag;

/** Both services: "The maximum number of tags that can be applied to a repository is 50." */
const MAX_TAGS = 50;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;
/** The characters AWS tags may hold: letters, digits, spaces and `_ . : / = + - @`. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * TagResource, UntagResource and ListTagsForResource of ECR and ECR Public.
 * The dispatcher has resolved `resourceArn` to a repository of the
 * service's own kind (InvalidParameterException for anything else) and
 * authorized the action on it.
 */
export function resourceTagHandlers(deps: EcrApiDeps): EcrHandlers {
  const tagResource: EcrHandler = async (call) => {
    const found = await existingRepository(deps, call);
    // ECR Public's Tag (Key and Value optional) is the looser of the two services' shapes.
    const { tags: given } = typedInput<'ecr-public', 'TagResource'>(call);
    const tags = mergedTags(found.address, storedTags(found), readTags(given));
    await deps.metadata.updateRepositorySettings(found.repository.id, { resourceTags: JSON.stringify(tags) });
    return {};
  };
  const untagResource: EcrHandler = async (call) => {
    const found = await existingRepository(deps, call);
    const keys = new Set(typedInput<'ecr', 'UntagResource'>(call).tagKeys);
    for (const key of keys) checkTagKey(key);
    const remaining = storedTags(found).filter((tag) => !keys.has(tag.Key));
    await deps.metadata.updateRepositorySettings(found.repository.id, { resourceTags: remaining.length === 0 ? null : JSON.stringify(remaining) });
    return {};
  };
  const listTagsForResource: EcrHandler = async (call) => ({ tags: storedTags(await existingRepository(deps, call)) });

  const handlers = { TagResource: tagResource, UntagResource: untagResource, ListTagsForResource: listTagsForResource };
  return { ecr: handlers, 'ecr-public': handlers };
}

export function storedTags({ repository }: FoundRepository): ResourceTag[] {
  return storedDocument<ResourceTag[]>(repository.settings.resourceTags) ?? [];
}

/**
 * The `tags` of a request, checked against the rules both services state
 * for repository tags (InvalidTagParameterException). ECR Public's model
 * makes `Value` optional: a missing value is the empty one.
 */
export function readTags(given: readonly PublicTag[]): ResourceTag[] {
  const keys = new Set<string>();
  return given.map(({ Key, Value = '' }) => {
    if (Key === undefined) throw invalidTag('Every tag must have a Key');
    checkTagKey(Key);
    if (Value.length > MAX_VALUE_LENGTH || !TAG_CHARACTERS.test(Value)) {
      throw invalidTag(`The value of tag '${Key}' is invalid: tag values can have a maximum length of ${MAX_VALUE_LENGTH} characters of letters, digits, spaces and _ . : / = + - @`);
    }
    if (keys.has(Key)) throw invalidTag(`The tag key '${Key}' is given more than once`);
    keys.add(Key);
    return { Key, Value };
  });
}

/** A repository's tags with `added` applied (a key given again takes the new value); TooManyTagsException beyond 50. */
export function mergedTags(address: RepositoryAddress, existing: readonly ResourceTag[], added: readonly ResourceTag[]): ResourceTag[] {
  const byKey = new Map(existing.map((tag) => [tag.Key, tag.Value]));
  for (const tag of added) byKey.set(tag.Key, tag.Value);
  if (byKey.size > MAX_TAGS) {
    throw new AwsError(
      'TooManyTagsException',
      `The repository with name '${address.name}' in registry with id '${address.registry.accountId}' would have ${byKey.size} tags; the maximum number of tags that can be applied to a repository is ${MAX_TAGS}`,
      400,
    );
  }
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

function checkTagKey(key: string): void {
  if (key.length < 1 || key.length > MAX_KEY_LENGTH || !TAG_CHARACTERS.test(key)) {
    throw invalidTag(`The tag key '${key.slice(0, 200)}' is invalid: tag keys can have 1 to ${MAX_KEY_LENGTH} characters of letters, digits, spaces and _ . : / = + - @`);
  }
  if (key.toLowerCase().startsWith('aws:')) throw invalidTag(`The tag key '${key}' is invalid: keys starting with 'aws:' are reserved for AWS use`);
}

function invalidTag(message: string): AwsError {
  return new AwsError('InvalidTagParameterException', message, 400);
}
