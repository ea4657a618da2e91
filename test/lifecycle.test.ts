/**
 * The lifecycle policy engine (src/lifecycle) against the case table in test/lifecycle-cases.ts:
 * which images each policy expires or archives, which documents ECR accepts, and the exact
 * InvalidParameterException message for each document it refuses. Every case names its AWS source.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LifecyclePolicyError,
  evaluateLifecyclePolicy,
  parseLifecyclePolicy,
  previewSummary,
  toPreviewResult,
  type LifecycleDecision,
} from '../src/lifecycle/index.js';
import {
  ACCEPTED_POLICIES,
  DAY,
  EVALUATION_CASES,
  INVALID_POLICY_CASES,
  NOW,
  digestOf,
  lifecycleImages,
  type CaseImage,
  type ExpectedDecision,
} from './lifecycle-cases.js';

function namedDecisions(decisions: readonly LifecycleDecision[], images: readonly CaseImage[]): ExpectedDecision[] {
  const nameOf = new Map(images.map((image) => [digestOf(image.name), image.name]));
  return decisions.map((decision) => ({
    image: nameOf.get(decision.image.digest) ?? decision.image.digest,
    rulePriority: decision.appliedRulePriority,
    action: decision.action.type,
  }));
}

describe('lifecycle policy evaluation', () => {
  test('the table has at least 40 cases, 15 of them invalid documents', () => {
    assert.ok(EVALUATION_CASES.length + ACCEPTED_POLICIES.length + INVALID_POLICY_CASES.length >= 40);
    assert.ok(INVALID_POLICY_CASES.length >= 15);
  });

  for (const c of EVALUATION_CASES) {
    test(c.name, () => {
      const policy = parseLifecyclePolicy(JSON.stringify(c.policy));
      const decisions = evaluateLifecyclePolicy(policy, lifecycleImages(c.images), NOW);
      assert.deepEqual(namedDecisions(decisions, c.images), c.expected, c.source);
    });
  }
});

describe('lifecycle policy documents ECR accepts', () => {
  for (const c of ACCEPTED_POLICIES) {
    test(c.name, () => {
      const policy = parseLifecyclePolicy(JSON.stringify(c.policy));
      assert.equal(policy.rules.length, c.policy.rules.length, c.source);
    });
  }

  test('the parsed rules keep the document order, the description and the defaults', () => {
    const policy = parseLifecyclePolicy(
      JSON.stringify({
        rules: [
          { rulePriority: 5, description: 'last', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 3 }, action: { type: 'expire' } },
          { rulePriority: 2, selection: { tagStatus: 'tagged', tagPatternList: ['v*'], countType: 'sinceImagePulled', countUnit: 'days', countNumber: 9 }, action: { type: 'transition', targetStorageClass: 'archive' } },
        ],
      }),
    );
    assert.deepEqual(policy.rules, [
      { rulePriority: 5, description: 'last', selection: { tagStatus: 'any', storageClass: 'standard', countType: 'imageCountMoreThan', countNumber: 3 }, action: { type: 'expire' } },
      {
        rulePriority: 2,
        selection: { tagStatus: 'tagged', tagFilter: { list: 'tagPatternList', values: ['v*'] }, storageClass: 'standard', countType: 'sinceImagePulled', countNumber: 9 },
        action: { type: 'transition', targetStorageClass: 'archive' },
      },
    ]);
  });
});

describe('lifecycle policy documents ECR refuses', () => {
  for (const c of INVALID_POLICY_CASES) {
    test(c.name, () => {
      assert.throws(
        () => parseLifecyclePolicy(c.policyText),
        (err: unknown) => {
          assert.ok(err instanceof LifecyclePolicyError, c.source);
          assert.equal(err.awsErrorType, 'InvalidParameterException');
          assert.equal(err.message, c.message, c.source);
          return true;
        },
      );
    });
  }
});

describe('GetLifecyclePolicyPreview results', () => {
  test('previewResults and summary use the API shape: upper-case enums, the image storage class, transitions counted apart', () => {
    const images: CaseImage[] = [
      { name: 'stale', tags: ['v1'], pushedAgo: 40 * DAY },
      { name: 'archived-long', tags: [], pushedAgo: 900 * DAY, storageClass: 'archive', archivedAgo: 400 * DAY },
      { name: 'fresh', tags: ['v2'], pushedAgo: 1 * DAY },
    ];
    const policy = parseLifecyclePolicy(
      JSON.stringify({
        rules: [
          { rulePriority: 1, selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'transition', targetStorageClass: 'archive' } },
          { rulePriority: 2, selection: { tagStatus: 'any', storageClass: 'archive', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 365 }, action: { type: 'expire' } },
        ],
      }),
    );
    const decisions = evaluateLifecyclePolicy(policy, lifecycleImages(images), NOW);
    assert.deepEqual(decisions.map(toPreviewResult), [
      {
        imageDigest: digestOf('stale'),
        imageTags: ['v1'],
        imagePushedAt: new Date(NOW.getTime() - 40 * DAY),
        action: { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' },
        appliedRulePriority: 1,
        storageClass: 'STANDARD',
      },
      {
        imageDigest: digestOf('archived-long'),
        imageTags: [],
        imagePushedAt: new Date(NOW.getTime() - 900 * DAY),
        action: { type: 'EXPIRE' },
        appliedRulePriority: 2,
        storageClass: 'ARCHIVE',
      },
    ]);
    assert.deepEqual(previewSummary(decisions), {
      expiringImageTotalCount: 1,
      transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: 1 }],
    });
  });

  test('the summary has no transitioningImageTotalCounts when nothing transitions', () => {
    const policy = parseLifecyclePolicy(JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] }));
    const images = lifecycleImages([
      { name: 'a', pushedAgo: 2 * DAY },
      { name: 'b', pushedAgo: 1 * DAY },
    ]);
    assert.deepEqual(previewSummary(evaluateLifecyclePolicy(policy, images, NOW)), { expiringImageTotalCount: 1 });
    assert.deepEqual(previewSummary([]), { expiringImageTotalCount: 0 });
  });
});
