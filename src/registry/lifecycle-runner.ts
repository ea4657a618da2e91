/**
 * Applies lifecycle policies: for every repository with a policy, referrers whose subject is gone
 * are deleted (after a grace period), then the images the engine (src/lifecycle) decides on are
 * expired (deleted, with their referrers) or archived, and each action is recorded as an event.
 * GetLifecyclePolicyPreview takes its results from `evaluateRepository` too, so a preview shows what
 * a run would do.
 *
 * Runs may overlap with other processes' runs and with pushes: each action is re-checked against the
 * image as stored just before it is taken, and the store takes it only if the image is still in the
 * storage class it was evaluated in, so of two runs only one acts and records it. A failed action is
 * logged and left for the next run, which decides afresh.
 */
import type { Logger } from 'pino';
import { resourceArn } from '../aws/operations.js';
import {
  evaluateLifecyclePolicy,
  parseLifecyclePolicy,
  type LifecycleDecision,
  type LifecycleImage,
  type LifecyclePolicy,
  type LifecyclePreviewEntry,
  type LifecycleRule,
} from '../lifecycle/index.js';
import { splitQualifiedName } from '../names.js';
import type { ImageRecord, MetadataStore, Repository, StorageClass } from '../storage/metadata-store.js';
import { MediaType, parseManifest } from './manifest.js';

export const LIFECYCLE_EVENT_SOURCE = 'aws.ecr';
export const LIFECYCLE_EVENT_DETAIL_TYPE = 'ECR Lifecycle Policy Action';

/**
 * A referrer whose subject is not in the repository is deleted only once it was pushed this long
 * before the run: the OCI distribution spec lets a referrer be pushed before its subject. ECR cleans
 * such referrers up "within 24 hours of the deletion of the subject image".
 */
export const ORPHANED_REFERRER_GRACE_MS = 24 * 60 * 60 * 1000;

const PAGE = 1000;
const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);

export interface LifecycleRunnerDeps {
  metadata: MetadataStore;
  /** The region of the repository ARNs in events. */
  region: string;
  logger: Pick<Logger, 'info' | 'error'>;
}

/** What happened to one decision of a run. */
export interface LifecycleActionResult {
  /** The qualified repository name (`<account>/<name>`). */
  repository: string;
  digest: string;
  tags: readonly string[];
  action: 'expire' | 'transition';
  rulePriority: number;
  /** Digests of the referrers (signatures, SBOMs, … whose `subject` it was) deleted with an expired image. */
  referrers: string[];
  /**
   * `applied`: done and recorded; `skipped`: the image changed since it was evaluated (gone,
   * archived, newly referenced by an index), so the next run decides again; `failed`: logged, retried
   * by the next run.
   */
  outcome: 'applied' | 'skipped' | 'failed';
}

/** What happened to a referrer whose subject was not in the repository. */
export interface OrphanedReferrerResult {
  /** The qualified repository name (`<account>/<name>`). */
  repository: string;
  digest: string;
  tags: readonly string[];
  /** The digest its `subject` names. */
  subjectDigest: string;
  /** Digests of its own referrers, deleted with it. */
  referrers: string[];
  /** As for LifecycleActionResult; `skipped` when its subject came back, an index lists it, or another run deleted it first. */
  outcome: 'applied' | 'skipped' | 'failed';
}

export interface LifecycleRunReport {
  /** Repositories whose policy was evaluated. */
  repositories: number;
  /** Referrers whose subject was gone, deleted before the policy's actions. */
  orphanedReferrers: OrphanedReferrerResult[];
  actions: LifecycleActionResult[];
}

/** An image as the store describes it, as the engine takes it. */
function lifecycleImage(record: ImageRecord, activelyReferenced: (digest: string) => boolean): LifecycleImage {
  const archived = record.storageClass === 'ARCHIVE';
  const changedAt = record.storageClassChangedAt === undefined ? undefined : new Date(record.storageClassChangedAt);
  return {
    digest: record.digest,
    tags: record.tags,
    pushedAt: new Date(record.pushedAt),
    ...(record.lastPulledAt === undefined ? {} : { lastPulledAt: new Date(record.lastPulledAt) }),
    referencedByIndex: record.referencedByIndex && activelyReferenced(record.digest),
    ...(archived ? { storageClass: 'archive', lastArchivedAt: changedAt } : { lastActivatedAt: changedAt }),
  };
}

