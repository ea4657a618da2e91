/**
 * A closed-loop load generator on the keep-alive client, for what wrk cannot
 * do: wrk's response parser does not know a HEAD response has no body, so it
 * waits for the `Content-Length` bytes of every HEAD and completes nothing.
 * Each of `connections` workers sends its next request when the previous one
 * is answered, until the time is up.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { HttpClient, type Target } from './http.js';

export interface LoadOptions {
  method: 'GET' | 'HEAD';
  path: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses other than 2xx/3xx. */
  badStatus: number;
  /** Requests that failed without a response. */
  socketErrors: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export async function runClosedLoop(target: Target, options: LoadOptions): Promise<LoadResult> {
  const client = new HttpClient(target, options.connections);
  const latencies: number[] = [];
  let badStatus = 0;
  let socketErrors = 0;
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  // One signal for the whole run: a timer per request costs more client CPU than the requests.
  const controller = new AbortController();
  const signal = controller.signal;
  setMaxListeners(options.connections * 4, signal);
  const timer = setTimeout(() => controller.abort(new Error('request outlived the run by 5 s')), options.seconds * 1000 + 5_000);
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await client.request({
          method: options.method,
          url: options.path,
          headers: options.headers,
          sink: 'discard',
          signal,
        });
        latencies.push(performance.now() - t0);
        if (res.status < 200 || res.status >= 400) badStatus += 1;
      } catch {
        socketErrors += 1;
        if (socketErrors > 100 && latencies.length === 0) throw new Error('every request failed');
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, () => worker()));
  } finally {
    clearTimeout(timer);
    client.close();
  }
  const durationSeconds = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    durationSeconds,
    requestsPerSecond: latencies.length / durationSeconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    badStatus,
    socketErrors,
  };
}
