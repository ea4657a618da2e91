/**
 * GetLifecyclePolicyPreview's `previewResults` and `summary` (botocore model `ecr` 2015-09-21:
 * LifecyclePolicyPreviewResult, LifecyclePolicyRuleAction, LifecyclePolicyPreviewSummary) from the
 * decisions of evaluateLifecyclePolicy. The API's enums are upper case where the policy document's
 * are lower case. Timestamps stay Dates; the JSON surface writes them as epoch seconds.
 */
import type { LifecycleDecision, LifecycleImage } from './evaluate.js';

export interface LifecyclePreviewResult {
  readonly imageDigest: string;
  readonly imageTags: readonly string[];
  readonly imagePushedAt: Date;
  readonly action: { readonly type: 'EXPIRE' } | { readonly type: 'TRANSITION'; readonly targetStorageClass: 'ARCHIVE' };
  /** Left out for a referrer whose subject is gone, which a run deletes whatever the rules say. */
  readonly appliedRulePriority?: number;
  readonly storageClass: 'STANDARD' | 'ARCHIVE';
}

/**
 * What a run would do to one image: a rule's decision, a referrer that goes with an image a rule
 * expires (that rule's priority), or a referrer whose subject is gone (no rule).
 */
export interface LifecyclePreviewEntry {
  readonly image: LifecycleImage;
  readonly action: LifecycleDecision['action'];
  readonly appliedRulePriority?: number;
}

export interface LifecyclePreviewSummary {
  readonly expiringImageTotalCount: number;
  /** "Only present if at least one image will be transitioned." */
  readonly transitioningImageTotalCounts?: readonly { readonly targetStorageClass: 'ARCHIVE'; readonly imageTotalCount: number }[];
}

export function toPreviewResult({ image, appliedRulePriority, action }: LifecyclePreviewEntry): LifecyclePreviewResult {
  return {
    imageDigest: image.digest,
    imageTags: image.tags,
    imagePushedAt: image.pushedAt,
    action: action.type === 'expire' ? { type: 'EXPIRE' } : { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' },
    ...(appliedRulePriority === undefined ? {} : { appliedRulePriority }),
    storageClass: image.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD',
  };
}

export function previewSummary(entries: readonly LifecyclePreviewEntry[]): LifecyclePreviewSummary {
  const expiring = entries.filter((entry) => entry.action.type === 'expire').length;
  const transitioning = entries.length - expiring;
  return transitioning > 0
    ? { expiringImageTotalCount: expiring, transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: transitioning }] }
    : { expiringImageTotalCount: expiring };
}

/** A preview result as stored: the push time in epoch milliseconds. */
type StoredPreviewResult = Omit<LifecyclePreviewResult, 'imagePushedAt'> & { imagePushedAt: number };

/** Preview results as JSON text, for the metadata store. */
export function serializePreviewResults(results: readonly LifecyclePreviewResult[]): string {
  return JSON.stringify(results.map((result): StoredPreviewResult => ({ ...result, imagePushedAt: result.imagePushedAt.getTime() })));
}

/** The inverse of serializePreviewResults. */
export function parsePreviewResults(text: string): LifecyclePreviewResult[] {
  return (JSON.parse(text) as StoredPreviewResult[]).map((result) => ({ ...result, imagePushedAt: new Date(result.imagePushedAt) }));
}
