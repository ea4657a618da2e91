/** Small helpers shared by the end-to-end test files. */
import { arch } from 'node:os';
import type { Registry } from './registries.js';
import { formatExchanges } from './recording-proxy.js';

/**
 * Rewrites a failure so it carries the HTTP exchanges recorded since `mark`
 * (the last ones, and the error responses among them) and the end of the
 * registry's own output: the request and response that broke a client.
 */
export function withDiagnostics(err: unknown, registry: Registry, mark: number, extra = ''): Error {
  const message = err instanceof Error ? err.message : String(err);
  const exchanges = registry.exchanges.slice(mark);
  // Anonymous 401s on /v2/ are the normal auth challenge, not news.
  const failed = exchanges.filter((e) => e.status >= 400 && !(e.status === 401 && e.url === '/v2/'));
  const wrapped = new Error(
    `${message}\n\n=== ${registry.kind}: HTTP exchanges during this test (last 25) ===\n${formatExchanges(exchanges, 25)}` +
      (failed.length ? `\n=== of which error responses ===\n${formatExchanges(failed, 15)}` : '') +
      `\n=== ${registry.kind} output (end) ===\n${registry.serverOutput(4000)}` +
      (extra ? `\n${extra}` : ''),
  );
  const frames = (err instanceof Error ? err.stack : undefined)?.split('\n').filter((l) => l.startsWith('    at ')) ?? [];
  wrapped.stack = `${wrapped.message}\n${frames.join('\n')}`;
  return wrapped;
}

/** Promise memo: the first caller runs `fn`, later callers share its outcome. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let memo: Promise<T> | undefined;
  return () => (memo ??= fn());
}

export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${what} is not JSON: ${text.slice(0, 500)}`);
  }
}

/** This machine's architecture in OCI/Go terms (amd64, arm64, ...). */
export function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/** `user:password` for --creds style flags, or undefined when the registry has no auth. */
export function credsOf(registry: Registry): string | undefined {
  return registry.credentials ? `${registry.credentials.username}:${registry.credentials.password}` : undefined;
}
