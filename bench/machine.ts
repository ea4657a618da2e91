/** What the benchmark ran on, for the report. */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { DISTRIBUTION_BINARY } from './servers.js';

const execFileAsync = promisify(execFile);

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews every figure. */
  loadAverage: string;
  node: string;
  wrk: string;
  distribution: string;
  berthCommit: string;
}

/** First line of a command's output (stdout or stderr; `wrk -v` exits 1), or a note that it failed. */
async function firstLine(file: string, args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { cwd, timeout: 10_000 });
    return (stdout.trim() || stderr.trim()).split('\n')[0] ?? '';
  } catch (err) {
    const out = err !== null && typeof err === 'object' && 'stdout' in err && typeof err.stdout === 'string' ? err.stdout.trim() : '';
    return out.split('\n')[0] || `unavailable (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

export async function machineInfo(repoRoot: string): Promise<MachineInfo> {
  const commit = await firstLine('git', ['rev-parse', '--short', 'HEAD'], repoRoot);
  const dirty = await firstLine('git', ['status', '--porcelain', '--untracked-files=no'], repoRoot);
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    node: process.version,
    wrk: await firstLine('wrk', ['-v']),
    distribution: await firstLine(DISTRIBUTION_BINARY, ['--version']),
    berthCommit: dirty === '' ? commit : `${commit} (with uncommitted changes)`,
  };
}
