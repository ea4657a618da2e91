import { principalFacts, type RequestPrincipal } from '../iam/policy/principal.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import type { RegistrySettingsStore } from '../storage/registry-settings-store.js';

export interface PullRecorderOptions {
  /** A (repository, digest) pull is written at most once per this interval. */
  minIntervalMs?: number;
  /** How often the pulls gathered since the last flush are written. */
  flushIntervalMs?: number;
  /** Told about a flush that failed (its pulls are dropped: a pull time is a hint, not a record). */
  onError?: (err: unknown) => void;
}

/**
 * Whether the registry excludes a pull's principal from pull-time updates.
 * Asked only when the pull would be recorded, and off the request's path.
 */
export type PullTimeUpdateExclusionCheck = () => Promise<boolean>;

/**
 * The ARN a pull-time update exclusion names for `principal`: an IAM user's
 * own ARN, or for a role session its role's ARN (with the role's path), since
 * ECR's exclusions list users and roles and a role pulls through its sessions.
 * Undefined for principals no exclusion can name (account roots, anonymous).
 */
export function pullTimeUpdateExclusionArn(principal: RequestPrincipal): string | undefined {
  if (principal.type === 'User') return principal.arn;
  if (principal.type === 'AssumedRole') return principalFacts(principal).roleArn;
  return undefined;
}

/**
 * The check for a pull by `principal` from the registry of `accountId`
 * against that registry's exclusions (cached by the store), or undefined
 * when no exclusion can apply.
 */
export function pullTimeUpdateExclusionCheck(
  store: Pick<RegistrySettingsStore, 'pullTimeUpdateExclusions'>,
  accountId: string,
  principal: RequestPrincipal | undefined,
): PullTimeUpdateExclusionCheck | undefined {
  const arn = principal && pullTimeUpdateExclusionArn(principal);
  if (arn === undefined) return undefined;
  return async () => (await store.pullTimeUpdateExclusions(accountId)).has(arn);
}

interface Pull {
  repositoryId: number;
  digest: string;
  at: number;
}

/**
 * Gathers manifest pulls in memory and writes them to the metadata store in
 * batches, so that `lastRecordedPullTime` follows pulls without a database
 * write per request. Each (repository, digest) is queued at most once per
 * `minIntervalMs` (ECR itself only promises a refresh at least once a day);
 * what is queued is written every `flushIntervalMs` and on close. A pull by
 * a principal the registry excludes from pull-time updates is not queued.
 */
export class PullRecorder {
  private readonly minIntervalMs: number;
  private readonly flushIntervalMs: number;
  private readonly onError: (err: unknown) => void;
  private pending = new Map<string, Pull>();
  /** When each key was last queued, to skip pulls within the interval. */
  private readonly lastQueued = new Map<string, number>();
  /** Exclusion checks under way: a flush waits for them, so it writes every pull recorded before it. */
  private readonly checking = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<MetadataStore, 'recordPulls'>,
    options: PullRecorderOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 60_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 5_000;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Notes a pull; cheap and synchronous, safe on the hot path. With
   * `isExcluded`, the pull is queued only once that resolves false.
   */
  record(repositoryId: number, digest: string, at = Date.now(), isExcluded?: PullTimeUpdateExclusionCheck): void {
    const key = `${repositoryId} ${digest}`;
    if (this.queuedRecently(key, at)) return;
    if (!isExcluded) {
      this.queue(key, { repositoryId, digest, at });
      return;
    }
    const check = isExcluded().then(
      (excluded) => {
        if (!excluded && !this.queuedRecently(key, at)) this.queue(key, { repositoryId, digest, at });
      },
      (err: unknown) => this.onError(err),
    );
    this.checking.add(check);
    void check.finally(() => this.checking.delete(check));
  }

  private queuedRecently(key: string, at: number): boolean {
    const last = this.lastQueued.get(key);
    return last !== undefined && at - last < this.minIntervalMs;
  }

  private queue(key: string, pull: Pull): void {
    this.lastQueued.set(key, pull.at);
    this.pending.set(key, pull);
  }

  /** Starts the periodic flush (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes what is queued; flushes run one after another. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async writePending(): Promise<void> {
    await Promise.all(this.checking);
    const now = Date.now();
    for (const [key, at] of this.lastQueued) if (now - at >= this.minIntervalMs) this.lastQueued.delete(key);
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.recordPulls(batch);
    } catch (err) {
      this.onError(err);
    }
  }
}
