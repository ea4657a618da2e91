import type { V2Route } from './routes.js';

/**
 * The ECR action each `/v2/` request is authorized as, on the repository it
 * names (as ECR maps them; see docs/architecture.md). `undefined`: the request
 * needs a login but no permission (the version check), or is checked per
 * repository by its handler (the catalog).
 */
export function ecrActionFor(route: V2Route, method: string): string | undefined {
  switch (route.kind) {
    case 'base':
    case 'catalog':
      return undefined;
    case 'tags':
      return 'ecr:ListImages';
    case 'manifest':
      if (method === 'PUT') return 'ecr:PutImage';
      if (method === 'DELETE') return 'ecr:BatchDeleteImage';
      return 'ecr:BatchGetImage';
    case 'blob':
      if (method === 'HEAD') return 'ecr:BatchCheckLayerAvailability';
      if (method === 'DELETE') return 'ecr:BatchDeleteImage';
      return 'ecr:GetDownloadUrlForLayer';
    case 'uploads':
      return 'ecr:InitiateLayerUpload';
    case 'upload':
      return method === 'PUT' ? 'ecr:CompleteLayerUpload' : 'ecr:UploadLayerPart';
    case 'referrers':
      // As ECR authorizes the referrers API: reading manifests.
      return 'ecr:BatchGetImage';
  }
}

/** The action the catalog checks per repository: a repository is listed to those who may describe it. */
export const CATALOG_ACTION = 'ecr:DescribeRepositories';
/** A cross-repository mount reads the blob from its source repository. */
export const MOUNT_SOURCE_ACTION = 'ecr:GetDownloadUrlForLayer';

export function repositoryArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ecr:${region}:${accountId}:repository/${name}`;
}
