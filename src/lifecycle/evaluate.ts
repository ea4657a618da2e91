/**
 * Which images of one repository a lifecycle policy acts on, following "Lifecycle policy
 * evaluation rules" (Amazon ECR User Guide, LifecyclePolicies) and the worked examples in
 * "Examples of lifecycle policies in Amazon ECR". The same result feeds GetLifecyclePolicyPreview
 * and the executor. Pure: no clock, no storage.
 */
import type { LifecyclePolicy, LifecycleRule, RuleAction, RuleSelection, StorageClass, TagFilter } from './policy.js';

export interface LifecycleImage {
  readonly digest: string;
  /** An image with no tags is untagged. */
  readonly tags: readonly string[];
  readonly pushedAt: Date;
  /** ECR's `lastRecordedPullTime`; undefined if the image was never pulled. */
  readonly lastPulledAt?: Date;
  /** True while an image index (manifest list) in the repository that is not archived references it. */
  readonly referencedByIndex: boolean;
  /** Undefined means `standard`. */
  readonly storageClass?: StorageClass;
  /** When the image was last archived; the age `sinceImageTransitioned` measures. */
  readonly lastArchivedAt?: Date;
  /** When the image was last restored from archive, if ever. */
  readonly lastActivatedAt?: Date;
}

export interface LifecycleDecision {
  readonly image: LifecycleImage;
  readonly appliedRulePriority: number;
  readonly action: RuleAction;
}

const DAY_MS = 86_400_000;

function storageClassOf(image: LifecycleImage): StorageClass {
  return image.storageClass ?? 'standard';
}

/** "If an image was archived and then restored ... `last_activated_at` is used instead of `pushed_at_time`." */
function effectivePushTime(image: LifecycleImage): number {
  return (image.lastActivatedAt ?? image.pushedAt).getTime();
}

/**
 * `sinceImagePulled` falls back to the push time for a never-pulled image, and to the restore time
 * for an image not pulled since it was restored.
 */
function effectivePullTime(image: LifecycleImage): number {
  const pulledOrPushed = (image.lastPulledAt ?? image.pushedAt).getTime();
  return Math.max(pulledOrPushed, image.lastActivatedAt?.getTime() ?? Number.NEGATIVE_INFINITY);
}

function wildcardPattern(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((literal) => literal.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/** "An image is successfully matched if all of the tags in the tagPatternList or tagPrefixList value are matched against any of the image's tags." */
function tagFilterMatcher(filter: TagFilter): (tags: readonly string[]) => boolean {
  const tagTests: ((tag: string) => boolean)[] =
    filter.list === 'tagPrefixList'
      ? filter.values.map((prefix) => (tag: string) => tag.startsWith(prefix))
      : filter.values.map((pattern) => {
          const regex = wildcardPattern(pattern);
          return (tag: string) => regex.test(tag);
        });
  return (tags) => tagTests.every((tagTest) => tags.some(tagTest));
}

/**
 * Whether the rule identifies an image: its storage class and tagging requirements, not yet its count.
 * An untagged image never matches a tag list, whose entries each need a matching tag.
 */
function identifies(selection: RuleSelection): (image: LifecycleImage) => boolean {
  const inStorageClass = (image: LifecycleImage) => storageClassOf(image) === selection.storageClass;
  switch (selection.tagStatus) {
    case 'any':
      return inStorageClass;
    case 'untagged':
      return (image) => inStorageClass(image) && image.tags.length === 0;
    case 'tagged': {
      const matches = tagFilterMatcher(selection.tagFilter);
      return (image) => inStorageClass(image) && matches(image.tags);
    }
  }
}

function newestFirst(a: LifecycleImage, b: LifecycleImage): number {
  return effectivePushTime(b) - effectivePushTime(a) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
}

function isOlderThan(time: number | undefined, days: number, now: Date): boolean {
  return time !== undefined && now.getTime() - time > days * DAY_MS;
}

/** The identified images the rule's count criterion marks, oldest first. */
function marked(selection: RuleSelection, identified: readonly LifecycleImage[], now: Date): LifecycleImage[] {
  const byAge = [...identified].sort(newestFirst);
  const { countNumber } = selection;
  let chosen: LifecycleImage[];
  switch (selection.countType) {
    case 'imageCountMoreThan':
      chosen = byAge.slice(countNumber);
      break;
    case 'sinceImagePushed':
      chosen = byAge.filter((image) => isOlderThan(effectivePushTime(image), countNumber, now));
      break;
    case 'sinceImagePulled':
      chosen = byAge.filter((image) => isOlderThan(effectivePullTime(image), countNumber, now));
      break;
    case 'sinceImageTransitioned':
      chosen = byAge.filter((image) => isOlderThan(image.lastArchivedAt?.getTime(), countNumber, now));
      break;
  }
  return chosen.reverse();
}

function byPriority(a: LifecycleRule, b: LifecycleRule): number {
  return a.rulePriority - b.rulePriority;
}

/**
 * Applies the rules lowest `rulePriority` first. Each rule identifies the images that meet its
 * tagging requirements and storage class and marks those its count criterion selects; counts include
 * images earlier rules identified or acted on ("can still identify them as if they haven't been
 * expired"), but a rule never acts on an image an earlier rule identified ("An image that matches the
 * tagging requirements of a rule cannot be expired by a rule with a lower priority"), nor on an image
 * an index still references. So each image gets at most one decision. Decisions come in rule order,
 * oldest image first within a rule.
 */
export function evaluateLifecyclePolicy(policy: LifecyclePolicy, images: readonly LifecycleImage[], now: Date): LifecycleDecision[] {
  const identifiedEarlier = new Set<string>();
  const decisions: LifecycleDecision[] = [];
  for (const rule of [...policy.rules].sort(byPriority)) {
    const identified = images.filter(identifies(rule.selection));
    for (const image of marked(rule.selection, identified, now)) {
      if (identifiedEarlier.has(image.digest) || image.referencedByIndex) continue;
      decisions.push({ image, appliedRulePriority: rule.rulePriority, action: rule.action });
    }
    for (const image of identified) identifiedEarlier.add(image.digest);
  }
  return decisions;
}
