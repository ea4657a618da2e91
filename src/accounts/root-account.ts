import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
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

interface StoredRootKey {
  accessKeyId: string;
  /** Sealed with the server key (see ServerKey.encrypt). */
  secretAccessKey: string;
}

/** An access key id as AWS shapes them: `AKIA` and 16 upper-case letters and digits. */
export function newAccessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `AKIA${Array.from(randomBytes(16), (b) => alphabet[b % 32]).join('')}`;
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
  const path = join(dataDir, 'root-access-key.json');
  const stored = await readFile(path, 'utf8').then((text) => JSON.parse(text) as StoredRootKey, () => undefined);
  if (stored) {
    return { account: { ...base, accessKeyId: stored.accessKeyId, secretAccessKey: serverKey.decrypt(stored.secretAccessKey) }, generated: false };
  }
  const accessKeyId = newAccessKeyId();
  const secretAccessKey = randomBytes(30).toString('base64').slice(0, 40);
  const record: StoredRootKey = { accessKeyId, secretAccessKey: serverKey.encrypt(secretAccessKey) };
  await writeFile(`${path}.tmp`, JSON.stringify(record), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
  return { account: { ...base, accessKeyId, secretAccessKey }, generated: true };
}
