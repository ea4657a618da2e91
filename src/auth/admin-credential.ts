import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** The administrator, as a verified login names it. */
export interface AdminLogin {
  name: string;
}

interface StoredCredential {
  user: string;
  salt: string;
  hash: string;
}

/**
 * The bootstrap administrator login. Only a salted scrypt hash is kept, in
 * `<data dir>/admin-credential.json`. Verifying scrypt is deliberately slow,
 * so a verified `Authorization` header is remembered for a minute: repeated
 * requests of one client cost a map lookup, not an scrypt.
 */
export class AdminCredential {
  private readonly verified = new Map<string, number>();

  private constructor(private readonly stored: StoredCredential) {}

  /**
   * Loads the credential, setting it from `password` when given. On first
   * start without a password one is generated; it is returned so the caller
   * can print it once.
   */
  static async load(dataDir: string, user: string, password: string | undefined): Promise<{ credential: AdminCredential; generatedPassword?: string }> {
    const path = join(dataDir, 'admin-credential.json');
    const existing = await readFile(path, 'utf8').then((text) => JSON.parse(text) as StoredCredential, () => undefined);
    if (existing && existing.user === user && (password === undefined || (await matches(existing, password)))) {
      return { credential: new AdminCredential(existing) };
    }
    const generatedPassword = password === undefined ? randomBytes(18).toString('base64url') : undefined;
    const stored = await hashCredential(user, password ?? (generatedPassword as string));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.tmp`, JSON.stringify(stored), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
    return generatedPassword ? { credential: new AdminCredential(stored), generatedPassword } : { credential: new AdminCredential(stored) };
  }

  /** The principal a `Basic` Authorization header proves, or undefined. */
  async authenticate(authorization: string | undefined): Promise<AdminLogin | undefined> {
    if (!authorization || !/^basic /i.test(authorization)) return undefined;
    const now = Date.now();
    const until = this.verified.get(authorization);
    if (until !== undefined && until > now) return { name: this.stored.user };

    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // scrypt runs whatever the user name, so timing does not tell whether the name was right.
    const passwordMatches = await matches(this.stored, password);
    if (user !== this.stored.user || !passwordMatches) return undefined;
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(authorization, now + 60_000);
    return { name: user };
  }
}

async function hashCredential(user: string, password: string): Promise<StoredCredential> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return { user, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

async function matches(stored: StoredCredential, password: string): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await scrypt(password, Buffer.from(stored.salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}
