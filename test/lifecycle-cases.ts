/**
 * The lifecycle policy case table, shared by the unit test (test/lifecycle.test.ts) and, later, by
 * the tests that drive PutLifecyclePolicy, GetLifecyclePolicyPreview and the executor over HTTP.
 * Each case cites the AWS documentation it checks in `source`.
 *
 * Images are named, and their times are ages before `NOW`, so an HTTP test can push them (children
 * of an index through that index) under a clock set to `NOW` minus the age. `expected` lists the
 * decisions in evaluation order: by rule priority, oldest image first within a rule.
 */
import { createHash } from 'node:crypto';
import type { LifecycleImage, StorageClass } from '../src/lifecycle/index.js';

export const DOCS = {
  properties: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html',
  evaluation: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html#lp_evaluation_rules',
  examples: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html',
  quotas: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html',
  /** Real InvalidParameterException messages quoted in public issue threads. */
  observed: 'https://github.com/cloudposse/terraform-aws-ecr/issues/158',
} as const;

export const NOW = new Date('2026-06-15T12:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface CaseImage {
  readonly name: string;
  readonly tags?: readonly string[];
  /** Milliseconds before NOW. */
  readonly pushedAgo: number;
  readonly pulledAgo?: number;
  /** The name of an image index in the same case that references this image. */
  readonly childOf?: string;
  readonly storageClass?: StorageClass;
  readonly archivedAgo?: number;
  readonly activatedAgo?: number;
}

export interface ExpectedDecision {
  readonly image: string;
  readonly rulePriority: number;
  readonly action: 'expire' | 'transition';
}

export interface EvaluationCase {
  readonly name: string;
  readonly source: string;
  /** The policy document; `JSON.stringify` it for `lifecyclePolicyText`. */
  readonly policy: PolicyDocument;
  readonly images: readonly CaseImage[];
  readonly expected: readonly ExpectedDecision[];
}

