/**
 * How each ECR and ECR Public operation is authorized: the IAM action, the
 * resource it is checked on, and the further actions some operations need.
 * Sources: the Service Authorization Reference for `ecr` and `ecr-public`
 * as summarized in ../shared/reference/ecr.md §5.1 and §2.2.
 */
import { ECR_PUBLIC_MODEL } from './models/ecr-public.js';
import { ECR_MODEL } from './models/ecr.js';
import type { ServiceModel } from './model-types.js';

export type AwsService = 'ecr' | 'ecr-public';

/**
 * - `repository`: the repository ARN of the repository the request names.
 * - `registry`: ECR Public's registry ARN, `arn:aws:ecr-public::<account>:registry/<account>`.
 * - `*`: no resource; ECR's registry-level actions are granted on `"Resource": "*"`.
 */
export type ResourceKind = 'repository' | 'registry' | '*';

/** Where a repository-scoped operation names its repository. */
export type RepositorySource =
  /** `repositoryName` (with `registryId`, defaulting to the caller's account). */
  | 'repositoryName'
  /** Each of `repositoryNames`; DescribeRepositories without it lists only the repositories the caller may describe. */
  | 'repositoryNames'
  /** `resourceArn`, a repository ARN (the tagging operations). */
  | 'resourceArn';

export interface AdditionalAction {
  action: string;
  /** `operation`: the operation's own resource; `*`; or the ARN held by the named input member (iam:PassRole on a role). */
  resource: 'operation' | '*' | { member: string };
  /** Required only when this input member is present. */
  whenMember?: string;
}

export interface OperationAuthorization {
  /** The action checked on the operation's resource: `<service>:<Operation>` except where noted. */
  action: string;
  resource: ResourceKind;
  repositorySource?: RepositorySource;
  additionalActions?: readonly AdditionalAction[];
}

const onRepositoryName = (action: string): OperationAuthorization => ({ action, resource: 'repository', repositorySource: 'repositoryName' });
const onRegistry = (action: string): OperationAuthorization => ({ action, resource: '*' });

const ECR_REGISTRY_OPERATIONS = [
  'CreatePullThroughCacheRule',
  'CreateRepositoryCreationTemplate',
  'DeletePullThroughCacheRule',
  'DeleteRegistryPolicy',
  'DeleteRepositoryCreationTemplate',
  'DeleteSigningConfiguration',
  'DeregisterPullTimeUpdateExclusion',
  'DescribePullThroughCacheRules',
  'DescribeRegistry',
  'DescribeRepositoryCreationTemplates',
  'GetAccountSetting',
  'GetAuthorizationToken',
  'GetRegistryPolicy',
  'GetRegistryScanningConfiguration',
  'GetSigningConfiguration',
  'ListPullTimeUpdateExclusions',
  'PutAccountSetting',
  'PutRegistryPolicy',
  'PutRegistryScanningConfiguration',
  'PutReplicationConfiguration',
  'PutSigningConfiguration',
  'RegisterPullTimeUpdateExclusion',
  'UpdatePullThroughCacheRule',
  'UpdateRepositoryCreationTemplate',
  'ValidatePullThroughCacheRule',
] as const;

const PASS_CUSTOM_ROLE: AdditionalAction = { action: 'iam:PassRole', resource: { member: 'customRoleArn' }, whenMember: 'customRoleArn' };

/** A creation template applies these when it creates a repository, so writing one needs them too. */
const TEMPLATE_ACTIONS: readonly AdditionalAction[] = [
  { action: 'ecr:CreateRepository', resource: '*' },
  { action: 'ecr:PutLifecyclePolicy', resource: '*' },
  { action: 'ecr:SetRepositoryPolicy', resource: '*' },
  PASS_CUSTOM_ROLE,
];

