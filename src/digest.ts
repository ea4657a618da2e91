import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_PATTERN = /^(sha256|sha512):([a-f0-9]+)$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Parses `algorithm:hex`; only the algorithms we can verify are accepted. */
export function parseDigest(value: string): ParsedDigest | undefined {
  const match = DIGEST_PATTERN.exec(value);
  if (!match) return undefined;
  const algorithm = match[1] as DigestAlgorithm;
  const hex = match[2] as string;
  return hex.length === HEX_LENGTH[algorithm] ? { algorithm, hex } : undefined;
}

export function requireDigest(value: string): ParsedDigest {
  const parsed = parseDigest(value);
  if (!parsed) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${value.slice(0, 200)}`);
  return parsed;
}

/** The OCI digest grammar, for any algorithm (registered or not). */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * True when `value` is shaped like a digest but is not one we can verify
 * (e.g. `sha384:…`): reads treat it as simply unknown, pushes refuse it.
 */
export function isForeignDigest(value: string): boolean {
  return DIGEST_GRAMMAR.test(value) && parseDigest(value) === undefined;
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
