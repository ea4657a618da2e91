/**
 * Berth's one IAM policy engine: parsing/validation of identity, repository and registry policies
 * and their evaluation. See the module files for the AWS rules each part implements.
 */

export { PolicyError, type PolicyErrorShape } from './errors.js';
export {
  parsePolicy,
  compilePolicy,
  tryParsePolicy,
  validatePolicy,
  type ParseOptions,
  type ParseResult,
  type Policy,
  type PolicyKind,
  type PolicyStatement,
  type PolicyVersion,
  type Effect,
} from './parse.js';
export {
  evaluate,
  isAllowed,
  type AuthorizationRequest,
  type Decision,
  type DecisionReason,
  type EvaluationResult,
  type MatchedStatement,
  type PolicySet,
  type RequestContext,
} from './evaluate.js';
export { accessDeniedMessage } from './messages.js';
export { principalFromArn } from './identity.js';
export type { PrincipalType, RequestPrincipal } from './principal.js';
export { CONDITION_OPERATORS } from './conditions.js';
export {
  ECR_ACTIONS,
  ECR_API_ACTIONS,
  ECR_PERMISSION_ONLY_ACTIONS,
  ECR_PUBLIC_ACTIONS,
  IAM_ACTIONS,
  KNOWN_SERVICE_ACTIONS,
  STS_ACTIONS,
} from './actions.js';
export {
  AWS_MANAGED_ECR_POLICIES,
  AmazonEC2ContainerRegistryFullAccess,
  AmazonEC2ContainerRegistryPowerUser,
  AmazonEC2ContainerRegistryPullOnly,
  AmazonEC2ContainerRegistryReadOnly,
  getManagedPolicy,
  type ManagedPolicy,
} from './managed.js';
