import { randomUUID } from 'node:crypto';
import { MODELS } from '../../aws/operations.js';
import { encodeNextToken, readPageRequest } from '../../aws/pagination.js';
import {
  isLifecyclePolicyError,
  parseLifecyclePolicy,
  parsePreviewResults,
  previewSummary,
  serializePreviewResults,
  toPreviewResult,
  type LifecyclePolicy,
  type LifecyclePreviewResult,
  type LifecyclePreviewSummary,
} from '../../lifecycle/index.js';
import { evaluateRepository, previewEntries } from '../../registry/lifecycle-runner.js';
import type { Repository } from '../../storage/metadata-store.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrCall, EcrHandlers } from './call.js';

type TagStatusFilter = 'TAGGED' | 'UNTAGGED' | 'ANY';

function parsedOrRefused(text: string): LifecyclePolicy {
  try {
    return parseLifecyclePolicy(text);
  } catch (err) {
    if (isLifecyclePolicyError(err)) throw new AwsError(err.awsErrorType, err.message, 400);
    throw err;
  }
}

interface ImageIdentifier {
  imageDigest?: string;
  imageTag?: string;
}

/** An identifier names an image by digest, tag or both; one that names neither matches nothing. */
function identifiedBy(result: LifecyclePreviewResult, id: ImageIdentifier): boolean {
  if (id.imageDigest === undefined && id.imageTag === undefined) return false;
  return (id.imageDigest === undefined || id.imageDigest === result.imageDigest) && (id.imageTag === undefined || result.imageTags.includes(id.imageTag));
}

function matchesTagStatus(result: LifecyclePreviewResult, tagStatus: TagStatusFilter): boolean {
  if (tagStatus === 'ANY') return true;
  return (result.imageTags.length > 0) === (tagStatus === 'TAGGED');
}

/** `lastEvaluatedAt` when a run has evaluated the current policy; omitted (it is optional) until then. */
const lastEvaluated = (repository: Repository): { lastEvaluatedAt?: Date } =>
  repository.lifecycleEvaluatedAt === null ? {} : { lastEvaluatedAt: new Date(repository.lifecycleEvaluatedAt) };

/**
 * Lifecycle policies (ECR): Put/Get/Delete keep the policy text in the repository's settings;
 * a preview is evaluated by the code a run uses (src/registry/lifecycle-runner.ts) and is complete
 * as soon as it is started. The latest preview of each repository is kept in the metadata store,
 * computed once, so that its pages stay consistent while images change and every process of a
 * deployment, after a restart too, serves it.
 */
export function lifecycleHandlers({ metadata, serverKey }: EcrApiDeps): EcrHandlers {

  const existingRepository = async (call: EcrCall) => {
    const address = call.repository as NonNullable<EcrCall['repository']>;
    const repository = await metadata.getRepository(address.qualified);
    if (!repository) throw AwsError.of('NAME_UNKNOWN', `The repository with name '${address.name}' does not exist in the registry with id '${call.registryId}'`);
    return { address, repository };
  };
  const policyNotFound = (name: string, registryId: string): AwsError =>
    new AwsError('LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`, 400);

  return {
    ecr: {
      PutLifecyclePolicy: async (call) => {
        const lifecyclePolicyText = call.input.lifecyclePolicyText as string;
        const { address, repository } = await existingRepository(call);
        parsedOrRefused(lifecyclePolicyText);
        await metadata.updateRepositorySettings(repository.id, { lifecyclePolicy: lifecyclePolicyText });
        return { registryId: call.registryId, repositoryName: address.name, lifecyclePolicyText };
      },
      GetLifecyclePolicy: async (call) => {
        const { address, repository } = await existingRepository(call);
        const lifecyclePolicyText = repository.settings.lifecyclePolicy;
        if (lifecyclePolicyText === null) throw policyNotFound(address.name, call.registryId);
        return { registryId: call.registryId, repositoryName: address.name, lifecyclePolicyText, ...lastEvaluated(repository) };
      },
      DeleteLifecyclePolicy: async (call) => {
        const { address, repository } = await existingRepository(call);
        const lifecyclePolicyText = repository.settings.lifecyclePolicy;
        if (lifecyclePolicyText === null) throw policyNotFound(address.name, call.registryId);
        await metadata.updateRepositorySettings(repository.id, { lifecyclePolicy: null });
        return { registryId: call.registryId, repositoryName: address.name, lifecyclePolicyText, ...lastEvaluated(repository) };
      },
      StartLifecyclePolicyPreview: async (call) => {
        const { address, repository } = await existingRepository(call);
        const given = call.input.lifecyclePolicyText as string | undefined;
        const lifecyclePolicyText = given ?? repository.settings.lifecyclePolicy;
        if (lifecyclePolicyText === null) throw policyNotFound(address.name, call.registryId);
        const policy = parsedOrRefused(lifecyclePolicyText);
        const startedAt = Date.now();
        const entries = previewEntries(await evaluateRepository(metadata, repository.id, policy, new Date(startedAt)));
        await metadata.putLifecyclePreview({
          repositoryId: repository.id,
          previewId: randomUUID(),
          startedAt,
          policyText: lifecyclePolicyText,
          status: 'COMPLETE',
          results: serializePreviewResults(entries.map(toPreviewResult)),
          summary: JSON.stringify(previewSummary(entries)),
        });
        return { registryId: call.registryId, repositoryName: address.name, lifecyclePolicyText, status: 'COMPLETE' };
      },
      GetLifecyclePolicyPreview: async (call) => {
        const { address, repository } = await existingRepository(call);
        const preview = await metadata.getLifecyclePreview(repository.id);
        if (!preview) {
          throw new AwsError(
            'LifecyclePolicyPreviewNotFoundException',
            `There is no dry run for the repository with name '${address.name}' in the registry with id '${call.registryId}'`,
            400,
          );
        }
        const imageIds = call.input.imageIds as ImageIdentifier[] | undefined;
        if (imageIds !== undefined && (call.input.nextToken !== undefined || call.input.maxResults !== undefined)) {
          throw AwsError.of('INVALID_PARAMETER', "Invalid parameter at 'imageIds' failed to satisfy constraint: 'cannot be combined with nextToken or maxResults'");
        }
        const tagStatus = (call.input.filter as { tagStatus?: TagStatusFilter } | undefined)?.tagStatus ?? 'ANY';
        const selected = parsePreviewResults(preview.results).filter((result) => matchesTagStatus(result, tagStatus) && (imageIds === undefined || imageIds.some((id) => identifiedBy(result, id))));
        const scope = JSON.stringify([call.service, call.operation, call.registryId, address.name, preview.previewId, tagStatus]);
        const page = readPageRequest(MODELS[call.service], call.operation, call.input, serverKey.apiSigningKey, scope);
        if (!page.ok) throw new AwsError(page.error.type, page.error.message, 400);
        const start = typeof page.position === 'number' ? page.position : 0;
        const shown = imageIds === undefined ? selected.slice(start, start + page.limit) : selected;
        const end = start + shown.length;
        return {
          registryId: call.registryId,
          repositoryName: address.name,
          lifecyclePolicyText: preview.policyText,
          status: preview.status,
          previewResults: shown,
          summary: JSON.parse(preview.summary) as LifecyclePreviewSummary,
          ...(imageIds === undefined && end < selected.length ? { nextToken: encodeNextToken(serverKey.apiSigningKey, scope, end) } : {}),
        };
      },
    },
  };
}
