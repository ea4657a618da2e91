import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../iam/authorizer.js';

/** What a `docker login` password proves, read back without any database lookup. */
export interface RegistryTokenClaims {
  /** The principal's ARN. */
  sub: string;
  /** Its account, type, `aws:userid` and (for users) name: what authorization needs, without a lookup. */
  acct: string;
  typ: 'Account' | 'User' | 'AssumedRole';
  uid: string;
  usr?: string;
  /** For a role session: the role's ARN (with its path), `aws:PrincipalArn`. */
  rarn?: string;
  /** The registry it opens: the private one (`ecr`) or the public one (`ecr-public`). */
  svc: 'ecr' | 'ecr-public';
  /** The access key that minted the token (a deleted or deactivated key voids its tokens). */
  akid: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export const REGISTRY_TOKEN_TTL_SECONDS = 12 * 60 * 60;
const TOKEN_PRINCIPAL_TYPES: ReadonlySet<string> = new Set(['Account', 'User', 'AssumedRole']);

/**
 * Self-contained registry passwords: `base64url(claims).base64url(HMAC-SHA256)`.
 * The alphabet has no `:`, so `AWS:<token>` splits as the AWS CLI expects.
 */
export class RegistryTokens {
  constructor(private readonly key: Buffer) {}

  /**
   * A token for `caller`, opened by the key `accessKeyId`, for `svc`; and its
   * expiry in epoch seconds: 12 hours, or the end of the caller's session if
   * that comes first.
   */
  mintFor(caller: Caller, accessKeyId: string, svc: RegistryTokenClaims['svc']): { token: string; expiresAt: number } {
    const { principal } = caller;
    const twelveHours = Math.floor(Date.now() / 1000) + REGISTRY_TOKEN_TTL_SECONDS;
    const expiresAt = caller.expiresAt === undefined ? twelveHours : Math.min(twelveHours, Math.floor(caller.expiresAt / 1000));
    const token = this.mint({
      sub: principal.arn,
      akid: accessKeyId,
      acct: principal.accountId,
      typ: principal.type === 'User' || principal.type === 'AssumedRole' ? principal.type : 'Account',
      uid: principal.userId,
      svc,
      ...(principal.username ? { usr: principal.username } : {}),
      ...(principal.roleArn ? { rarn: principal.roleArn } : {}),
      exp: expiresAt,
    });
    return { token, expiresAt };
  }

  mint(claims: RegistryTokenClaims): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The claims of a genuine, unexpired token; undefined otherwise. */
  verify(token: string, nowSeconds: number): RegistryTokenClaims | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const expected = Buffer.from(this.mac(payload));
    const actual = Buffer.from(token.slice(dot + 1));
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    let claims: RegistryTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as RegistryTokenClaims;
    } catch {
      return undefined;
    }
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds || typeof claims.sub !== 'string' || typeof claims.akid !== 'string') return undefined;
    if (typeof claims.acct !== 'string' || !TOKEN_PRINCIPAL_TYPES.has(claims.typ) || typeof claims.uid !== 'string') return undefined;
    if (claims.typ === 'AssumedRole' && typeof claims.rarn !== 'string') return undefined;
    if (claims.svc !== 'ecr' && claims.svc !== 'ecr-public') return undefined;
    return claims;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
