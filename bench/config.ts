/**
 * Benchmark sizes and switches, all read from the environment once.
 * `BENCH_QUICK=1` picks small defaults; every individual knob overrides both.
 * The table in docs/benchmarks.md lists them.
 */

export type ServerName = 'berth' | 'distribution';

export const SERVER_LABELS: Record<ServerName, string> = { berth: 'Berth', distribution: 'Distribution' };

export interface BenchConfig {
  quick: boolean;
  /** Servers to run, in the order each workload visits them. */
  servers: ServerName[];
  /** Workload 1: number and size of monolithic blobs. */
  monoBlobs: number;
  blobMiB: number;
  /** Workload 2: number of chunked blobs (same size as above) and chunk size. */
  chunkedBlobs: number;
  chunkMiB: number;
  /** Workload 4: wrk duration and connections. */
  wrkSeconds: number;
  wrkConnections: number;
  wrkThreads: number;
  /** Workload 5: number of small images and push concurrency. */
  images: number;
  imageConcurrency: number;
  /** Workload 6: tags in the tag-list repository. */
  tags: number;
  /** Timed repetitions for median-of figures (tags list, catalog). */
  repeats: number;
  /** Ceiling measurements: bytes hashed and written with fsync. */
  ceilingMiB: number;
  /** Upper bound for one workload against one server, in seconds. */
  workloadTimeoutSeconds: number;
  /** Parent of the temp dir (blob files, both data dirs). */
  tmpParent: string | undefined;
  /** Keep the temp dir instead of deleting it. */
  keepTmp: boolean;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

function flagFromEnv(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  return raw !== undefined && raw !== '' && raw !== '0' && raw.toLowerCase() !== 'false';
}

function serversFromEnv(env: NodeJS.ProcessEnv): ServerName[] {
  const raw = env['BENCH_SERVERS'];
  if (raw === undefined || raw.trim() === '') return ['berth', 'distribution'];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const servers: ServerName[] = [];
  for (const name of names) {
    if (name !== 'berth' && name !== 'distribution') throw new Error(`BENCH_SERVERS: unknown server '${name}' (berth, distribution)`);
    if (!servers.includes(name)) servers.push(name);
  }
  if (servers.length === 0) throw new Error('BENCH_SERVERS names no server');
  return servers;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = flagFromEnv(env, 'BENCH_QUICK');
  const config: BenchConfig = {
    quick,
    servers: serversFromEnv(env),
    monoBlobs: intFromEnv(env, 'BENCH_MONO_BLOBS', quick ? 2 : 4),
    blobMiB: intFromEnv(env, 'BENCH_BLOB_MIB', quick ? 64 : 256),
    chunkedBlobs: intFromEnv(env, 'BENCH_CHUNKED_BLOBS', quick ? 1 : 2),
    chunkMiB: intFromEnv(env, 'BENCH_CHUNK_MIB', 16),
    wrkSeconds: intFromEnv(env, 'BENCH_WRK_SECONDS', quick ? 3 : 10),
    wrkConnections: intFromEnv(env, 'BENCH_WRK_CONNECTIONS', 32),
    wrkThreads: intFromEnv(env, 'BENCH_WRK_THREADS', 1),
    images: intFromEnv(env, 'BENCH_IMAGES', quick ? 100 : 500),
    imageConcurrency: intFromEnv(env, 'BENCH_IMAGE_CONCURRENCY', 16),
    tags: intFromEnv(env, 'BENCH_TAGS', quick ? 300 : 2000),
    repeats: intFromEnv(env, 'BENCH_REPEATS', quick ? 3 : 7),
    ceilingMiB: intFromEnv(env, 'BENCH_CEILING_MIB', quick ? 256 : 1024),
    workloadTimeoutSeconds: intFromEnv(env, 'BENCH_TIMEOUT_SECONDS', 180),
    tmpParent: env['BENCH_TMPDIR'] === '' ? undefined : env['BENCH_TMPDIR'],
    keepTmp: flagFromEnv(env, 'BENCH_KEEP_TMP'),
  };
  if (config.chunkMiB > config.blobMiB) throw new Error('BENCH_CHUNK_MIB must not exceed BENCH_BLOB_MIB');
  return config;
}

export const MiB = 1024 * 1024;