function ecrOperations(): Record<string, OperationAuthorization> {
  const table: Record<string, OperationAuthorization> = {};
  for (const operation of Object.keys(ECR_MODEL.operations)) table[operation] = onRepositoryName(`ecr:${operation}`);
  for (const operation of ECR_REGISTRY_OPERATIONS) table[operation] = onRegistry(`ecr:${operation}`);
  return {
    ...table,
    BatchGetRepositoryScanningConfiguration: { ...onRepositoryName('ecr:BatchGetRepositoryScanningConfiguration'), repositorySource: 'repositoryNames' },
    DescribeRepositories: { ...onRepositoryName('ecr:DescribeRepositories'), repositorySource: 'repositoryNames' },
    CreateRepository: { ...onRepositoryName('ecr:CreateRepository'), additionalActions: [{ action: 'ecr:TagResource', resource: 'operation', whenMember: 'tags' }] },
    // No action of its own: reading referrers is reading images.
    ListImageReferrers: onRepositoryName('ecr:BatchGetImage'),
    TagResource: { ...onRepositoryName('ecr:TagResource'), repositorySource: 'resourceArn' },
    UntagResource: { ...onRepositoryName('ecr:UntagResource'), repositorySource: 'resourceArn' },
    ListTagsForResource: { ...onRepositoryName('ecr:ListTagsForResource'), repositorySource: 'resourceArn' },
    CreatePullThroughCacheRule: { ...onRegistry('ecr:CreatePullThroughCacheRule'), additionalActions: [PASS_CUSTOM_ROLE] },
    UpdatePullThroughCacheRule: { ...onRegistry('ecr:UpdatePullThroughCacheRule'), additionalActions: [PASS_CUSTOM_ROLE] },
    CreateRepositoryCreationTemplate: { ...onRegistry('ecr:CreateRepositoryCreationTemplate'), additionalActions: TEMPLATE_ACTIONS },
    UpdateRepositoryCreationTemplate: { ...onRegistry('ecr:UpdateRepositoryCreationTemplate'), additionalActions: TEMPLATE_ACTIONS },
  };
}

function ecrPublicOperations(): Record<string, OperationAuthorization> {
  const table: Record<string, OperationAuthorization> = {};
  for (const operation of Object.keys(ECR_PUBLIC_MODEL.operations)) table[operation] = onRepositoryName(`ecr-public:${operation}`);
  return {
    ...table,
    DescribeRegistries: { action: 'ecr-public:DescribeRegistries', resource: 'registry' },
    GetRegistryCatalogData: { action: 'ecr-public:GetRegistryCatalogData', resource: 'registry' },
    PutRegistryCatalogData: { action: 'ecr-public:PutRegistryCatalogData', resource: 'registry' },
    // The token is a bearer token from STS as well.
    GetAuthorizationToken: { action: 'ecr-public:GetAuthorizationToken', resource: '*', additionalActions: [{ action: 'sts:GetServiceBearerToken', resource: '*' }] },
    DescribeRepositories: { ...onRepositoryName('ecr-public:DescribeRepositories'), repositorySource: 'repositoryNames' },
    CreateRepository: { ...onRepositoryName('ecr-public:CreateRepository'), additionalActions: [{ action: 'ecr-public:TagResource', resource: 'operation', whenMember: 'tags' }] },
    TagResource: { ...onRepositoryName('ecr-public:TagResource'), repositorySource: 'resourceArn' },
    UntagResource: { ...onRepositoryName('ecr-public:UntagResource'), repositorySource: 'resourceArn' },
    ListTagsForResource: { ...onRepositoryName('ecr-public:ListTagsForResource'), repositorySource: 'resourceArn' },
  };
}

export const OPERATIONS: Readonly<Record<AwsService, Readonly<Record<string, OperationAuthorization>>>> = {
  ecr: ecrOperations(),
  'ecr-public': ecrPublicOperations(),
};

export const MODELS: Readonly<Record<AwsService, ServiceModel>> = {
  ecr: ECR_MODEL,
  'ecr-public': ECR_PUBLIC_MODEL,
};

/** The service an `X-Amz-Target` prefix addresses, if any. */
export function serviceForTarget(targetPrefix: string): AwsService | undefined {
  return (Object.keys(MODELS) as AwsService[]).find((service) => MODELS[service].targetPrefix === targetPrefix);
}

export interface ResourceLocation {
  region: string;
  accountId: string;
  repositoryName?: string;
}

/** The resource string an operation's action is checked on. */
export function resourceArn(service: AwsService, resource: ResourceKind, location: ResourceLocation): string {
  if (resource === '*') return '*';
  if (service === 'ecr-public') {
    // ECR Public is global: its ARNs have no region.
    return resource === 'registry' ? `arn:aws:ecr-public::${location.accountId}:registry/${location.accountId}` : `arn:aws:ecr-public::${location.accountId}:repository/${requireName(location)}`;
  }
  if (resource === 'registry') throw new RangeError('ECR has no registry resource; its registry-level actions are checked on *');
  return `arn:aws:ecr:${location.region}:${location.accountId}:repository/${requireName(location)}`;
}

function requireName(location: ResourceLocation): string {
  if (location.repositoryName === undefined) throw new RangeError('a repository resource needs a repository name');
  return location.repositoryName;
}
