import { MODELS } from '../../aws/operations.js';
import { encodeNextToken, readPageRequest } from '../../aws/pagination.js';
import type { ItemPage, RegistryItemDocuments, RegistryItemKind, RegistrySettingsStore, StoredItem } from '../../storage/registry-settings-store.js';
import { AwsError } from '../aws-common.js';
import type { EcrCall } from './call.js';

/** What the registry-level handler groups share. */

/** An InvalidParameterException in ECR's wording for a member that passed the model but not the service's own checks. */
export function invalidParameter(member: string, constraint: string): AwsError {
  return AwsError.of('INVALID_PARAMETER', `Invalid parameter at '${member}' failed to satisfy constraint: '${constraint}'`);
}

/** `arn:aws:iam::<account>:role/<path/name>`, split; undefined when `arn` is not an IAM role ARN. */
export function roleArnAccount(arn: string): string | undefined {
  return /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/[\w+=,.@/-]+$/.exec(arn)?.[1];
}

/**
 * One page of a registry's items of `kind` in key order, for a paginated
 * Describe/List operation: the page size and position come from
 * `maxResults`/`nextToken`, and the token is bound to the operation, the
 * registry and `keys`, so it is refused by any other listing.
 */
export async function itemPage<Kind extends RegistryItemKind>(
  store: RegistrySettingsStore,
  call: EcrCall,
  apiSigningKey: Uint8Array,
  kind: Kind,
  keys?: readonly string[],
): Promise<{ items: StoredItem<RegistryItemDocuments[Kind]>[]; nextToken?: string }> {
  const scope = JSON.stringify([call.service, call.operation, call.registryId, keys ?? null]);
  const request = readPageRequest(MODELS[call.service], call.operation, call.input, apiSigningKey, scope);
  if (!request.ok) throw new AwsError(request.error.type, request.error.message, 400);
  const page: ItemPage = { limit: request.limit + 1, ...(keys ? { keys } : {}), ...(typeof request.position === 'string' ? { after: request.position } : {}) };
  const items = await store.listItems(call.registryId, kind, page);
  if (items.length <= request.limit) return { items };
  const shown = items.slice(0, request.limit);
  return { items: shown, nextToken: encodeNextToken(apiSigningKey, scope, (shown.at(-1) as StoredItem<RegistryItemDocuments[Kind]>).key) };
}