async function allImageRecords(metadata: MetadataStore, repositoryId: number): Promise<ImageRecord[]> {
  const records: ImageRecord[] = [];
  let afterDigest: string | undefined;
  for (;;) {
    const page = await metadata.describeImages(repositoryId, { limit: PAGE, ...(afterDigest === undefined ? {} : { afterDigest }) });
    records.push(...page.items);
    if (!page.more || page.items.length === 0) return records;
    afterDigest = page.items.at(-1)?.digest;
  }
}

/**
 * The store says whether any index lists an image; only an index that is not archived protects it.
 * When no index is archived (the common case) the store's answer stands without reading manifests.
 */
async function activeReferences(metadata: MetadataStore, repositoryId: number, records: readonly ImageRecord[]): Promise<(digest: string) => boolean> {
  const indexes = records.filter((record) => INDEX_MEDIA_TYPES.has(record.mediaType));
  if (!indexes.some((index) => index.storageClass === 'ARCHIVE')) return () => true;
  const referenced = new Set<string>();
  for (const index of indexes.filter((record) => record.storageClass === 'STANDARD')) {
    const manifest = await metadata.getManifest(repositoryId, index.digest);
    if (!manifest) continue;
    for (const reference of parseManifest(manifest.content, manifest.mediaType).references) {
      if (reference.kind === 'manifest') referenced.add(reference.digest);
    }
  }
  return (digest) => referenced.has(digest);
}

/** A referrer whose subject is not in the repository and that was pushed before the grace period. */
export interface OrphanedReferrer {
  image: LifecycleImage;
  subjectDigest: string;
}

/** What a run does to a repository, in order: the orphaned referrers first, then the policy's decisions. */
export interface LifecyclePlan {
  orphanedReferrers: OrphanedReferrer[];
  decisions: LifecycleDecision[];
  /**
   * The referrers that go with an image when it is deleted, transitively, except those an index
   * lists (as the store takes them; an index that goes with them still counts as listing).
   */
  referrersOf: (digest: string) => LifecycleImage[];
}

interface Evaluation extends LifecyclePlan {
  /** Images some index listed when evaluated (archived or not), to notice one that an index lists since. */
  listedByIndex: ReadonlySet<string>;
}

async function evaluate(metadata: MetadataStore, repositoryId: number, policy: LifecyclePolicy, now: Date): Promise<Evaluation> {
  const records = await allImageRecords(metadata, repositoryId);
  const activelyReferenced = await activeReferences(metadata, repositoryId, records);
  const images = new Map(records.map((record) => [record.digest, lifecycleImage(record, activelyReferenced)]));
  const unlistedReferrers = new Map<string, LifecycleImage[]>();
  for (const record of records) {
    if (record.subjectDigest === null || record.referencedByIndex) continue;
    const siblings = unlistedReferrers.get(record.subjectDigest) ?? [];
    siblings.push(images.get(record.digest) as LifecycleImage);
    unlistedReferrers.set(record.subjectDigest, siblings);
  }
  const referrersOf = (digest: string): LifecycleImage[] => {
    const found: LifecycleImage[] = [];
    const pending = [digest];
    for (let subject = pending.pop(); subject !== undefined; subject = pending.pop()) {
      for (const referrer of unlistedReferrers.get(subject) ?? []) {
        found.push(referrer);
        pending.push(referrer.digest);
      }
    }
    return found;
  };
  const pushedBefore = now.getTime() - ORPHANED_REFERRER_GRACE_MS;
  const orphanedReferrers = records
    .filter((record) => record.subjectDigest !== null && !images.has(record.subjectDigest) && !record.referencedByIndex && record.pushedAt < pushedBefore)
    .sort((a, b) => a.pushedAt - b.pushedAt || a.digest.localeCompare(b.digest))
    .map((record) => ({ image: images.get(record.digest) as LifecycleImage, subjectDigest: record.subjectDigest as string }));
  // The policy is evaluated over what is left once they are gone, as the run deletes them first.
  const swept = new Set(orphanedReferrers.flatMap(({ image }) => [image.digest, ...referrersOf(image.digest).map((referrer) => referrer.digest)]));
  return {
    orphanedReferrers,
    decisions: evaluateLifecyclePolicy(
      policy,
      [...images.values()].filter((image) => !swept.has(image.digest)),
      now,
    ),
    referrersOf,
    listedByIndex: new Set(records.filter((record) => record.referencedByIndex).map((record) => record.digest)),
  };
}

