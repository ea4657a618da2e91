/**
 * `npm run bench`: Berth and CNCF Distribution side by side.
 *
 * Measures the machine's ceilings, writes the test data once, starts both
 * servers, then runs every workload against each server in turn (with a
 * `sync` before each so one server's write-back does not land on the
 * other's clock), and prints the table. Results also go to .bench/.
 * Both servers are stopped and the temp dir removed however the run ends.
 */
import { execFile } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { measureCeilings, type Ceilings } from './ceilings.js';
import { loadConfig, MiB, SERVER_LABELS, type BenchConfig, type ServerName } from './config.js';
import { createBlobFile, makeSmallImage } from './data.js';
import { machineInfo } from './machine.js';
import { renderMarkdown, renderText, type Cell, type Results, type Row, type ServerInfo } from './report.js';
import { readProcCpuSeconds, startServer, type RunningServer } from './servers.js';
import { allWorkloads, imageRepo, REPO_TAGS, REPO_WRK, WRK_TAG, type BenchData, type Workload } from './workloads.js';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SMALL_LAYER_BYTES = 4096;

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return err.name === 'AbortError' ? `aborted${cause}` : err.message;
  }
  return String(err);
}

async function createData(config: BenchConfig, dir: string): Promise<BenchData> {
  await mkdir(dir, { recursive: true });
  const size = config.blobMiB * MiB;
  const monoFiles = [];
  for (let i = 0; i < config.monoBlobs; i += 1) monoFiles.push(await createBlobFile(join(dir, `mono-${i}.bin`), size));
  const chunkedFiles = [];
  for (let i = 0; i < config.chunkedBlobs; i += 1) chunkedFiles.push(await createBlobFile(join(dir, `chunked-${i}.bin`), size));
  const images = Array.from({ length: config.images }, (_, i) => makeSmallImage(imageRepo(i), 'v1', SMALL_LAYER_BYTES));
  return {
    monoFiles,
    chunkedFiles,
    images,
    wrkImage: makeSmallImage(REPO_WRK, WRK_TAG, SMALL_LAYER_BYTES),
    tagsImage: makeSmallImage(REPO_TAGS, 'base', SMALL_LAYER_BYTES),
  };
}

interface ServerSlot {
  name: ServerName;
  server: RunningServer | undefined;
  startError: string | undefined;
}

interface Outcome {
  cell: (key: string) => Cell;
  notes: string[];
  /** Server CPU seconds the workload used, when it could be read. */
  cpuSeconds: number | undefined;
}

function cpuOf(server: RunningServer): number | undefined {
  try {
    return readProcCpuSeconds(server.pid);
  } catch {
    return undefined;
  }
}

