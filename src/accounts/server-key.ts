import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The server's own secret (`<data dir>/server-key`, 32 random bytes, mode
 * 0600): it signs registry tokens and encrypts stored secret keys, so a copy
 * of the database alone reveals no usable credential.
 */
export class ServerKey {
  /** For HMAC-signed registry tokens. */
  readonly signingKey: Buffer;
  private readonly encryptionKey: Buffer;

  private constructor(key: Buffer) {
    // One key per purpose, derived from the stored one, so no key serves two algorithms.
    this.signingKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'berth registry tokens', 32));
    this.encryptionKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'berth stored secrets', 32));
  }

  static async load(dataDir: string): Promise<ServerKey> {
    const path = join(dataDir, 'server-key');
    const existing = await readFile(path).catch(() => undefined);
    if (existing && existing.length === 32) return new ServerKey(existing);
    await mkdir(dataDir, { recursive: true });
    const key = randomBytes(32);
    // 'wx': when two processes start at once, the first key written wins and the other reads it.
    await writeFile(path, key, { mode: 0o600, flag: 'wx' }).catch(async () => undefined);
    return new ServerKey(await readFile(path));
  }

  /** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
