import { rootPrincipal, type Authorizer, type Caller } from '../iam/authorizer.js';
import type { RequestPrincipal } from '../iam/policy/index.js';
import type { AdminCredential } from './admin-credential.js';
import type { RegistryTokenClaims, RegistryTokens } from './registry-token.js';

/**
 * Resolves a `/v2/` Authorization header to a caller: `AWS:<registry token>`
 * (what `aws ecr get-login-password` and `aws ecr-public get-login-password`
 * yield), valid while unexpired and while
 * the access key that minted it is active, or the administrator's user and
 * password, who acts as the root of the default account. Neither check costs
 * a database read per request (key state is cached, see Authorizer).
 */
export class Authenticator {
  /** Verified token headers: the HMAC and JSON work is done once per token, not per request. */
  private readonly verifiedTokens = new Map<string, { caller: Caller; expiresAtMs: number }>();
  /** One object for every administrator request, so what is derived from its principal is cached (see principalFacts). */
  private readonly adminCaller: Caller;

  constructor(
    private readonly admin: AdminCredential,
    private readonly tokens: RegistryTokens,
    private readonly authorizer: Authorizer,
    defaultAccountId: string,
  ) {
    this.adminCaller = { principal: rootPrincipal(defaultAccountId), accessKeyId: undefined };
  }

  async authenticate(authorization: string | undefined): Promise<Caller | undefined> {
    if (!authorization) return undefined;
    const bearer = /^bearer /i.test(authorization);
    if (!bearer && !/^basic /i.test(authorization)) return undefined;
    const now = Date.now();
    const known = this.verifiedTokens.get(authorization);
    if (known && known.expiresAtMs > now) {
      const accessKeyId = known.caller.accessKeyId as string;
      if (!(await this.authorizer.keyIsActive(accessKeyId))) return undefined;
      this.authorizer.recordKeyUse(accessKeyId, known.caller.tokenService ?? 'ecr');
      return known.caller;
    }
    // `Bearer <token>` (Docker token flow) and `Basic base64(AWS:<token>)` (docker login) carry the same token.
    const decoded = bearer ? `AWS:${authorization.slice(7).trim()}` : Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    if (decoded.startsWith('AWS:')) {
      const claims = this.tokens.verify(decoded.slice(4), Math.floor(now / 1000));
      if (!claims || !(await this.authorizer.keyIsActive(claims.akid))) return undefined;
      this.authorizer.recordKeyUse(claims.akid, claims.svc);
      // What an ECR Public token may open (public registries only) is decided per repository, by the caller of authenticate.
      const caller: Caller = { principal: principalOf(claims), accessKeyId: claims.akid, expiresAt: claims.exp * 1000, tokenService: claims.svc };
      if (this.verifiedTokens.size >= 10_000) this.verifiedTokens.clear();
      this.verifiedTokens.set(authorization, { caller, expiresAtMs: claims.exp * 1000 });
      return caller;
    }
    if (bearer) return undefined;
    const admin = await this.admin.authenticate(authorization);
    return admin && this.adminCaller;
  }
}

/** The principal a token names, as authorization needs it. */
function principalOf(claims: RegistryTokenClaims): RequestPrincipal {
  switch (claims.typ) {
    case 'Account':
      return rootPrincipal(claims.acct);
    case 'User':
      return { arn: claims.sub, accountId: claims.acct, type: 'User', userId: claims.uid, ...(claims.usr ? { username: claims.usr } : {}) };
    case 'AssumedRole':
      return { arn: claims.sub, accountId: claims.acct, type: 'AssumedRole', userId: claims.uid, ...(claims.rarn ? { roleArn: claims.rarn } : {}) };
  }
}
