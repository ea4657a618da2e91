import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freePort, repoRoot } from '../support/env.js';

export const REPO_ROOT = repoRoot;

export interface BerthProcess {
  child: ChildProcess;
  url: string;
  /** The AWS APIs' own listener, when BERTH_API_LISTEN gives one. */
  apiUrl: string | undefined;
  output(): string;
  /** Peak resident set size of the server process, in bytes (VmHWM). */
  peakRss(): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `berth serve` from the sources as a separate process, as a user would. */
export async function spawnBerth(env: Record<string, string>, args: string[] = []): Promise<BerthProcess> {
  const port = env.BERTH_LISTEN ? Number(env.BERTH_LISTEN.split(':').at(-1)) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, BERTH_LISTEN: `127.0.0.1:${port}`, BERTH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const scheme = env.BERTH_TLS_CERT ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  const apiUrl = env.BERTH_API_LISTEN ? `${scheme}://${env.BERTH_API_LISTEN}` : undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 30_000;
  const ready = apiUrl === undefined ? 'Berth is listening on' : `answer on ${apiUrl}`;
  while (!output.includes(ready)) {
    if (child.exitCode !== null) throw new Error(`berth exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`berth did not start within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url,
    apiUrl,
    output: () => output,
    async peakRss() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      return Number(kb) * 1024;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
