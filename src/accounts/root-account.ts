import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerKey } from './server-key.js';

export interface RootAccount {
  accountId: string;
  region: string;
  /** `arn:aws:iam::<account>:root` */
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface NewAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

interface StoredRootKey {
  accessKeyId: string;
  /** Sealed with the server key (see ServerKey.encrypt). */
  secretAccessKey: string;
}

/** Where a generated (not configured) root key of the default account is kept. */
export const ROOT_KEY_FILE = 'root-access-key.json';

/** An access key id as AWS shapes them: `AKIA` and 16 upper-case letters and digits. */
export function newAccessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `AKIA${Array.from(randomBytes(16), (b) => alphabet[b % 32]).join('')}`;
}

/** A new access key: an `AKIA…` id and a 40-character secret. */
export function newAccessKey(): NewAccessKey {
  return { accessKeyId: newAccessKeyId(), secretAccessKey: randomBytes(30).toString('base64') };
}

async function readStoredRootKey(dataDir: string): Promise<StoredRootKey | undefined> {
  return readFile(join(dataDir, ROOT_KEY_FILE), 'utf8').then(
    (text) => JSON.parse(text) as StoredRootKey,
    () => undefined,
  );
}

/** The id of the key in `<data dir>/root-access-key.json` and when it was written; undefined before the first start. */
export async function storedRootKeyId(dataDir: string): Promise<{ accessKeyId: string; createdAt: number } | undefined> {
  const stored = await readStoredRootKey(dataDir);
  if (!stored) return undefined;
  const { mtimeMs } = await stat(join(dataDir, ROOT_KEY_FILE));
  return { accessKeyId: stored.accessKeyId, createdAt: Math.floor(mtimeMs) };
}

/**
 * Replaces `<data dir>/root-access-key.json` atomically and durably: a
 * private temporary file is written and fsynced, then renamed over the old
 * one, so a reader sees the old key or the new one, never a torn file.
 */
export async function storeRootKey(dataDir: string, serverKey: ServerKey, key: NewAccessKey): Promise<void> {
  const path = join(dataDir, ROOT_KEY_FILE);
  const record: StoredRootKey = { accessKeyId: key.accessKeyId, secretAccessKey: serverKey.encrypt(key.secretAccessKey) };
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  // The rename itself survives a crash only once the directory is synced.
  const directory = await open(dataDir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The default account's root access key: taken from the configuration when
 * given (so CI can script against Berth), else generated on first start and
 * kept in `<data dir>/root-access-key.json` with the secret sealed by the
 * server key. `generated` carries a new secret so the caller can print it once.
 */
export async function loadRootAccount(
  dataDir: string,
  serverKey: ServerKey,
  settings: { accountId: string; region: string; accessKeyId: string | undefined; secretAccessKey: string | undefined },
): Promise<{ account: RootAccount; generated: boolean }> {
  const base = { accountId: settings.accountId, region: settings.region, arn: `arn:aws:iam::${settings.accountId}:root` };
  if (settings.accessKeyId && settings.secretAccessKey) {
    return { account: { ...base, accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }, generated: false };
  }
  const stored = await readStoredRootKey(dataDir);
  if (stored) {
    return { account: { ...base, accessKeyId: stored.accessKeyId, secretAccessKey: serverKey.decrypt(stored.secretAccessKey) }, generated: false };
  }
  const key = newAccessKey();
  await storeRootKey(dataDir, serverKey, key);
  return { account: { ...base, ...key }, generated: true };
}