export interface InvalidPolicyCase {
  readonly name: string;
  readonly source: string;
  readonly policyText: string;
  /** The whole InvalidParameterException message. */
  readonly message: string;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export interface PolicyDocument {
  readonly rules: Json[];
}

/** A stable digest per image name, for tests that do not push real manifests. */
export function digestOf(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

const ago = (ms: number | undefined, now: Date): Date | undefined => (ms === undefined ? undefined : new Date(now.getTime() - ms));

/** The case's images as evaluateLifecyclePolicy takes them. An archived index no longer protects its children. */
export function lifecycleImages(images: readonly CaseImage[], now: Date = NOW): LifecycleImage[] {
  const activeIndexes = new Set(images.filter((image) => image.storageClass !== 'archive').map((image) => image.name));
  return images.map(
    (image): LifecycleImage => ({
      digest: digestOf(image.name),
      tags: image.tags ?? [],
      pushedAt: new Date(now.getTime() - image.pushedAgo),
      lastPulledAt: ago(image.pulledAgo, now),
      referencedByIndex: image.childOf !== undefined && activeIndexes.has(image.childOf),
      storageClass: image.storageClass,
      lastArchivedAt: ago(image.archivedAgo, now),
      lastActivatedAt: ago(image.activatedAgo, now),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

const EXPIRE = { type: 'expire' };
const ARCHIVE = { type: 'transition', targetStorageClass: 'archive' };

function rule(rulePriority: number, selection: { [key: string]: Json }, action: { [key: string]: Json } = EXPIRE): Json {
  return { rulePriority, description: `Rule ${rulePriority}`, selection, action };
}
const policy = (...rules: Json[]): PolicyDocument => ({ rules });

const countMoreThan = (countNumber: number, tags: { [key: string]: Json } = { tagStatus: 'any' }) => ({ ...tags, countType: 'imageCountMoreThan', countNumber });
const since = (countType: string, countNumber: number, tags: { [key: string]: Json } = { tagStatus: 'any' }) => ({ ...tags, countType, countUnit: 'days', countNumber });
const prefixes = (...tagPrefixList: string[]) => ({ tagStatus: 'tagged', tagPrefixList });
const patterns = (...tagPatternList: string[]) => ({ tagStatus: 'tagged', tagPatternList });
const UNTAGGED = { tagStatus: 'untagged' };
const ARCHIVED = { tagStatus: 'any', storageClass: 'archive' };

const img = (name: string, pushedAgo: number, tags: string[] = [], extra: Partial<CaseImage> = {}): CaseImage => ({ name, tags, pushedAgo, ...extra });
const expired = (image: string, rulePriority: number): ExpectedDecision => ({ image, rulePriority, action: 'expire' });
const archived = (image: string, rulePriority: number): ExpectedDecision => ({ image, rulePriority, action: 'transition' });

/** The repository of the doc's "Filtering on multiple rules" examples. */
const BETA_PROD_REPOSITORY = [
  img('A', 10 * DAY, ['beta-1', 'prod-1']),
  img('B', 9 * DAY, ['beta-2', 'prod-2']),
  img('C', 8 * DAY, ['beta-3']),
];

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

export const EVALUATION_CASES: readonly EvaluationCase[] = [
  // The worked examples of "Examples of lifecycle policies in Amazon ECR", as given there.
  {
    name: 'Filtering on image age: prod* images older than 14 days expire',
    source: `${DOCS.examples} "Filtering on image age"`,
    policy: policy(rule(1, since('sinceImagePushed', 14, patterns('prod*')))),
    images: [img('old-prod', 20 * DAY, ['prod-1']), img('new-prod', 10 * DAY, ['prod-2']), img('old-dev', 30 * DAY, ['dev-1'])],
    expected: [expired('old-prod', 1)],
  },
  {
    name: 'Filtering on image count: keep only one untagged image',
    source: `${DOCS.examples} "Filtering on image count"`,
    policy: policy(rule(1, countMoreThan(1, UNTAGGED))),
    images: [img('u1', 3 * DAY), img('u2', 2 * DAY), img('u3', 1 * DAY), img('t1', 5 * DAY, ['v1'])],
    expected: [expired('u1', 1), expired('u2', 1)],
  },
  {
    name: 'Multiple rules, Example A: prod* then beta*; an image rule 1 identified is skipped by rule 2',
    source: `${DOCS.examples} "Filtering on multiple rules", Example A`,
    policy: policy(rule(1, countMoreThan(1, patterns('prod*'))), rule(2, countMoreThan(1, patterns('beta*')))),
    images: BETA_PROD_REPOSITORY,
    expected: [expired('A', 1)],
  },
  {
    name: 'Multiple rules, Example B: beta* then prod*; rule 2 sees only images rule 1 already saw',
    source: `${DOCS.examples} "Filtering on multiple rules", Example B`,
    policy: policy(rule(1, countMoreThan(1, patterns('beta*'))), rule(2, countMoreThan(1, patterns('prod*')))),
    images: BETA_PROD_REPOSITORY,
    expected: [expired('A', 1), expired('B', 1)],
  },
  {
    name: 'Multiple rules, Example A with tagPrefixList (the guide\'s earlier form of the example)',
    source: `${DOCS.examples} "Filtering on multiple rules", Example A (tagPrefixList ["prod"] / ["beta"])`,
    policy: policy(rule(1, countMoreThan(1, prefixes('prod'))), rule(2, countMoreThan(1, prefixes('beta')))),
    images: BETA_PROD_REPOSITORY,
    expected: [expired('A', 1)],
  },
  {
    name: 'Multiple tag patterns in one rule: an image must match all of them',
    source: `${DOCS.examples} "Filtering on multiple tags in a single rule", Example A`,
    policy: policy(rule(1, since('sinceImagePushed', 5, patterns('alpha*', 'beta*')))),
    images: [
      img('A', 12 * DAY, ['alpha-1']),
      img('B', 11 * DAY, ['beta-1']),
      img('C', 10 * DAY, ['alpha-2', 'beta-2']),
      img('D', 4 * DAY, ['alpha-3']),
      img('E', 3 * DAY, ['beta-3']),
      img('F', 2 * DAY, ['alpha-4', 'beta-4']),
    ],
    expected: [expired('C', 1)],
  },
  {
    name: 'Multiple tag patterns in one rule: tags are not exclusive (extra tags do not matter)',
    source: `${DOCS.examples} "Filtering on multiple tags in a single rule", Example B`,
    policy: policy(rule(1, countMoreThan(1, patterns('alpha*', 'beta*')))),
    images: [
      img('A', 10 * DAY, ['alpha-1', 'beta-1', 'gamma-1']),
      img('B', 9 * DAY, ['alpha-2', 'beta-2']),
      img('C', 8 * DAY, ['alpha-3', 'beta-3', 'gamma-2']),
    ],
    expected: [expired('A', 1), expired('B', 1)],
  },
  {
    name: 'All images: tagStatus any keeps the newest image of every kind',
    source: `${DOCS.examples} "Filtering on all images", Example A`,
    policy: policy(rule(1, countMoreThan(1))),
    images: [img('A', 4 * DAY, ['alpha-1']), img('B', 3 * DAY, ['beta-1']), img('C', 2 * DAY), img('D', 1 * DAY, ['alpha-2'])],
    expected: [expired('A', 1), expired('B', 1), expired('C', 1)],
  },
  {
    // The guide gives D and E the same age ("1 day ago") and keeps E, so E is the newer one here.
    name: 'All images: tagged, untagged and any rules together; the any rule counts images earlier rules identified',
    source: `${DOCS.examples} "Filtering on all images", Example B`,
    policy: policy(rule(1, countMoreThan(1, patterns('alpha*'))), rule(2, since('sinceImagePushed', 1, UNTAGGED)), rule(3, countMoreThan(1))),
    images: [
      img('A', 4 * DAY, ['alpha-1', 'beta-1']),
      img('B', 3 * DAY),
      img('C', 2 * DAY, ['alpha-2']),
      img('D', 23 * HOUR, ['git hash']),
      img('E', 22 * HOUR),
    ],
    expected: [expired('A', 1), expired('B', 2), expired('D', 3)],
  },
  {
    name: 'Combining archive and expire rules: transition standard images, expire long-archived ones',
    source: `${DOCS.examples} "Combining archive and expire rules"`,
    policy: policy(rule(1, since('sinceImagePushed', 30), ARCHIVE), rule(2, since('sinceImageTransitioned', 365, ARCHIVED))),
    images: [
      img('fresh', 10 * DAY, ['v3']),
      img('stale', 40 * DAY, ['v2']),
      img('archived-long', 800 * DAY, ['v0'], { storageClass: 'archive', archivedAgo: 400 * DAY }),
      img('archived-recently', 500 * DAY, ['v1'], { storageClass: 'archive', archivedAgo: 100 * DAY }),
    ],
    expected: [archived('stale', 1), expired('archived-long', 2)],
  },

  // Selection: tagStatus, tagPrefixList and tagPatternList.
  {
    name: 'tagPrefixList: an image matches when any of its tags starts with the prefix',
    source: `${DOCS.properties} "Tag prefix list"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, prefixes('prod')))),
    images: [img('mixed', 10 * DAY, ['latest', 'prod-3']), img('prod-only', 9 * DAY, ['prod']), img('other', 9 * DAY, ['dev'])],
    expected: [expired('mixed', 1), expired('prod-only', 1)],
  },
  {
    name: 'tagPrefixList: a prefix matches the start of a tag only, not inside it',
    source: `${DOCS.properties} "Tag prefix list"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, prefixes('prod')))),
    images: [img('preprod', 10 * DAY, ['preprod-1']), img('prod', 10 * DAY, ['production'])],
    expected: [expired('prod', 1)],
  },
  {
    name: 'tagPrefixList with several prefixes: each prefix must match one of the image\'s tags',
    source: `${DOCS.evaluation} "all of the tags in the tagPatternList or tagPrefixList value are matched against any of the image's tags"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, prefixes('prod', 'v')))),
    images: [img('both', 10 * DAY, ['prod-1', 'v1.0']), img('prod-only', 10 * DAY, ['prod-2']), img('v-only', 10 * DAY, ['v2.0'])],
    expected: [expired('both', 1)],
  },
  {
    name: 'tagPatternList without a wildcard matches the whole tag exactly',
    source: `${DOCS.evaluation} "When using tagPatternList, an image is successfully matched if it matches the wildcard filter"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, patterns('latest')))),
    images: [img('latest', 10 * DAY, ['latest']), img('latest-1', 10 * DAY, ['latest-1']), img('not-latest', 10 * DAY, ['my-latest'])],
    expected: [expired('latest', 1)],
  },
  {
    name: 'tagPatternList *prod* matches tags that contain prod',
    source: `${DOCS.evaluation} "if a filter of *prod* is applied, it would match image-tags whose name contains prod"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, patterns('*prod*')))),
    images: [img('repo-production', 10 * DAY, ['repo-production']), img('prod-team', 11 * DAY, ['prod-team']), img('prd', 12 * DAY, ['prd-1'])],
    expected: [expired('prod-team', 1), expired('repo-production', 1)],
  },
  {
    name: 'tagPatternList with wildcards in the middle: v*-rc* needs both parts in order',
    source: `${DOCS.properties} "Tag pattern list"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, patterns('v*-rc*')))),
    images: [img('rc', 10 * DAY, ['v1.2-rc3']), img('release', 10 * DAY, ['v1.2']), img('reversed', 10 * DAY, ['rc-v1'])],
    expected: [expired('rc', 1)],
  },
  {
    name: 'tagPatternList characters other than * are literal: v1.2* does not match v102',
    source: `${DOCS.evaluation} "if a filter of prod* is applied, it would match image-tags whose name begins with prod"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, patterns('v1.2*')))),
    images: [img('dotted', 10 * DAY, ['v1.2.3']), img('undotted', 9 * DAY, ['v102'])],
    expected: [expired('dotted', 1)],
  },
  {
    name: 'tagPatternList with four wildcards (the documented maximum) matches',
    source: `${DOCS.properties} "Tag pattern list": ["*test*1*2*3", "test*1*2*3*"] is valid`,
    policy: policy(rule(1, since('sinceImagePushed', 7, patterns('*test*1*2*3')))),
    images: [img('match', 10 * DAY, ['my-test-1-2-3']), img('no-match', 10 * DAY, ['my-test-1-2-3-4x'])],
    expected: [expired('match', 1)],
  },
  {
    name: 'tagPatternList * selects every tagged image and no untagged one',
    source: `${DOCS.properties} "Tag status" and "Tag pattern list"`,
    policy: policy(rule(1, countMoreThan(1, patterns('*')))),
    images: [img('t1', 5 * DAY, ['a']), img('t2', 4 * DAY, ['b']), img('u1', 6 * DAY)],
    expected: [expired('t1', 1)],
  },
  {
    name: 'tagStatus untagged selects only images without tags',
    source: `${DOCS.properties} "Tag status"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, UNTAGGED))),
    images: [img('untagged', 10 * DAY), img('tagged', 10 * DAY, ['v1'])],
    expected: [expired('untagged', 1)],
  },
  {
    name: 'tagStatus any selects tagged and untagged images alike',
    source: `${DOCS.properties} "Tag status": "If you specify any, then all images have the rule evaluated against them"`,
    policy: policy(rule(1, since('sinceImagePushed', 7))),
    images: [img('untagged', 10 * DAY), img('tagged', 9 * DAY, ['v1']), img('young', 1 * DAY, ['v2'])],
    expected: [expired('untagged', 1), expired('tagged', 1)],
  },

  // countType and its boundaries.
  {
    name: 'imageCountMoreThan with exactly countNumber images expires nothing',
    source: `${DOCS.evaluation} "all images greater than the specified count are expired"`,
    policy: policy(rule(1, countMoreThan(3))),
    images: [img('a', 3 * DAY), img('b', 2 * DAY), img('c', 1 * DAY)],
    expected: [],
  },
  {
    name: 'imageCountMoreThan with one image more than countNumber expires the oldest',
    source: `${DOCS.evaluation} "images are sorted from youngest to oldest based on pushed_at_time"`,
    policy: policy(rule(1, countMoreThan(3))),
    images: [img('b', 3 * DAY), img('a', 4 * DAY), img('d', 1 * DAY), img('c', 2 * DAY)],
    expected: [expired('a', 1)],
  },
  {
    name: 'sinceImagePushed: an image exactly countNumber days old is not yet older than the limit',
    source: `${DOCS.evaluation} "all images whose pushed_at_time is older than the specified number of days"`,
    policy: policy(rule(1, since('sinceImagePushed', 14))),
    images: [img('exactly-14-days', 14 * DAY), img('one-ms-older', 14 * DAY + 1)],
    expected: [expired('one-ms-older', 1)],
  },
  {
    name: 'sinceImagePulled: the last pull time decides, not the push time',
    source: `${DOCS.evaluation} "all images whose last_recorded_pulltime is older than the specified number of days ... are archived"`,
    policy: policy(rule(1, since('sinceImagePulled', 90), ARCHIVE)),
    images: [img('pulled-recently', 400 * DAY, ['v1'], { pulledAgo: 10 * DAY }), img('pulled-long-ago', 400 * DAY, ['v2'], { pulledAgo: 100 * DAY })],
    expected: [archived('pulled-long-ago', 1)],
  },
  {
    name: 'sinceImagePulled: a never-pulled image is judged by its push time',
    source: `${DOCS.evaluation} "If an image was never pulled, the image's pushed_at_time is used instead"`,
    policy: policy(rule(1, since('sinceImagePulled', 90), ARCHIVE)),
    images: [img('old-never-pulled', 100 * DAY, ['v1']), img('new-never-pulled', 10 * DAY, ['v2'])],
    expected: [archived('old-never-pulled', 1)],
  },
  {
    name: 'sinceImagePulled: pulled exactly countNumber days ago is kept',
    source: `${DOCS.evaluation} "older than the specified number of days"`,
    policy: policy(rule(1, since('sinceImagePulled', 90), ARCHIVE)),
    images: [img('exactly-90', 300 * DAY, ['v1'], { pulledAgo: 90 * DAY }), img('just-over-90', 300 * DAY, ['v2'], { pulledAgo: 90 * DAY + 1 })],
    expected: [archived('just-over-90', 1)],
  },
  {
    name: 'sinceImagePulled: a restored image not pulled since is judged by its restore time',
    source: `${DOCS.evaluation} "restored ... but never pulled since the image was restored, the image's last_activated_at is used"`,
    policy: policy(rule(1, since('sinceImagePulled', 30), ARCHIVE)),
    images: [
      img('restored-recently', 400 * DAY, ['v1'], { pulledAgo: 300 * DAY, activatedAgo: 5 * DAY }),
      img('restored-long-ago', 400 * DAY, ['v2'], { pulledAgo: 300 * DAY, activatedAgo: 60 * DAY }),
    ],
    expected: [archived('restored-long-ago', 1)],
  },
  {
    // Berth's reading: the restore time stands in for the push time in sinceImagePushed too.
    name: 'sinceImagePushed: a restored image is aged from its restore time',
    source: `${DOCS.evaluation} "If an image was archived and then restored at any point in the past, the image's last_activated_at is used instead of pushed_at_time"`,
    policy: policy(rule(1, since('sinceImagePushed', 30), ARCHIVE)),
    images: [img('restored', 100 * DAY, ['v1'], { activatedAgo: 5 * DAY }), img('never-archived', 100 * DAY, ['v2'])],
    expected: [archived('never-archived', 1)],
  },
  {
    name: 'sinceImageTransitioned: archived images expire by time in archive; standard images are not selected',
    source: `${DOCS.evaluation} "all archived images whose last_archived_at is older than the specified number of days ... are expired"`,
    policy: policy(rule(1, since('sinceImageTransitioned', 90, ARCHIVED))),
    images: [
      img('archived-100-days', 500 * DAY, ['v1'], { storageClass: 'archive', archivedAgo: 100 * DAY }),
      img('archived-30-days', 500 * DAY, ['v2'], { storageClass: 'archive', archivedAgo: 30 * DAY }),
      img('standard-old', 500 * DAY, ['v3']),
    ],
    expected: [expired('archived-100-days', 1)],
  },
  {
    name: 'Rules of the standard class neither count nor act on archived images',
    source: `${DOCS.properties} "Storage class": "The rule will only select images of this storage class ... If you omit this, the value of standard will be used"`,
    policy: policy(rule(1, countMoreThan(1))),
    images: [img('s-old', 10 * DAY, ['a']), img('s-new', 5 * DAY, ['b']), img('archived-newest', 1 * DAY, ['c'], { storageClass: 'archive', archivedAgo: 1 * HOUR })],
    expected: [expired('s-old', 1)],
  },
  {
    name: 'Archiving by push age with a tag pattern',
    source: `${DOCS.examples} "Archiving images older than a specified number of days"`,
    policy: policy(rule(1, since('sinceImagePushed', 30, patterns('prod*')), ARCHIVE)),
    images: [img('prod-old', 31 * DAY, ['prod-1']), img('prod-new', 29 * DAY, ['prod-2']), img('dev-old', 31 * DAY, ['dev-1'])],
    expected: [archived('prod-old', 1)],
  },

  // Priority interactions.
  {
    name: 'An image a higher-priority rule identifies but keeps is protected from lower-priority rules',
    source: `${DOCS.evaluation} "An image that matches the tagging requirements of a rule cannot be expired or archived by a rule with a lower priority"`,
    policy: policy(rule(1, countMoreThan(9999, prefixes('release-'))), rule(2, since('sinceImagePushed', 30))),
    images: [img('release-old', 400 * DAY, ['release-1.0']), img('branch-old', 400 * DAY, ['feature-x']), img('branch-new', 3 * DAY, ['feature-y'])],
    expected: [expired('branch-old', 2)],
  },
  {
    name: 'Later rules count images earlier rules identified, as if they had not been expired',
    source: `${DOCS.evaluation} "Rules can never mark images that are marked by higher priority rules, but can still identify them as if they haven't been expired"`,
    policy: policy(rule(1, since('sinceImagePushed', 5, prefixes('tmp-'))), rule(2, countMoreThan(2))),
    images: [img('tmp-new', 1 * DAY, ['tmp-2']), img('tmp-old', 10 * DAY, ['tmp-1']), img('u-new', 3 * DAY), img('u-old', 20 * DAY)],
    expected: [expired('tmp-old', 1), expired('u-old', 2)],
  },
  {
    name: 'Rules apply by rulePriority value, not by their order in the document; priorities need not be sequential',
    source: `${DOCS.properties} "Rule priority": "Sets the order in which rules are applied, lowest to highest ... Values don't need to be sequential"`,
    policy: policy(rule(20, countMoreThan(1, patterns('beta*'))), rule(10, countMoreThan(1, patterns('prod*')))),
    images: BETA_PROD_REPOSITORY,
    expected: [expired('A', 10)],
  },
  {
    name: 'An image is acted on by at most one rule: a transition rule wins over a later expire rule',
    source: `${DOCS.evaluation} "An image is expired or archived by exactly one or zero rules"`,
    policy: policy(rule(1, since('sinceImagePushed', 30, prefixes('v')), ARCHIVE), rule(2, countMoreThan(1))),
    images: [img('v-old', 60 * DAY, ['v1']), img('v-new', 40 * DAY, ['v2']), img('other-old', 50 * DAY, ['x']), img('other-new', 1 * DAY, ['y'])],
    expected: [archived('v-old', 1), archived('v-new', 1), expired('other-old', 2)],
  },

  // Images referenced by an index (manifest list).
  {
    name: 'Images an index references are kept even when their rule marks them',
    source: `${DOCS.evaluation} "If an image is referenced by a manifest list, it cannot be expired or archived without the manifest list being deleted or archived first"`,
    policy: policy(rule(1, since('sinceImagePushed', 1, UNTAGGED))),
    images: [
      img('index', 5 * DAY, ['v1']),
      img('amd64', 5 * DAY + HOUR, [], { childOf: 'index' }),
      img('arm64', 5 * DAY + HOUR, [], { childOf: 'index' }),
      img('standalone', 30 * DAY),
    ],
    expected: [expired('standalone', 1)],
  },
  {
    name: 'An index that expires keeps its children for this run; they go once it is deleted',
    source: `${DOCS.evaluation} "cannot be expired or archived without the manifest list being deleted or archived first"`,
    policy: policy(rule(1, since('sinceImagePushed', 7))),
    images: [img('index', 10 * DAY, ['v1']), img('amd64', 10 * DAY + HOUR, [], { childOf: 'index' }), img('arm64', 10 * DAY + HOUR, [], { childOf: 'index' })],
    expected: [expired('index', 1)],
  },
  {
    name: 'Children of an archived index are no longer protected',
    source: `${DOCS.evaluation} "... without the manifest list being deleted or archived first"`,
    policy: policy(rule(1, since('sinceImagePushed', 7, UNTAGGED))),
    images: [
      img('index', 200 * DAY, ['v1'], { storageClass: 'archive', archivedAgo: 10 * DAY }),
      img('amd64', 200 * DAY, [], { childOf: 'index' }),
    ],
    expected: [expired('amd64', 1)],
  },
  {
    // Berth's reading: kept children are identified like any image, so they count for imageCountMoreThan.
    name: 'Children an index keeps still count toward imageCountMoreThan',
    source: `${DOCS.evaluation} "can still identify them as if they haven't been expired" with "cannot be expired ... without the manifest list being deleted"`,
    policy: policy(rule(1, countMoreThan(2, UNTAGGED))),
    images: [
      img('index', 2 * DAY, ['v1']),
      img('amd64', 2 * DAY + HOUR, [], { childOf: 'index' }),
      img('arm64', 2 * DAY + 2 * HOUR, [], { childOf: 'index' }),
      img('old-1', 10 * DAY),
      img('old-2', 20 * DAY),
    ],
    expected: [expired('old-2', 1), expired('old-1', 1)],
  },
  {
    name: 'An empty repository yields no decisions',
    source: DOCS.evaluation,
    policy: policy(rule(1, countMoreThan(1))),
    images: [],
    expected: [],
  },
];

