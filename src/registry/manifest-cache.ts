/** What a manifest GET serves; fixed for a digest, whichever repository holds it. */
export interface CachedManifest {
  digest: string;
  mediaType: string;
  content: Uint8Array;
  subjectDigest: string | null;
}

/**
 * Manifest content by digest, least recently used out first, bounded by total
 * bytes. A digest's content never changes, so entries never go stale; whether
 * a repository still holds the manifest is asked of the metadata store on
 * every request.
 */
export class ManifestCache {
  private readonly entries = new Map<string, CachedManifest>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(digest: string): CachedManifest | undefined {
    const entry = this.entries.get(digest);
    if (entry) {
      this.entries.delete(digest);
      this.entries.set(digest, entry);
    }
    return entry;
  }

  set(manifest: CachedManifest): void {
    const size = manifest.content.byteLength;
    if (this.entries.has(manifest.digest) || size > this.maxBytes) return;
    this.entries.set(manifest.digest, manifest);
    this.bytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.content.byteLength;
    }
  }
}
