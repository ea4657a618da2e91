/**
 * The `/v2/` routes as data: each pattern names the route it matches.
 * Repository names may contain `/`, so the kind of request is found by the
 * fixed words after the name. Names and references are validated by the core.
 */
export type V2Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string };

const NAME = '(.+)';
const SEGMENT = '([^/]+)';

const PATTERNS: [RegExp, (m: RegExpExecArray) => V2Route][] = [
  [/^$/, () => ({ kind: 'base' })],
  [/^_catalog$/, () => ({ kind: 'catalog' })],
  [new RegExp(`^${NAME}/tags/list$`), (m) => ({ kind: 'tags', name: m[1] as string })],
  [new RegExp(`^${NAME}/manifests/${SEGMENT}$`), (m) => ({ kind: 'manifest', name: m[1] as string, reference: m[2] as string })],
  [new RegExp(`^${NAME}/blobs/uploads/?$`), (m) => ({ kind: 'uploads', name: m[1] as string })],
  [new RegExp(`^${NAME}/blobs/uploads/${SEGMENT}$`), (m) => ({ kind: 'upload', name: m[1] as string, id: m[2] as string })],
  [new RegExp(`^${NAME}/blobs/${SEGMENT}$`), (m) => ({ kind: 'blob', name: m[1] as string, digest: m[2] as string })],
  [new RegExp(`^${NAME}/referrers/${SEGMENT}$`), (m) => ({ kind: 'referrers', name: m[1] as string, digest: m[2] as string })],
];

/** Matches the part of the path after `/v2/` (still percent-encoded). */
export function matchV2Route(path: string): V2Route | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(decoded);
    if (match) return build(match);
  }
  return undefined;
}