// ---------------------------------------------------------------------------------------------
// Documents ECR accepts
// ---------------------------------------------------------------------------------------------

export const ACCEPTED_POLICIES: readonly { readonly name: string; readonly source: string; readonly policy: PolicyDocument }[] = [
  {
    name: 'patterns with at most four wildcards each',
    source: `${DOCS.properties} "Tag pattern list": ["*test*1*2*3", "test*1*2*3*"] is valid`,
    policy: policy(rule(1, countMoreThan(1, patterns('*test*1*2*3', 'test*1*2*3*')))),
  },
  {
    name: 'a tagStatus any rule last in each storage class',
    source: `${DOCS.examples} "Combining archive and expire rules"`,
    policy: policy(rule(1, since('sinceImagePushed', 30), ARCHIVE), rule(2, since('sinceImageTransitioned', 365, ARCHIVED))),
  },
  {
    name: 'one untagged rule per storage class',
    source: `${DOCS.evaluation} "Only one rule selecting a specific storage class is allowed to select untagged images"`,
    policy: policy(rule(1, since('sinceImagePushed', 30, UNTAGGED), ARCHIVE), rule(2, since('sinceImageTransitioned', 90, { tagStatus: 'untagged', storageClass: 'archive' }))),
  },
  {
    name: 'pattern and prefix lists in different rules, overlapping but different prefix sets',
    source: `${DOCS.evaluation} "a lifecycle policy may contain multiple rules where different rules use both pattern and prefix lists"`,
    policy: policy(rule(1, countMoreThan(5, prefixes('prod', 'v'))), rule(2, countMoreThan(5, prefixes('prod'))), rule(3, countMoreThan(5, patterns('prod*')))),
  },
  {
    name: 'an explicit storageClass standard and no description',
    source: `${DOCS.properties} "Storage class" and "Description" (optional)`,
    policy: { rules: [{ rulePriority: 3, selection: { tagStatus: 'any', storageClass: 'standard', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] },
  },
];

// ---------------------------------------------------------------------------------------------
// Documents ECR refuses
// ---------------------------------------------------------------------------------------------

const failure = (reason: string): string =>
  `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${reason}'`;
const text = (...rules: Json[]): string => JSON.stringify({ rules });
const ONE_SCHEMA = 'instance failed to match exactly one schema (matched 0 out of 2)';
const validSelection = countMoreThan(1);

export const INVALID_POLICY_CASES: readonly InvalidPolicyCase[] = [
  {
    name: 'not JSON',
    source: `${DOCS.evaluation} "The lifecycle policy evaluator is responsible for parsing the plaintext JSON"`,
    policyText: 'rules: keep 10',
    message: failure('Could not map policyString into LifecyclePolicy.'),
  },
  {
    name: 'a JSON array instead of an object',
    source: `${DOCS.examples} "Lifecycle policy template"`,
    policyText: JSON.stringify([rule(1, validSelection)]),
    message: failure('Could not map policyString into LifecyclePolicy.'),
  },
  {
    name: 'no rules',
    source: `${DOCS.examples} "Lifecycle policy template"`,
    policyText: JSON.stringify({ rule: [] }),
    message: failure('object has missing required properties (["rules"])'),
  },
  {
    name: 'rules is an object',
    source: `${DOCS.examples} "Lifecycle policy template"`,
    policyText: JSON.stringify({ rules: rule(1, validSelection) }),
    message: failure('instance type (object) does not match any allowed primitive type (allowed: ["array"])'),
  },
  {
    name: 'an empty rules array',
    source: `${DOCS.evaluation} "A lifecycle policy consists of one or more rules"`,
    policyText: text(),
    message: failure('array is too short: must have at least 1 elements but instance has 0 elements'),
  },
  {
    name: 'more than 50 rules',
    source: `${DOCS.quotas} "Rules per lifecycle policy: 50"`,
    policyText: text(...Array.from({ length: 51 }, (_, index) => rule(index + 1, since('sinceImagePushed', 10, prefixes(`p${index}-`))))),
    message: failure('array is too long: must have at most 50 elements but instance has 51 elements'),
  },
  {
    name: 'a rule that is a string',
    source: `${DOCS.examples} "Lifecycle policy template"`,
    policyText: text('keep ten'),
    message: failure('instance type (string) does not match any allowed primitive type (allowed: ["object"])'),
  },
  {
    name: 'a rule without rulePriority',
    source: `${DOCS.properties} "Rule priority": Required: yes`,
    policyText: text({ selection: validSelection, action: EXPIRE }),
    message: failure('object has missing required properties (["rulePriority"])'),
  },
  {
    name: 'a rule without selection and action',
    source: `${DOCS.properties} "Tag status", "Count type", "Action": Required: yes`,
    policyText: text({ rulePriority: 1 }),
    message: failure('object has missing required properties (["action","selection"])'),
  },
  {
    name: 'an unknown rule property',
    source: `${DOCS.examples} "Lifecycle policy template"`,
    policyText: text({ ...(rule(1, validSelection) as { [key: string]: Json }), priority: 1 }),
    message: failure('object instance has properties which are not allowed by the schema: (["priority"])'),
  },
  {
    name: 'rulePriority 0',
    source: `${DOCS.properties} "Rule priority" (rules are applied from priority 1)`,
    policyText: text(rule(0, validSelection)),
    message: failure('numeric instance is lower than the required minimum (minimum: 1, found: 0)'),
  },
  {
    name: 'rulePriority as a string',
    source: `${DOCS.properties} "Rule priority": Type: integer`,
    policyText: text({ rulePriority: '1', selection: validSelection, action: EXPIRE }),
    message: failure('instance type (string) does not match any allowed primitive type (allowed: ["integer"])'),
  },
  {
    name: 'two rules with the same rulePriority',
    source: `${DOCS.properties} "Rule priority": "you must give them each a unique value for rulePriority"`,
    policyText: text(rule(1, since('sinceImagePushed', 10, prefixes('a'))), rule(1, since('sinceImagePushed', 10, prefixes('b')))),
    message: failure('rulePriority 1 is used by more than one rule; rule priorities must be unique.'),
  },
  {
    name: 'an unknown tagStatus',
    source: `${DOCS.properties} "Tag status": "Acceptable options are tagged, untagged, or any"`,
    policyText: text(rule(1, countMoreThan(1, { tagStatus: 'TAGGED', tagPrefixList: ['v'] }))),
    message: failure('instance value ("TAGGED") not found in enum (possible values: ["tagged","untagged","any"])'),
  },
  {
    name: 'tagged without a prefix or pattern list',
    source: `${DOCS.properties} "Tag status": "If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value"; message as ECR returns it`,
    policyText: text(rule(1, countMoreThan(1, { tagStatus: 'tagged' }))),
    message: failure('Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.'),
  },
  {
    name: 'both tagPrefixList and tagPatternList in one rule',
    source: `${DOCS.evaluation} "A lifecycle policy rule may specify either tagPatternList or tagPrefixList, but not both"`,
    policyText: text(rule(1, countMoreThan(1, { tagStatus: 'tagged', tagPrefixList: ['v'], tagPatternList: ['v*'] }))),
    message: failure('Cannot specify both tagPrefixList and tagPatternList in the same rule.'),
  },
  {
    name: 'tagPrefixList with tagStatus untagged',
    source: `${DOCS.properties} "Tag status": "If you specify untagged, then you must omit both tagPrefixList and tagPatternList"`,
    policyText: text(rule(1, countMoreThan(1, { tagStatus: 'untagged', tagPrefixList: ['v'] }))),
    message: failure('tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.'),
  },
  {
    name: 'tagPatternList with tagStatus any',
    source: `${DOCS.evaluation} "The tagPatternList or tagPrefixList parameters may only used if the tagStatus is tagged"`,
    policyText: text(rule(1, countMoreThan(1, { tagStatus: 'any', tagPatternList: ['*'] }))),
    message: failure('tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.'),
  },
  {
    name: 'a pattern with more than four wildcards',
    source: `${DOCS.properties} "Tag pattern list": ["test*1*2*3*4*5*6"] is invalid`,
    policyText: text(rule(1, countMoreThan(1, patterns('test*1*2*3*4*5*6')))),
    message: failure("tagPatternList entry 'test*1*2*3*4*5*6' has more than 4 wildcards (*)."),
  },
  {
    name: 'an empty tagPrefixList',
    source: `${DOCS.properties} "Tag prefix list": "You must specify a comma-separated list of image tag prefixes"`,
    policyText: text(rule(1, countMoreThan(1, prefixes()))),
    message: failure('array is too short: must have at least 1 elements but instance has 0 elements'),
  },
  {
    name: 'an unknown countType',
    source: `${DOCS.properties} "Count type"`,
    policyText: text(rule(1, { tagStatus: 'any', countType: 'imageCountLessThan', countNumber: 1 })),
    message: failure(ONE_SCHEMA),
  },
  {
    name: 'countUnit with imageCountMoreThan',
    source: `${DOCS.properties} "Count unit": "an error will occur if you specify a count unit when countType is any other value"`,
    policyText: text(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countUnit: 'days', countNumber: 1 })),
    message: failure(ONE_SCHEMA),
  },
  {
    name: 'sinceImagePushed without countUnit',
    source: `${DOCS.properties} "Count unit": Required: yes, only if countType is set to sinceImagePushed, sinceImagePulled, or sinceImageTransitioned`,
    policyText: text(rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 14 })),
    message: failure(ONE_SCHEMA),
  },
  {
    name: 'countUnit null (as some generators write an absent value)',
    source: `${DOCS.observed} (the message ECR returned for a null member)`,
    policyText: text(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countUnit: null, countNumber: 10 })),
    message: failure(ONE_SCHEMA),
  },
  {
    name: 'countUnit hours',
    source: `${DOCS.properties} "Count unit": "Specify a count unit of days"`,
    policyText: text(rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'hours', countNumber: 14 })),
    message: failure('instance value ("hours") not found in enum (possible values: ["days"])'),
  },
  {
    name: 'countNumber 0',
    source: `${DOCS.properties} "Count number": "Acceptable values are positive integers (0 is not an accepted value)"`,
    policyText: text(rule(1, countMoreThan(0))),
    message: failure('numeric instance is lower than the required minimum (minimum: 1, found: 0)'),
  },
  {
    name: 'no countNumber',
    source: `${DOCS.properties} "Count number": Required: yes`,
    policyText: text(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan' })),
    message: failure('object has missing required properties (["countNumber"])'),
  },
  {
    name: 'a tagStatus any rule that is not the last of its storage class',
    source: `${DOCS.properties} "Rule priority": "A rule with a tagStatus value of any must have the highest value for rulePriority and be evaluated last"; message as ECR returns it`,
    policyText: text(rule(1, countMoreThan(10)), rule(2, since('sinceImagePushed', 7, UNTAGGED))),
    message: failure('Rule for tagStatus=ANY must have the lowest priority per storage class.'),
  },
  {
    name: 'two rules selecting untagged images',
    source: `${DOCS.evaluation} "Only one rule selecting a specific storage class is allowed to select untagged images"; message as ECR returns it`,
    policyText: text(rule(1, since('sinceImagePushed', 7, UNTAGGED)), rule(2, countMoreThan(5, UNTAGGED))),
    message: failure('Only one rule can select Untagged images per storage class.'),
  },
  {
    name: 'two rules with the same set of tag prefixes',
    source: `${DOCS.evaluation} "The set of all rules selecting a specific storage class must contain a unique set of prefixes"`,
    policyText: text(rule(1, countMoreThan(5, prefixes('v', 'prod'))), rule(2, since('sinceImagePushed', 30, prefixes('prod', 'v')))),
    message: failure('More than one rule selects the tag prefixes ["prod","v"]; the rules of a storage class must have unique sets of tag prefixes.'),
  },
  {
    name: 'an unknown action type',
    source: `${DOCS.properties} "Action": "The supported values are expire ... and transition"`,
    policyText: text(rule(1, validSelection, { type: 'delete' })),
    message: failure('instance value ("delete") not found in enum (possible values: ["expire","transition"])'),
  },
  {
    name: 'transition without targetStorageClass',
    source: `${DOCS.properties} "Action": targetStorageClass Required: yes, if type is transition`,
    policyText: text(rule(1, since('sinceImagePushed', 30), { type: 'transition' })),
    message: failure(ONE_SCHEMA),
  },
  {
    name: 'expire with targetStorageClass null',
    source: `${DOCS.observed} (targetStorageClass = null on an expire action)`,
    policyText: text(rule(1, validSelection, { type: 'expire', targetStorageClass: null })),
    message: failure(ONE_SCHEMA),
  },
  {
    name: 'sinceImagePulled with expire',
    source: `${DOCS.examples} "Filtering on last pulled time": "The sinceImagePulled count type must be used with the transition action"`,
    policyText: text(rule(1, since('sinceImagePulled', 90))),
    message: failure('countType=sinceImagePulled can only be used with action type=transition.'),
  },
  {
    name: 'sinceImageTransitioned without storageClass archive',
    source: `${DOCS.properties} "Storage class": "Required: yes, if countType is sinceImageTransitioned"`,
    policyText: text(rule(1, since('sinceImageTransitioned', 365))),
    message: failure('countType=sinceImageTransitioned requires storageClass=archive.'),
  },
  {
    name: 'storageClass archive with sinceImagePushed',
    source: `${DOCS.properties} "Storage class": "When using a countType of imageCountMoreThan, sinceImagePushed, or sinceImagePulled, the only supported value is standard"`,
    policyText: text(rule(1, since('sinceImagePushed', 365, ARCHIVED))),
    message: failure('storageClass=archive can only be used with countType=sinceImageTransitioned.'),
  },
  {
    name: 'sinceImageTransitioned with a transition action',
    source: `${DOCS.examples} "Filtering on archive transition time": "must be used with the expire action and the archive storage class"`,
    policyText: text(rule(1, since('sinceImageTransitioned', 365, ARCHIVED), ARCHIVE)),
    message: failure('countType=sinceImageTransitioned can only be used with action type=expire.'),
  },
  {
    name: 'expiring archived images after fewer than 90 days',
    source: `${DOCS.examples} "Combining archive and expire rules": "You cannot configure lifecycle policies that delete images that have been in archive for less than 90 days"`,
    policyText: text(rule(1, since('sinceImageTransitioned', 30, ARCHIVED))),
    message: failure('countType=sinceImageTransitioned requires a countNumber of at least 90 days.'),
  },
  {
    name: 'a description that is not a string',
    source: `${DOCS.properties} "Description": Type: string`,
    policyText: text({ ...(rule(1, validSelection) as { [key: string]: Json }), description: 7 }),
    message: failure('instance type (integer) does not match any allowed primitive type (allowed: ["string"])'),
  },
];
