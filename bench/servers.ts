/**
 * Starting, probing and stopping the servers under test: Berth (the CLI in
 * dist/, or src/ through tsx before a build) and CNCF Distribution
 * (/usr/bin/docker-registry), each on a free loopback port with its own data
 * directory and its output in a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVER_LABELS, type ServerName } from './config.js';
import { basicAuth, HttpClient, type Target } from './http.js';
import { BENCH_ROOT_KEY } from './iam.js';

export const DISTRIBUTION_BINARY = process.env['BENCH_DISTRIBUTION_BIN'] ?? '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

export interface RunningServer {
  target: Target;
  pid: number;
  dataDir: string;
  logPath: string;
  /** What launched it, for the report. */
  command: string;
  /** Exit description once the process has ended, else undefined. */
  exitStatus(): string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Parent of the server's data directory. */
  workDir: string;
  /** Directory for the server's log file. */
  logDir: string;
  /** Root of the Berth checkout. */
  repoRoot: string;
}

/** Every child still running, so an abnormal exit of the bench can kill them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

interface Launch {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  command: string;
  authorization: string | undefined;
}

function berthLaunch(repoRoot: string, port: number, dataDir: string): Launch {
  const password = randomBytes(12).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_LISTEN: `127.0.0.1:${port}`,
    BERTH_DATA_DIR: dataDir,
    BERTH_ADMIN_USER: 'admin',
    BERTH_ADMIN_PASSWORD: password,
    BERTH_LOG_LEVEL: 'warn',
    BERTH_ROOT_ACCESS_KEY_ID: BENCH_ROOT_KEY.accessKeyId,
    BERTH_ROOT_SECRET_ACCESS_KEY: BENCH_ROOT_KEY.secretAccessKey,
    // One process per CPU, as Distribution uses every core; BENCH_BERTH_WORKERS=1 measures a single process.
    BERTH_WORKERS: process.env['BENCH_BERTH_WORKERS'] || 'auto',
    NODE_ENV: 'production',
  };
  const built = join(repoRoot, 'dist', 'cli.js');
  const source = join(repoRoot, 'src', 'cli.ts');
  const forceSource = (process.env['BENCH_BERTH_SOURCE'] ?? '') !== '' && process.env['BENCH_BERTH_SOURCE'] !== '0';
  let args: string[];
  if (existsSync(built) && !forceSource) args = [built, 'serve'];
  else if (existsSync(source)) args = ['--import', 'tsx', source, 'serve'];
  else throw new Error('neither dist/cli.js nor src/cli.ts exists (run `npm run build`)');
  return {
    file: process.execPath,
    args,
    env,
    command: `node ${args.map((a) => a.replace(repoRoot + '/', '')).join(' ')}`,
    authorization: basicAuth('admin', password),
  };
}

async function distributionLaunch(port: number, dataDir: string): Promise<Launch> {
  if (!existsSync(DISTRIBUTION_BINARY)) throw new Error(`${DISTRIBUTION_BINARY} not found (apt-get install docker-registry)`);
  const configPath = join(dataDir, '..', 'distribution-config.yml');
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dataDir}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  await writeFile(configPath, config);
  return {
    file: DISTRIBUTION_BINARY,
    args: ['serve', configPath],
    env: { ...process.env },
    command: `${DISTRIBUTION_BINARY} serve <config>`,
    authorization: undefined,
  };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exited with code ${code ?? '?'}`;
}

function logTail(logPath: string, lines = 15): string {
  try {
    const text = readFileSync(logPath, 'utf8').trimEnd();
    return text === '' ? '(empty log)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(client: HttpClient, exitStatus: () => string | undefined, logPath: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const exited = exitStatus();
    if (exited !== undefined) throw new Error(`server ${exited} before it was ready; log tail:\n${logTail(logPath)}`);
    try {
      const res = await client.request({ method: 'GET', url: '/v2/', signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `GET /v2/ answered ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`server not ready after ${READY_TIMEOUT_MS / 1000} s (${last}); log tail:\n${logTail(logPath)}`);
}

export async function startServer(name: ServerName, options: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = resolve(options.workDir, `${name}-data`);
  await mkdir(dataDir, { recursive: true });
  await mkdir(options.logDir, { recursive: true });
  const launch = name === 'berth' ? berthLaunch(options.repoRoot, port, dataDir) : await distributionLaunch(port, dataDir);
  const logPath = join(options.logDir, `${name}.log`);
  const logFd = openSync(logPath, 'w');
  // Berth runs from the checkout so `--import tsx` resolves; Distribution from the work dir.
  const cwd = name === 'berth' ? options.repoRoot : options.workDir;
  const child = spawn(launch.file, launch.args, { env: launch.env, stdio: ['ignore', logFd, logFd], cwd });
  closeSync(logFd);
  live.add(child);

  let exit: string | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exit = describeExit(code, signal);
      live.delete(child);
      resolveExit();
    });
    child.once('error', (err) => {
      exit = `failed to start: ${err.message}`;
      live.delete(child);
      resolveExit();
    });
  });
  const pid = child.pid;
  const target: Target = { name, label: SERVER_LABELS[name], baseUrl: `http://127.0.0.1:${port}`, authorization: launch.authorization };

  const stop = async (): Promise<void> => {
    if (exit !== undefined) return;
    child.kill('SIGTERM');
    const timer = sleep(STOP_GRACE_MS).then(() => 'timeout' as const);
    if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const probe = new HttpClient(target, 1);
  try {
    if (pid === undefined) {
      await exited;
      throw new Error(`could not start ${launch.command}: ${exit ?? 'no pid'}`);
    }
    await waitReady(probe, () => exit, logPath);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    probe.close();
  }
  return { target, pid, dataDir, logPath, command: launch.command, exitStatus: () => exit, stop };
}

export interface ProcMemory {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size (VmHWM), bytes. */
  hwm: number;
}

/** A process and its descendants (a server may run as a primary with worker processes). */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    const current = pids[i] as number;
    try {
      const children = readFileSync(`/proc/${current}/task/${current}/children`, 'utf8').trim();
      if (children !== '') pids.push(...children.split(/\s+/).map(Number));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function readOneProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    if (match?.[1] === undefined) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]) * 1024;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** RSS and peak RSS of a live server from /proc, summed over its processes (peaks summed: an upper bound). */
export function readProcMemory(pid: number): ProcMemory {
  const total = { rss: 0, hwm: 0 };
  for (const member of processTree(pid)) {
    try {
      const { rss, hwm } = readOneProcMemory(member);
      total.rss += rss;
      total.hwm += hwm;
    } catch (err) {
      if (member === pid) throw err;
    }
  }
  return total;
}

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

function readOneProcCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name start at field 3 (state); utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** User plus system CPU time a live server has used, in seconds, summed over its processes. */
export function readProcCpuSeconds(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      total += readOneProcCpuSeconds(member);
    } catch (err) {
      if (member === pid) throw err;
    }
  }
  return total;
}

/** Samples a process's RSS every `intervalMs` until stopped; answers the largest sample. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    try {
      this.peak = Math.max(this.peak, readProcMemory(this.pid).rss);
    } catch {
      // The process is gone; the workload will report that.
    }
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
