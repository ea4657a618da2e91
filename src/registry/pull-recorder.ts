import type { MetadataStore } from '../storage/metadata-store.js';

export interface PullRecorderOptions {
  /** A (repository, digest) pull is written at most once per this interval. */
  minIntervalMs?: number;
  /** How often the pulls gathered since the last flush are written. */
  flushIntervalMs?: number;
  /** Told about a flush that failed (its pulls are dropped: a pull time is a hint, not a record). */
  onError?: (err: unknown) => void;
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
 * what is queued is written every `flushIntervalMs` and on close.
 */
export class PullRecorder {
  private readonly minIntervalMs: number;
  private readonly flushIntervalMs: number;
  private readonly onError: (err: unknown) => void;
  private pending = new Map<string, Pull>();
  /** When each key was last queued, to skip pulls within the interval. */
  private readonly lastQueued = new Map<string, number>();
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

  /** Notes a pull; cheap and synchronous, safe on the hot path. */
  record(repositoryId: number, digest: string, at = Date.now()): void {
    const key = `${repositoryId} ${digest}`;
    const last = this.lastQueued.get(key);
    if (last !== undefined && at - last < this.minIntervalMs) return;
    this.lastQueued.set(key, at);
    this.pending.set(key, { repositoryId, digest, at });
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
