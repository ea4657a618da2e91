/** Build a {@link RequestPrincipal} from a caller ARN (as an authenticated request would know it). */

import type { RequestPrincipal } from './principal.js';

const ARN = /^arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)$/;

/**
 * `arn:aws:iam::<acct>:root` → Account; `…:user/[path/]name` → User (username = name);
 * `arn:aws:sts::<acct>:assumed-role/<role>/<session>` → AssumedRole;
 * `arn:aws:sts::<acct>:federated-user/<name>` → FederatedUser. `userId` defaults to the account id
 * for root, `<name>` otherwise (pass the real unique id when known).
 * @throws {TypeError} for anything else.
 */
export function principalFromArn(arn: string, extra: { userId?: string; roleArn?: string } = {}): RequestPrincipal {
  const m = ARN.exec(arn);
  if (!m) throw new TypeError(`not a principal ARN: ${arn}`);
  const [, , service, accountId = '', rest = ''] = m;
  if (service === 'iam' && rest === 'root') return { arn, accountId, type: 'Account', userId: extra.userId ?? accountId };
  if (service === 'iam' && rest.startsWith('user/')) {
    const username = rest.slice(rest.lastIndexOf('/') + 1);
    return { arn, accountId, type: 'User', userId: extra.userId ?? username, username };
  }
  const session = /^assumed-role\/([^/]+)\/([^/]+)$/.exec(rest);
  if (service === 'sts' && session) {
    const p: RequestPrincipal = { arn, accountId, type: 'AssumedRole', userId: extra.userId ?? `${session[1]}:${session[2]}` };
    return extra.roleArn ? { ...p, roleArn: extra.roleArn } : p;
  }
  if (service === 'sts' && rest.startsWith('federated-user/')) {
    return { arn, accountId, type: 'FederatedUser', userId: extra.userId ?? `${accountId}:${rest.slice('federated-user/'.length)}` };
  }
  throw new TypeError(`not a principal ARN: ${arn}`);
}
