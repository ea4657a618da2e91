/**
 * AccessDenied message text as AWS writes it (ecr.md §2.1, "AccessDenied message shapes"):
 *
 *   User: <principal-arn> is not authorized to perform: <action> on resource: <resource>
 *     because no identity-based policy allows the <action> action
 *     | because no resource-based policy allows the <action> action
 *     | with an explicit deny in an identity-based policy
 *     | with an explicit deny in a resource-based policy
 *
 * AWS appends the policy ARN to identity-based explicit denies when it is known
 * ("… with an explicit deny in an identity-based policy: arn:aws:iam::…:policy/Name"); we do so
 * when the matched policy was parsed with a `name` that is an ARN.
 */

import type { AuthorizationRequest, EvaluationResult } from './evaluate.js';

export function accessDeniedMessage(request: Pick<AuthorizationRequest, 'principal' | 'action' | 'resource'>, result: EvaluationResult): string {
  const head = `User: ${request.principal.arn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  switch (result.reason) {
    case 'IdentityPolicyDeny': {
      const name = result.matchedStatement?.policyName;
      return `${head} with an explicit deny in an identity-based policy${name?.startsWith('arn:') ? `: ${name}` : ''}`;
    }
    case 'ResourcePolicyDeny':
      return `${head} with an explicit deny in a resource-based policy`;
    case 'NoIdentityPolicyAllow':
      return `${head} because no identity-based policy allows the ${request.action} action`;
    case 'NoResourcePolicyAllow':
      return `${head} because no resource-based policy allows the ${request.action} action`;
    default:
      throw new RangeError(`accessDeniedMessage: the request was allowed (${result.reason})`);
  }
}