/** What `policy` would do to the repository's images now: the preview's and the run's plan. */
export async function evaluateRepository(metadata: MetadataStore, repositoryId: number, policy: LifecyclePolicy, now: Date): Promise<LifecyclePlan> {
  const { orphanedReferrers, decisions, referrersOf } = await evaluate(metadata, repositoryId, policy, now);
  return { orphanedReferrers, decisions, referrersOf };
}

/**
 * The plan as a preview lists it, in the order a run acts: each orphaned referrer and its referrers
 * (no rule), then each decision, an expired image followed by the referrers deleted with it (under
 * its rule). A decision about an image already deleted with another is left out, as a run drops it.
 */
export function previewEntries(plan: LifecyclePlan): LifecyclePreviewEntry[] {
  const entries: LifecyclePreviewEntry[] = [];
  const deleted = new Set<string>();
  const expire = { type: 'expire' } as const;
  const deleteWithReferrers = (image: LifecycleImage, appliedRulePriority: number | undefined): void => {
    for (const gone of [image, ...plan.referrersOf(image.digest)]) {
      if (deleted.has(gone.digest)) continue;
      deleted.add(gone.digest);
      entries.push({ image: gone, action: expire, ...(appliedRulePriority === undefined ? {} : { appliedRulePriority }) });
    }
  };
  for (const { image } of plan.orphanedReferrers) deleteWithReferrers(image, undefined);
  for (const decision of plan.decisions) {
    if (deleted.has(decision.image.digest)) continue;
    if (decision.action.type === 'expire') deleteWithReferrers(decision.image, decision.appliedRulePriority);
    else entries.push(decision);
  }
  return entries;
}

const COUNT_TYPE_NAMES: Record<LifecycleRule['selection']['countType'], string> = {
  imageCountMoreThan: 'Image count more than',
  sinceImagePushed: 'Since image pushed',
  sinceImagePulled: 'Since image pulled',
  sinceImageTransitioned: 'Since image transitioned',
};

const capitalized = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** A rule as CloudTrail's PolicyExecutionEvent writes it (`lifecycleEventRules`). */
function eventRule(rule: LifecycleRule): Record<string, unknown> {
  const { selection } = rule;
  return {
    rulePriority: rule.rulePriority,
    description: rule.description ?? '',
    lifecycleEventSelection: {
      tagStatus: capitalized(selection.tagStatus),
      ...(selection.tagStatus === 'tagged' ? { [selection.tagFilter.list]: selection.tagFilter.values } : {}),
      storageClass: selection.storageClass,
      countType: COUNT_TYPE_NAMES[selection.countType],
      countNumber: selection.countNumber,
    },
    action: rule.action.type,
    ...(rule.action.type === 'transition' ? { targetStorageClass: rule.action.targetStorageClass } : {}),
  };
}

interface EventRepository {
  accountId: string;
  name: string;
  arn: string;
}

/**
 * The event of one action: `detail` has the shape of the `serviceEventDetails` of ECR's CloudTrail
 * `PolicyExecutionEvent` (one image action per event, so that each is recorded as soon as it is done).
 */
function actionEvent(repository: EventRepository, policy: LifecyclePolicy, decision: LifecycleDecision, referrers: readonly string[], now: Date) {
  return imageActionEvent(repository, policy, decision.image, now, {
    rulePriority: decision.appliedRulePriority,
    action: decision.action.type,
    ...(decision.action.type === 'transition' ? { targetStorageClass: decision.action.targetStorageClass } : {}),
    ...(referrers.length > 0 ? { deletedReferrers: referrers } : {}),
  });
}

/** The event of an orphaned referrer's deletion: no rule, `orphanedReferrerOf` names the subject that is gone. */
function orphanedReferrerEvent(repository: EventRepository, policy: LifecyclePolicy, orphan: OrphanedReferrer, referrers: readonly string[], now: Date) {
  return imageActionEvent(repository, policy, orphan.image, now, {
    action: 'expire',
    orphanedReferrerOf: orphan.subjectDigest,
    ...(referrers.length > 0 ? { deletedReferrers: referrers } : {}),
  });
}

