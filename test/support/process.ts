/**
 * Child processes for the end-to-end tests: one-shot commands with a time
 * limit and errors that carry stderr, and long-running servers whose output
 * is kept for failure messages and whose whole process group is killed on
 * stop (and, as a last resort, when the test process exits).
 *
 * Every command is spawned with an argument array; nothing goes through a
 * shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** Default limit for one client command (skopeo, podman, docker, ...). */
export const COMMAND_TIMEOUT_MS = 120_000;

export interface RunOptions {
  cwd?: string;
  /** The complete environment of the child (not merged with process.env). */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve with the result instead of rejecting when the exit code is not 0. */
  allowFailure?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** Values that follow these flags are replaced by *** in messages. */
const SECRET_FLAGS = new Set(['--creds', '--src-creds', '--dest-creds', '-p', '--password']);

/** A readable rendering of a command line for messages (secrets masked). */
export function formatCommand(cmd: string, args: readonly string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const previous = args[i - 1];
    if (previous !== undefined && SECRET_FLAGS.has(previous)) {
      shown.push('***');
    } else if (/^--(src-|dest-)?creds=/.test(arg) || /^--password=/.test(arg)) {
      shown.push(`${arg.slice(0, arg.indexOf('=') + 1)}***`);
    } else {
      shown.push(/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg));
    }
  }
  return [cmd, ...shown].join(' ');
}

export function tail(text: string, max = 4000): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}

export class CommandError extends Error {
  declare readonly result: RunResult;
  constructor(result: RunResult) {
    const how = result.timedOut
      ? `timed out after ${result.durationMs} ms`
      : result.signal !== null
        ? `was killed by ${result.signal}`
        : `exited with code ${result.code}`;
    super(
      `command ${how}: ${result.command}\n` +
        `--- stderr ---\n${tail(result.stderr.trim()) || '(empty)'}\n` +
        `--- stdout ---\n${tail(result.stdout.trim(), 2000) || '(empty)'}`,
    );
    this.name = 'CommandError';
    // Not enumerable, so test reporters do not print it a second time after the message.
    Object.defineProperty(this, 'result', { value: result, enumerable: false });
  }
}

const live = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
    for (const fn of exitCleanups) {
      try {
        fn();
      } catch {
        // best effort
      }
    }
  });
}

/** Kills every process group still alive when the test process exits. */
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  installExitHook();
}

/**
 * Registers a synchronous last-resort cleanup run when the test process exits
 * (for helpers outside a tracked process group). Returns its unregister function.
 */
export function onProcessExit(fn: () => void): () => void {
  installExitHook();
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

/** Signals the child's whole process group (it was spawned detached, so it leads one). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Whether a process with this id exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs a command to completion. Rejects with a CommandError (carrying stderr)
 * when it fails or times out, unless `allowFailure` is set. The child gets its
 * own process group so a timeout kills its helpers too.
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  const command = formatCommand(cmd, args);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    track(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // the child may exit without reading its stdin
    });
    child.stdin.end(options.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = {
        command,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        durationMs: Date.now() - started,
      };
      if ((code !== 0 || timedOut) && !options.allowFailure) reject(new CommandError(result));
      else resolve(result);
    });
  });
}

export interface ServerProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How much of the combined stdout/stderr to keep (from the end). */
  keepBytes?: number;
}

/** A long-running child (a registry, dockerd) in its own process group. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly command: string;
  private chunks: Buffer[] = [];
  private kept = 0;
  private readonly keepBytes: number;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;
  readonly exited: Promise<void>;

  constructor(cmd: string, args: readonly string[], options: ServerProcessOptions = {}) {
    this.command = formatCommand(cmd, args);
    this.keepBytes = options.keepBytes ?? 256 * 1024;
    this.child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    track(this.child);
    const keep = (b: Buffer): void => {
      this.chunks.push(b);
      this.kept += b.length;
      while (this.kept > this.keepBytes && this.chunks.length > 1) {
        this.kept -= this.chunks.shift()?.length ?? 0;
      }
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => {
        this.spawnError = e;
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Undefined while running; otherwise how it ended. */
  get exitStatus(): string | undefined {
    if (this.spawnError) return `could not start: ${this.spawnError.message}`;
    if (!this.exitInfo) return undefined;
    return this.exitInfo.signal !== null ? `killed by ${this.exitInfo.signal}` : `exited with code ${this.exitInfo.code}`;
  }

  /** The end of what it printed (stdout and stderr interleaved). */
  output(maxChars = 8000): string {
    return tail(Buffer.concat(this.chunks).toString('utf8'), maxChars);
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitInfo || this.child.pid === undefined) return;
    killGroup(this.child, 'SIGTERM');
    // Unref'd timers: a pending grace period must not keep the test process alive.
    const ended = await Promise.race([this.exited.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (!ended) {
      killGroup(this.child, 'SIGKILL');
      await Promise.race([this.exited, sleep(5_000, undefined, { ref: false })]);
    }
    // Helpers left in the group after the leader exited.
    killGroup(this.child, 'SIGKILL');
  }
}

/** Polls `check` until it returns a value, the server exits, or time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; server?: ServerProcess },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const status = options.server?.exitStatus;
    if (status !== undefined) {
      throw new Error(`${what}: ${options.server?.command} ${status} before it was ready\n--- output ---\n${options.server?.output()}`);
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const output = options.server ? `\n--- output ---\n${options.server.output()}` : '';
      throw new Error(`${what}: not ready after ${options.timeoutMs} ms${reason}${output}`);
    }
    await sleep(options.intervalMs ?? 150);
  }
}
