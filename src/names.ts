import { RegistryError } from './errors.js';

/**
 * Repository names follow the OCI grammar, narrowed as ECR does: lower case,
 * 2–256 characters, path components separated by `/`.
 */
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function isRepositoryName(name: string): boolean {
  return name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name);
}

export function requireRepositoryName(name: string): void {
  if (!isRepositoryName(name)) {
    throw new RegistryError('NAME_INVALID', `invalid repository name: ${name.slice(0, 300)}`);
  }
}

/**
 * Every account owns two registries; a repository lives in one of them.
 * Inside Berth a repository is known by its qualified name,
 * `<registry key>/<repository name>`: the key is the account id for the
 * private registry and `<account id>-public` for the public one. Neither key
 * contains `/`, so the first `/` always separates it from the name.
 */
export type RegistryKind = 'private' | 'public';

export interface RegistryRef {
  accountId: string;
  kind: RegistryKind;
}

const ACCOUNT_ID = /^\d{12}$/;
const PUBLIC_SUFFIX = '-public';

export function isAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}

/** `<registry key>/`: what every qualified name in that registry starts with. */
export function registryPrefix(registry: RegistryRef): string {
  return `${registry.accountId}${registry.kind === 'public' ? PUBLIC_SUFFIX : ''}/`;
}

export function qualifiedName(registry: RegistryRef, name: string): string {
  return registryPrefix(registry) + name;
}

/** The registry and the repository name of a qualified name; undefined if it is not one. */
export function splitQualifiedName(qualified: string): { registry: RegistryRef; name: string } | undefined {
  const slash = qualified.indexOf('/');
  if (slash < 0) return undefined;
  const key = qualified.slice(0, slash);
  const name = qualified.slice(slash + 1);
  const isPublic = key.endsWith(PUBLIC_SUFFIX);
  const accountId = isPublic ? key.slice(0, -PUBLIC_SUFFIX.length) : key;
  if (!ACCOUNT_ID.test(accountId)) return undefined;
  return { registry: { accountId, kind: isPublic ? 'public' : 'private' }, name };
}

/** The repository name part of a qualified name, checked against the naming rules. */
export function requireQualifiedName(qualified: string): string {
  const parts = splitQualifiedName(qualified);
  if (!parts) throw new Error(`not a qualified repository name: ${qualified.slice(0, 300)}`);
  requireRepositoryName(parts.name);
  return parts.name;
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}