function imageActionEvent(repository: EventRepository, policy: LifecyclePolicy, image: LifecycleImage, now: Date, imageAction: Record<string, unknown>) {
  return {
    accountId: repository.accountId,
    source: LIFECYCLE_EVENT_SOURCE,
    detailType: LIFECYCLE_EVENT_DETAIL_TYPE,
    resources: [repository.arn],
    detail: {
      repositoryName: repository.name,
      lifecycleEventPolicy: {
        lifecycleEventRules: [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority).map(eventRule),
        lastEvaluatedAt: now.getTime(),
      },
      lifecycleEventImageActions: [
        {
          lifecycleEventImage: {
            digest: image.digest,
            tagStatus: image.tags.length > 0 ? 'Tagged' : 'Untagged',
            tagList: image.tags,
            pushedAt: image.pushedAt.getTime(),
          },
          ...imageAction,
        },
      ],
    },
    createdAt: now.getTime(),
  };
}

const evaluatedStorageClass = (image: LifecycleImage): StorageClass => (image.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD');

/** Whether the image is still as it was evaluated: present, in the same storage class, not listed by an index since. */
async function stillAsEvaluated(metadata: MetadataStore, repositoryId: number, image: LifecycleImage, wasListed: boolean): Promise<boolean> {
  const [current] = (await metadata.describeImages(repositoryId, { digests: [image.digest] })).items;
  if (!current) return false;
  return current.storageClass === evaluatedStorageClass(image) && (wasListed || !current.referencedByIndex);
}

type ApplyOutcome = { outcome: 'applied'; referrers: string[] } | { outcome: 'skipped' };

/**
 * Takes the action if the image is still as evaluated. The store's update and delete are
 * conditional on the storage class it was evaluated in, so when another run (or a user) changed or
 * deleted it meanwhile, that one counts and this one is skipped.
 */
async function apply(metadata: MetadataStore, repositoryId: number, decision: LifecycleDecision, wasListed: boolean, now: Date): Promise<ApplyOutcome> {
  const { image } = decision;
  if (!(await stillAsEvaluated(metadata, repositoryId, image, wasListed))) return { outcome: 'skipped' };
  const from = evaluatedStorageClass(image);
  if (decision.action.type === 'transition') {
    return (await metadata.setStorageClass(repositoryId, image.digest, 'ARCHIVE', now.getTime(), from)) ? { outcome: 'applied', referrers: [] } : { outcome: 'skipped' };
  }
  const referrers = await metadata.deleteManifestWithReferrers(repositoryId, image.digest, { storageClass: from });
  return referrers === undefined ? { outcome: 'skipped' } : { outcome: 'applied', referrers };
}

type RepositoryRun = Omit<LifecycleRunReport, 'repositories'>;

/**
 * Evaluates and applies one repository's policy, the one in `policyText`, and records when it was
 * evaluated: the orphaned referrers go first, then the policy's decisions.
 */
async function runRepositoryPolicy(deps: LifecycleRunnerDeps, repository: Repository, policyText: string, policy: LifecyclePolicy, now: Date): Promise<RepositoryRun> {
  const parts = splitQualifiedName(repository.name);
  if (!parts) throw new Error(`not a qualified repository name: ${repository.name}`);
  const { accountId } = parts.registry;
  const eventRepository = { accountId, name: parts.name, arn: resourceArn('ecr', 'repository', { region: deps.region, accountId, repositoryName: parts.name }) };
  const { orphanedReferrers, decisions, listedByIndex } = await evaluate(deps.metadata, repository.id, policy, now);
  await deps.metadata.recordLifecycleEvaluation(repository.id, policyText, now.getTime());

  const orphanResults: OrphanedReferrerResult[] = [];
  for (const orphan of orphanedReferrers) {
    const result = { repository: repository.name, digest: orphan.image.digest, tags: orphan.image.tags, subjectDigest: orphan.subjectDigest };
    try {
      // Conditional in the store: still orphaned, still old enough, listed by no index, not deleted by another run.
      const referrers = await deps.metadata.deleteOrphanedReferrer(repository.id, orphan.image.digest, now.getTime() - ORPHANED_REFERRER_GRACE_MS);
      if (referrers === undefined) {
        orphanResults.push({ ...result, referrers: [], outcome: 'skipped' });
        continue;
      }
      await deps.metadata.recordEvent(orphanedReferrerEvent(eventRepository, policy, orphan, referrers, now));
      orphanResults.push({ ...result, referrers, outcome: 'applied' });
    } catch (err) {
      deps.logger.error({ err, ...result }, 'deleting a referrer whose subject is gone failed; the next run retries it');
      orphanResults.push({ ...result, referrers: [], outcome: 'failed' });
    }
  }

  const actions: LifecycleActionResult[] = [];
  // Referrers that went with an image this run; their own decisions, if any, are already done.
  const deletedWithSubject = new Set<string>();
  for (const decision of decisions) {
    if (deletedWithSubject.has(decision.image.digest)) continue;
    const result = { repository: repository.name, digest: decision.image.digest, tags: decision.image.tags, action: decision.action.type, rulePriority: decision.appliedRulePriority };
    try {
      const applied = await apply(deps.metadata, repository.id, decision, listedByIndex.has(decision.image.digest), now);
      if (applied.outcome === 'skipped') {
        actions.push({ ...result, referrers: [], outcome: 'skipped' });
        continue;
      }
      for (const referrer of applied.referrers) deletedWithSubject.add(referrer);
      await deps.metadata.recordEvent(actionEvent(eventRepository, policy, decision, applied.referrers, now));
      actions.push({ ...result, referrers: applied.referrers, outcome: 'applied' });
    } catch (err) {
      deps.logger.error({ err, ...result }, 'lifecycle action failed; the next run retries it');
      actions.push({ ...result, referrers: [], outcome: 'failed' });
    }
  }
  return { orphanedReferrers: orphanResults, actions };
}

async function runOnce(deps: LifecycleRunnerDeps, now: Date): Promise<LifecycleRunReport> {
  const report: LifecycleRunReport = { repositories: 0, orphanedReferrers: [], actions: [] };
  let last: string | undefined;
  for (;;) {
    const page = await deps.metadata.listRepositoryRecords(PAGE, last);
    for (const repository of page.items) {
      if (repository.settings.lifecyclePolicy === null) continue;
      let policy: LifecyclePolicy;
      try {
        policy = parseLifecyclePolicy(repository.settings.lifecyclePolicy);
      } catch (err) {
        deps.logger.error({ err, repository: repository.name }, 'stored lifecycle policy does not parse; skipped');
        continue;
      }
      report.repositories++;
      const done = await runRepositoryPolicy(deps, repository, repository.settings.lifecyclePolicy, policy, now);
      report.orphanedReferrers.push(...done.orphanedReferrers);
      report.actions.push(...done.actions);
    }
    if (!page.more || page.items.length === 0) return report;
    last = page.items.at(-1)?.name;
  }
}

/**
 * Runs of this process take turns, so that a run does not spend its time re-checking images that a
 * run still going is acting on. (Correctness does not depend on it: runs in other processes may
 * overlap, and the store's conditional updates and deletes let only one of them act on an image.)
 */
let previousRun: Promise<unknown> = Promise.resolve();

/**
 * One run over every repository of every account that has a lifecycle policy (only those are swept
 * of orphaned referrers: a repository without one keeps whatever was pushed to it); `now` defaults
 * to when the run starts.
 */
export function runLifecyclePolicies(deps: LifecycleRunnerDeps, now?: Date): Promise<LifecycleRunReport> {
  const run = previousRun.then(() => runOnce(deps, now ?? new Date()));
  previousRun = run.catch(() => undefined);
  return run;
}

/**
 * Runs the policies now and then every `intervalSeconds` (a run still going when the next is due
 * is not overlapped). Returns the function that stops it, which waits for a run in progress so the
 * stores can be closed after it.
 */
export function startLifecycleScheduler(deps: LifecycleRunnerDeps, intervalSeconds: number): () => Promise<void> {
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running) return;
    running = runLifecyclePolicies(deps)
      .then((report) => {
        const applied = report.actions.filter((action) => action.outcome === 'applied').length;
        const orphanedReferrers = report.orphanedReferrers.filter((orphan) => orphan.outcome === 'applied').length;
        if (applied > 0 || orphanedReferrers > 0) deps.logger.info({ repositories: report.repositories, applied, orphanedReferrers }, 'applied lifecycle policies');
      })
      .catch((err: unknown) => deps.logger.error({ err }, 'lifecycle policy run failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  tick();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
