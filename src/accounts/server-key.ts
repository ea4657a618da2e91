import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The server's own secret (`<data dir>/server-key`, 32 random bytes, mode
 * 0600): it signs registry tokens and encrypts stored secret keys, so a copy
 * of the database alone reveals no usable credential.
 */
export class ServerKey {
  /** For HMAC-signed registry tokens. */
  readonly signingKey: Buffer;
  /** For HMAC-signed pagination tokens and download URLs of the AWS APIs. */
  readonly apiSigningKey: Buffer;
  private readonly encryptionKey: Buffer;

  private constructor(key: Buffer) {
    // One key per purpose, derived from the stored one, so no key serves two algorithms.
    this.signingKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'berth registry tokens', 32));
    this.encryptionKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'berth stored secrets', 32));
    this.apiSigningKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'berth api tokens', 32));
  }

  /**
   * Reads the key, creating it on first start. The key is written to a
   * private temporary file, fsynced, then linked into place, which fails if
   * another process got there first: the file under the final name is always
   * complete. Anything but 32 bytes there is refused, never used.
   */
  static async load(dataDir: string): Promise<ServerKey> {
    const path = join(dataDir, 'server-key');
    const existing = await readKey(path);
    if (existing) return new ServerKey(existing);
    await mkdir(dataDir, { recursive: true });
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(randomBytes(32));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    } finally {
      await unlink(temp);
    }
    const key = await readKey(path);
    if (!key) throw new Error(`${path} is not a 32-byte key`);
    return new ServerKey(key);
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

/** The key at `path`; undefined if there is none; an error if the file is not a 32-byte key. */
async function readKey(path: string): Promise<Buffer | undefined> {
  const key = await readFile(path).catch((err: { code?: string }) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (key !== undefined && key.length !== 32) throw new Error(`${path} holds ${key.length} bytes, not a 32-byte key; refusing to use it`);
  return key;
}
