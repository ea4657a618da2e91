import type { Caller } from '../iam/authorizer.js';
import { rootPrincipal, type Authorizer } from '../iam/authorizer.js';
import type { AdminCredential } from './admin-credential.js';
import type { RegistryTokens } from './registry-token.js';

/**
 * Resolves a `/v2/` Authorization header to a caller: `AWS:<registry token>`
 * (what `aws ecr get-login-password` yields), valid while unexpired and while
 * the access key that minted it is active, or the administrator's user and
 * password, who acts as the root of the default account. Neither check costs
 * a database read per request (key state is cached, see Authorizer).
 */
export class Authenticator {
  constructor(
    private readonly admin: AdminCredential,
    private readonly tokens: RegistryTokens,
    private readonly authorizer: Authorizer,
    private readonly defaultAccountId: string,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Caller | undefined> {
    if (!authorization || !/^basic /i.test(authorization)) return undefined;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    if (decoded.startsWith('AWS:')) {
      const claims = this.tokens.verify(decoded.slice(4), Math.floor(Date.now() / 1000));
      if (!claims || !(await this.authorizer.keyIsActive(claims.akid))) return undefined;
      const principal =
        claims.typ === 'Account'
          ? rootPrincipal(claims.acct)
          : { arn: claims.sub, accountId: claims.acct, type: 'User' as const, userId: claims.uid, ...(claims.usr ? { username: claims.usr } : {}) };
      return { principal, accessKeyId: claims.akid };
    }
    const admin = await this.admin.authenticate(authorization);
    return admin && { principal: rootPrincipal(this.defaultAccountId), accessKeyId: undefined };
  }
}
