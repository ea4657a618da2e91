import { createHash, createHmac } from 'node:crypto';

export const KEY_TYPE_IDENTIFIER = 'aws4_request';

export function hmacSha256(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256Hex(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
  const kDate = hmacSha256(`AWS4${secretAccessKey}`, shortDate);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, KEY_TYPE_IDENTIFIER);
}

/**
 * Small bounded LRU of derived signing keys, keyed by (secret, date, region,
 * service). A signing key is only valid for one scope-day, so entries age out
 * naturally; the bound keeps memory flat no matter how many keys/regions call.
 */
export class SigningKeyCache {
  readonly maxEntries: number;
  #entries = new Map<string, Buffer>();
  #hits = 0;
  #misses = 0;

  constructor(maxEntries = 256) {
    this.maxEntries = Math.max(1, Math.floor(maxEntries));
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  get(secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
    // NUL cannot occur in a date/region/service that passed validation, so the key is unambiguous.
    const cacheKey = `${shortDate}\0${region}\0${service}\0${secretAccessKey}`;
    const cached = this.#entries.get(cacheKey);
    if (cached !== undefined) {
      this.#hits++;
      // Refresh recency.
      this.#entries.delete(cacheKey);
      this.#entries.set(cacheKey, cached);
      return cached;
    }
    this.#misses++;
    const key = deriveSigningKey(secretAccessKey, shortDate, region, service);
    this.#entries.set(cacheKey, key);
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    return key;
  }

  clear(): void {
    this.#entries.clear();
    this.#hits = 0;
    this.#misses = 0;
  }
}

/** Process-wide default cache used when the caller does not pass one. */
export const defaultSigningKeyCache = new SigningKeyCache(256);
