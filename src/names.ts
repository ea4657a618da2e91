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

export function isTag(value: string): boolean {
  return TAG.test(value);
}
