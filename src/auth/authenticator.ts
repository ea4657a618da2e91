import type { AdminCredential } from './admin-credential.js';
import type { RegistryTokens } from './registry-token.js';

/** Who made a `/v2/` request. */
export interface Principal {
  /** The administrator's user name, or the principal ARN a registry token names. */
  name: string;
  kind: 'admin' | 'token';
}

/**
 * Resolves a `/v2/` Authorization header to a principal: `AWS:<registry
 * token>` (what `aws ecr get-login-password` yields) or the administrator's
 * user and password. Both checks are CPU-only; neither touches the database.
 */
export class Authenticator {
  constructor(
    private readonly admin: AdminCredential,
    private readonly tokens: RegistryTokens,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
    if (!authorization || !/^basic /i.test(authorization)) return undefined;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    if (decoded.startsWith('AWS:')) {
      const claims = this.tokens.verify(decoded.slice(4), Math.floor(Date.now() / 1000));
      return claims && { name: claims.sub, kind: 'token' };
    }
    const admin = await this.admin.authenticate(authorization);
    return admin && { name: admin.name, kind: 'admin' };
  }
}
