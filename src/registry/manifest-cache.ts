import type { ManifestRecord } from '../storage/metadata-store.js';

/**
 * Manifests by (repository, digest), least recently used first out, bounded
 * by total bytes. A manifest's content never changes for its digest; only
 * deleting it does, and `delete` is called then.
 */
export class ManifestCache {
  private readonly entries = new Map<string, ManifestRecord>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(repositoryId: number, digest: string): ManifestRecord | undefined {
    const key = `${repositoryId}@${digest}`;
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(record: ManifestRecord): void {
    const key = `${record.repositoryId}@${record.digest}`;
    if (this.entries.has(key) || record.size > this.maxBytes) return;
    this.entries.set(key, record);
    this.bytes += record.size;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.size;
    }
  }

  delete(repositoryId: number, digest: string): void {
    const key = `${repositoryId}@${digest}`;
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.bytes -= entry.size;
    }
  }
}