async function runOne(workload: Workload, slot: ServerSlot, config: BenchConfig, data: BenchData, scratchDir: string, stop: AbortSignal): Promise<Outcome> {
  const server = slot.server;
  const failed = (message: string, notes: string[] = []): Outcome => ({ cell: () => ({ kind: 'error', message }), notes, cpuSeconds: undefined });
  if (server === undefined) return failed(`not started: ${slot.startError ?? '?'}`);
  const exited = server.exitStatus();
  if (exited !== undefined) return failed(`server ${exited}`);
  const cpuBefore = cpuOf(server);
  // A plain controller and timer: signals from AbortSignal.any/timeout can be collected before they fire on Node 20.
  const controller = new AbortController();
  setMaxListeners(10_000, controller.signal); // one listener per request in flight
  const timer = setTimeout(() => controller.abort(new Error(`over ${config.workloadTimeoutSeconds} s`)), config.workloadTimeoutSeconds * 1000);
  const onStop = (): void => controller.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  try {
    const measured = await workload.run({ config, server, data, signal: controller.signal, scratchDir });
    const cpuAfter = cpuOf(server);
    return {
      cell: (key) => {
        const value = measured.values[key];
        return value === undefined || !Number.isFinite(value) ? { kind: 'error', message: 'no figure' } : { kind: 'value', value };
      },
      notes: measured.notes,
      cpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    };
  } catch (err) {
    const after = server.exitStatus();
    const message = after === undefined ? errorMessage(err) : `${errorMessage(err)} (server ${after})`;
    return failed(message, [`ERROR: ${message}`]);
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

async function benchmark(config: BenchConfig, workDir: string, slots: ServerSlot[], stop: AbortSignal): Promise<Omit<Results, 'date' | 'totalSeconds' | 'machine'>> {
  log(`measuring ceilings over ${config.ceilingMiB} MiB`);
  let ceilings: Ceilings | { error: string };
  try {
    ceilings = await measureCeilings(workDir, config.ceilingMiB);
  } catch (err) {
    ceilings = { error: errorMessage(err) };
  }

  log(`writing ${config.monoBlobs + config.chunkedBlobs} × ${config.blobMiB} MiB of random blob data`);
  const data = await createData(config, join(workDir, 'blobs'));

  for (const slot of slots) {
    log(`starting ${SERVER_LABELS[slot.name]}`);
    try {
      slot.server = await startServer(slot.name, { workDir, logDir: join(repoRoot, '.bench', 'logs'), repoRoot });
      log(`${SERVER_LABELS[slot.name]} ready at ${slot.server.target.baseUrl} (pid ${slot.server.pid})`);
    } catch (err) {
      slot.startError = errorMessage(err);
      log(`${SERVER_LABELS[slot.name]} failed to start: ${slot.startError}`);
    }
  }

  const rows: Row[] = [];
  const notes: string[] = [];
  const cpu = new Map<ServerName, string[]>(slots.map((s) => [s.name, []]));
  for (const slot of slots) {
    if (slot.startError !== undefined) notes.push(`${SERVER_LABELS[slot.name]} did not start: ${slot.startError}`);
  }
  const workloads = allWorkloads(config);
  for (const [index, workload] of workloads.entries()) {
    const workloadRows: Row[] = workload.metrics.map((metric) => ({ workloadId: workload.id, metric, cells: {} }));
    rows.push(...workloadRows);
    // Alternate which server goes first so drift in the machine's load does not favour one.
    const order = index % 2 === 0 ? slots : [...slots].reverse();
    for (const slot of order) {
      if (stop.aborted) throw new Error('interrupted');
      await execFileAsync('sync');
      log(`${workload.title} → ${SERVER_LABELS[slot.name]}`);
      const outcome = await runOne(workload, slot, config, data, workDir, stop);
      for (const row of workloadRows) row.cells[slot.name] = outcome.cell(row.metric.key);
      for (const note of outcome.notes) notes.push(`${SERVER_LABELS[slot.name]}, ${workload.title}: ${note}`);
      if (outcome.cpuSeconds !== undefined && outcome.cpuSeconds > 0) cpu.get(slot.name)?.push(`${workload.id} ${outcome.cpuSeconds.toFixed(1)}`);
      const shown = workloadRows.map((r) => {
        const cell = r.cells[slot.name];
        return cell?.kind === 'value' ? `${cell.value.toFixed(1)} ${r.metric.unit}` : cell?.kind === 'error' ? `ERROR ${cell.message}` : '—';
      });
      log(`  ${shown.join(', ')}`);
    }
  }

  const servers: ServerInfo[] = slots.map((s) => ({ name: s.name, label: SERVER_LABELS[s.name], command: s.server?.command ?? `not started: ${s.startError ?? '?'}` }));
  for (const slot of slots) {
    const used = cpu.get(slot.name) ?? [];
    if (used.length > 0) notes.push(`${SERVER_LABELS[slot.name]} CPU seconds per workload: ${used.join(', ')}`);
  }
  for (const slot of slots) {
    if (slot.server !== undefined) notes.push(`${SERVER_LABELS[slot.name]} log: ${slot.server.logPath.replace(repoRoot + '/', '')}`);
  }
  return { config, ceilings, servers, rows, notes };
}

async function main(): Promise<number> {
  const config = loadConfig();
  const started = performance.now();
  const workDir = await mkdtemp(join(config.tmpParent ?? tmpdir(), 'berth-bench-'));
  const slots: ServerSlot[] = config.servers.map((name) => ({ name, server: undefined, startError: undefined }));
  let cleaning: Promise<void> | undefined;
  // Idempotent: a signal and main's `finally` may both ask; both wait for the one cleanup.
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await Promise.all(slots.map((s) => s.server?.stop()));
      if (config.keepTmp) log(`kept ${workDir}`);
      else await rm(workDir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  const interrupted = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping servers and removing ${workDir}`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(`work dir ${workDir}${config.quick ? ' (BENCH_QUICK)' : ''}`);
    const machine = await machineInfo(repoRoot);
    const partial = await benchmark(config, workDir, slots, interrupted.signal);
    const results: Results = { date: new Date().toISOString().slice(0, 10), totalSeconds: (performance.now() - started) / 1000, machine, ...partial };
    const outDir = join(repoRoot, '.bench');
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    await writeFile(join(outDir, 'results.md'), renderMarkdown(results));
    process.stdout.write('\n' + renderText(results));
    log('wrote .bench/results.md and .bench/results.json');
    return 0;
  } catch (err) {
    if (interrupted.signal.aborted) return 130;
    throw err;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
