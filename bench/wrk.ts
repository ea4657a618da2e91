/**
 * Fixed-duration HTTP load with wrk. A generated Lua script sets the method,
 * path and headers and prints the summary as one JSON line from `done()`,
 * so nothing depends on wrk's human-readable output.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Target } from './http.js';
import type { LoadResult } from './loadgen.js';

const execFileAsync = promisify(execFile);
const MARKER = 'BENCH_WRK_RESULT ';

export interface WrkOptions {
  /** GET only: wrk waits for a body after every HEAD response (see loadgen.ts). */
  method: 'GET';
  path: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
  threads: number;
  /** Where to write the Lua script. */
  scriptDir: string;
}


function luaString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function script(options: WrkOptions): string {
  const lines = [`wrk.method = ${luaString(options.method)}`, `wrk.path = ${luaString(options.path)}`];
  for (const [name, value] of Object.entries(options.headers)) lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${MARKER}{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',`,
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status, e.connect, e.read, e.write, e.timeout))',
    'end',
  );
  return lines.join('\n') + '\n';
}

interface RawWrk {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  status: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
}

function parse(stdout: string): RawWrk {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (line === undefined) throw new Error(`wrk printed no result: ${stdout.trim().slice(0, 300)}`);
  return JSON.parse(line.slice(MARKER.length)) as RawWrk;
}

export async function runWrk(target: Target, options: WrkOptions): Promise<LoadResult> {
  const headers = { ...options.headers };
  if (target.authorization !== undefined) headers['Authorization'] = target.authorization;
  const scriptPath = join(options.scriptDir, `wrk-${target.name}-${options.method.toLowerCase()}.lua`);
  await writeFile(scriptPath, script({ ...options, headers }));
  const { stdout } = await execFileAsync(
    'wrk',
    ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', '5s', '-s', scriptPath, target.baseUrl],
    { timeout: (options.seconds + 30) * 1000, maxBuffer: 1024 * 1024 },
  );
  const raw = parse(stdout);
  const durationSeconds = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    durationSeconds,
    requestsPerSecond: raw.requests / durationSeconds,
    p50Ms: raw.p50_us / 1000,
    p99Ms: raw.p99_us / 1000,
    badStatus: raw.status,
    socketErrors: raw.connect + raw.read + raw.write + raw.timeout,
  };
}
