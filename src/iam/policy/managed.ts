/**
 * The four AWS-managed ECR policies (ecr.md §5.3), with the documents published in the AWS Managed
 * Policy Reference (docs.aws.amazon.com/aws-managed-policy/latest/reference/<Name>.html):
 * FullAccess v3, PowerUser v3 (2019-12-10), ReadOnly v3 (2019-12-10), PullOnly v1 (2024-10-04).
 */

import { compilePolicy, type Policy } from './parse.js';

export interface ManagedPolicy {
  readonly name: string;
  readonly arn: string;
  readonly versionId: string;
  readonly description: string;
  /** The JSON policy document exactly as AWS publishes it. */
  readonly document: Readonly<Record<string, unknown>>;
  /** The compiled identity policy (named with its ARN). */
  readonly policy: Policy;
}

const READ_ONLY_ACTIONS = [
  'ecr:GetAuthorizationToken',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:GetRepositoryPolicy',
  'ecr:DescribeRepositories',
  'ecr:ListImages',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:GetLifecyclePolicy',
  'ecr:GetLifecyclePolicyPreview',
  'ecr:ListTagsForResource',
  'ecr:DescribeImageScanFindings',
];

function managed(name: string, versionId: string, description: string, document: Record<string, unknown>): ManagedPolicy {
  const arn = `arn:aws:iam::aws:policy/${name}`;
  return { name, arn, versionId, description, document, policy: compilePolicy(document, { kind: 'identity', name: arn }) };
}

export const AmazonEC2ContainerRegistryFullAccess: ManagedPolicy = managed(
  'AmazonEC2ContainerRegistryFullAccess',
  'v3',
  'Provides administrative access to Amazon ECR resources',
  {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['ecr:*', 'cloudtrail:LookupEvents'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: '*',
        Condition: { StringEquals: { 'iam:AWSServiceName': ['replication.ecr.amazonaws.com'] } },
      },
    ],
  },
);

export const AmazonEC2ContainerRegistryPowerUser: ManagedPolicy = managed(
  'AmazonEC2ContainerRegistryPowerUser',
  'v3',
  'Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.',
  {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [...READ_ONLY_ACTIONS, 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],
        Resource: '*',
      },
    ],
  },
);

export const AmazonEC2ContainerRegistryReadOnly: ManagedPolicy = managed(
  'AmazonEC2ContainerRegistryReadOnly',
  'v3',
  'Provides read-only access to Amazon EC2 Container Registry repositories.',
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [...READ_ONLY_ACTIONS], Resource: '*' }] },
);

export const AmazonEC2ContainerRegistryPullOnly: ManagedPolicy = managed(
  'AmazonEC2ContainerRegistryPullOnly',
  'v1',
  'Provides access to pull images from Amazon EC2 Container Registry repositories.',
  {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchImportUpstreamImage'],
        Resource: '*',
      },
    ],
  },
);

/** The four managed ECR policies, keyed by ARN. */
export const AWS_MANAGED_ECR_POLICIES: ReadonlyMap<string, ManagedPolicy> = new Map(
  [AmazonEC2ContainerRegistryFullAccess, AmazonEC2ContainerRegistryPowerUser, AmazonEC2ContainerRegistryReadOnly, AmazonEC2ContainerRegistryPullOnly].map(
    (p) => [p.arn, p],
  ),
);

/** Look up a managed ECR policy by ARN or name. */
export function getManagedPolicy(arnOrName: string): ManagedPolicy | undefined {
  return AWS_MANAGED_ECR_POLICIES.get(arnOrName) ?? AWS_MANAGED_ECR_POLICIES.get(`arn:aws:iam::aws:policy/${arnOrName}`);
}
