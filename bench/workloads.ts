/**
 * The workloads. Each names the figures (metrics) it produces and measures
 * them against one server; the orchestrator runs every workload against
 * every server in turn. A workload that throws turns all its figures into
 * error cells for that server only.
 */
import { MiB, type BenchConfig } from './config.js';
import { MANIFEST_ACCEPT, type BlobFile, type SmallImage } from './data.js';
import { HttpClient } from './http.js';
import { ensureBlob, fileBody, getManifest, listCatalog, listTags, pullBlob, pushBlobChunked, pushBlobMonolithic, putManifest } from './registry.js';
import { readProcMemory, RssSampler, type RunningServer } from './servers.js';
import { forEachConcurrent, MB, median, timed } from './stats.js';
import { runWrk } from './wrk.js';
import { pullOnlyUserAuthorization } from './iam.js';
import { runClosedLoop, type LoadResult } from './loadgen.js';

export type Better = 'higher' | 'lower';

export interface Metric {
  key: string;
  label: string;
  unit: string;
  better: Better;
}

/** Data made once and pushed identically to every server. */
export interface BenchData {
  monoFiles: BlobFile[];
  chunkedFiles: BlobFile[];
  images: SmallImage[];
  wrkImage: SmallImage;
  tagsImage: SmallImage;
}

export interface WorkloadContext {
  config: BenchConfig;
  server: RunningServer;
  data: BenchData;
  /** Aborts when the workload's time is up. */
  signal: AbortSignal;
  /** Scratch directory (wrk scripts). */
  scratchDir: string;
}

export interface Measurement {
  values: Record<string, number>;
  notes: string[];
}

export interface Workload {
  id: string;
  title: string;
  metrics: Metric[];
  run(ctx: WorkloadContext): Promise<Measurement>;
}

export const REPO_MONO = 'bench/mono';
export const REPO_CHUNKED = 'bench/chunked';
export const REPO_WRK = 'bench/wrk';
export const REPO_TAGS = 'bench/tags';
export const WRK_TAG = 'latest';

export function imageRepo(i: number): string {
  return `bench/small/img-${String(i).padStart(4, '0')}`;
}

export function tagName(i: number): string {
  return `t${String(i).padStart(5, '0')}`;
}

async function withClient<T>(ctx: WorkloadContext, maxSockets: number, fn: (client: HttpClient) => Promise<T>): Promise<T> {
  const client = new HttpClient(ctx.server.target, maxSockets);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const mbps = (bytes: number, seconds: number): number => bytes / MB / seconds;
const totalSize = (files: readonly BlobFile[]): number => files.reduce((sum, f) => sum + f.size, 0);

/** Pushes `files` one after another, sampling the server's RSS meanwhile. */
function measurePush(ctx: WorkloadContext, files: readonly BlobFile[], push: (client: HttpClient, file: BlobFile) => Promise<unknown>): Promise<Measurement> {
  return withClient(ctx, 1, async (client) => {
    const sampler = new RssSampler(ctx.server.pid);
    try {
      const { seconds } = await timed(async () => {
        for (const file of files) await push(client, file);
      });
      return { values: { mbps: mbps(totalSize(files), seconds), rss: sampler.stop() / MiB }, notes: [] };
    } finally {
      sampler.stop();
    }
  });
}

function monolithicPush(config: BenchConfig): Workload {
  return {
    id: 'mono',
    title: 'Monolithic push',
    metrics: [
      { key: 'mbps', label: `Monolithic push, ${config.monoBlobs} × ${config.blobMiB} MiB (POST + PUT ?digest=)`, unit: 'MB/s', better: 'higher' },
      { key: 'rss', label: 'Server RSS during monolithic push (max)', unit: 'MiB', better: 'lower' },
    ],
    run: (ctx) =>
      measurePush(ctx, ctx.data.monoFiles, (client, file) => pushBlobMonolithic(client, REPO_MONO, fileBody(file), file.digest, ctx.signal)),
  };
}

function chunkedPush(config: BenchConfig): Workload {
  return {
    id: 'chunked',
    title: 'Chunked push',
    metrics: [
      {
        key: 'mbps',
        label: `Chunked push, ${config.chunkedBlobs} × ${config.blobMiB} MiB in ${config.chunkMiB} MiB PATCHes`,
        unit: 'MB/s',
        better: 'higher',
      },
      { key: 'rss', label: 'Server RSS during chunked push (max)', unit: 'MiB', better: 'lower' },
    ],
    run: (ctx) =>
      measurePush(ctx, ctx.data.chunkedFiles, (client, file) => pushBlobChunked(client, REPO_CHUNKED, file, config.chunkMiB * MiB, ctx.signal)),
  };
}

function blobPull(config: BenchConfig): Workload {
  const streams = 4;
  return {
    id: 'pull',
    title: 'Blob pull',
    metrics: [
      { key: 'c1', label: `Blob pull, 1 at a time (${config.monoBlobs} × ${config.blobMiB} MiB)`, unit: 'MB/s', better: 'higher' },
      { key: 'c4', label: `Blob pull, ${streams} concurrent (${streams} × ${config.blobMiB} MiB)`, unit: 'MB/s', better: 'higher' },
    ],
    run: (ctx) =>
      withClient(ctx, streams, async (client) => {
        const files = ctx.data.monoFiles;
        const first = files[0];
        if (first === undefined) throw new Error('no blobs to pull');
        // Untimed: check the content once (this also puts both servers on the same page-cache footing).
        const check = await pullBlob(client, REPO_MONO, first.digest, 'hash', ctx.signal);
        if (check.digest !== first.digest || check.bytes !== first.size) {
          throw new Error(`pulled blob is wrong: ${check.bytes} bytes, ${check.digest ?? '?'}; expected ${first.size} bytes, ${first.digest}`);
        }
        const pullOne = async (file: BlobFile): Promise<number> => {
          const { bytes } = await pullBlob(client, REPO_MONO, file.digest, 'discard', ctx.signal);
          if (bytes !== file.size) throw new Error(`GET blob answered ${bytes} bytes, expected ${file.size}`);
          return bytes;
        };
        const serial = await timed(async () => {
          let bytes = 0;
          for (const file of files) bytes += await pullOne(file);
          return bytes;
        });
        const parallel = await timed(async () => {
          const sizes = await Promise.all(Array.from({ length: streams }, (_, i) => pullOne(files[i % files.length] as BlobFile)));
          return sizes.reduce((a, b) => a + b, 0);
        });
        return { values: { c1: mbps(serial.result, serial.seconds), c4: mbps(parallel.result, parallel.seconds) }, notes: [] };
      }),
  };
}

/** Pushes one small image (HEAD + POST + PUT per blob, then the manifest by tag). */
async function pushImage(client: HttpClient, image: SmallImage, signal: AbortSignal): Promise<void> {
  await ensureBlob(client, image.repo, image.layer, signal);
  await ensureBlob(client, image.repo, image.config, signal);
  await putManifest(client, image.repo, image.tag, image.manifest, signal);
}

type LoadTool = 'wrk' | 'node';

/** Who sends the manifest requests: the server's own login, or (Berth only) an IAM user whose policies are evaluated. */
type LoadIdentity = 'login' | 'iam-user';

function manifestLoad(config: BenchConfig, method: 'GET' | 'HEAD', tool: LoadTool, identity: LoadIdentity = 'login'): Workload {
  const who = identity === 'iam-user' ? ' as a PullOnly IAM user' : '';
  const name = `Manifest ${method} by tag (${tool === 'wrk' ? 'wrk' : 'node client'})${who}`;
  return {
    id: `manifest-${method.toLowerCase()}-${tool}${identity === 'iam-user' ? '-iam' : ''}`,
    title: name,
    metrics: [
      { key: 'rps', label: `${name}, ${config.wrkConnections} connections, ${config.wrkSeconds} s`, unit: 'req/s', better: 'higher' },
      { key: 'p50', label: `${name} p50 latency`, unit: 'ms', better: 'lower' },
      { key: 'p99', label: `${name} p99 latency`, unit: 'ms', better: 'lower' },
    ],
    run: async (ctx) => {
      await withClient(ctx, 1, async (client) => {
        const image = ctx.data.wrkImage;
        await pushImage(client, image, ctx.signal);
        const body = await getManifest(client, image.repo, image.tag, ctx.signal);
        if (!body.equals(image.manifest.data)) throw new Error('GET manifest by tag answered different bytes than were pushed');
      });
      let target = ctx.server.target;
      if (identity === 'iam-user') {
        if (target.name !== 'berth') throw new Error('not applicable: Distribution has no IAM users');
        target = { ...target, authorization: await pullOnlyUserAuthorization(target.baseUrl) };
      }
      const load = {
        method,
        path: `/v2/${REPO_WRK}/manifests/${WRK_TAG}`,
        seconds: config.wrkSeconds,
        connections: config.wrkConnections,
      };
      let result: LoadResult;
      if (tool === 'node') {
        result = await runClosedLoop(target, { ...load, headers: { accept: MANIFEST_ACCEPT } });
      } else if (load.method === 'GET') {
        const wrkOptions = { ...load, method: load.method, headers: { Accept: MANIFEST_ACCEPT }, threads: config.wrkThreads, scriptDir: ctx.scratchDir };
        result = await runWrk(target, wrkOptions);
      } else {
        throw new Error('wrk cannot measure HEAD (it waits for a body after each HEAD response)');
      }
      const notes: string[] = [];
      if (result.requests === 0) throw new Error(`${tool} completed no request`);
      if (result.badStatus > result.requests * 0.01) throw new Error(`${result.badStatus} of ${result.requests} responses were not 2xx/3xx`);
      if (result.badStatus > 0) notes.push(`${result.badStatus} non-2xx/3xx responses`);
      if (result.socketErrors > 0) notes.push(`${result.socketErrors} socket errors/timeouts`);
      return { values: { rps: result.requestsPerSecond, p50: result.p50Ms, p99: result.p99Ms }, notes };
    },
  };
}

function smallImages(config: BenchConfig): Workload {
  return {
    id: 'images',
    title: 'Small image pushes',
    metrics: [
      {
        key: 'ips',
        label: `Small image push, ${config.images} images at ${config.imageConcurrency} concurrent`,
        unit: 'images/s',
        better: 'higher',
      },
    ],
    run: (ctx) =>
      withClient(ctx, config.imageConcurrency, async (client) => {
        const images = ctx.data.images;
        const { seconds } = await timed(() =>
          forEachConcurrent(images.length, config.imageConcurrency, (i) => pushImage(client, images[i] as SmallImage, ctx.signal)),
        );
        return { values: { ips: images.length / seconds }, notes: [] };
      }),
  };
}

function tagsList(config: BenchConfig): Workload {
  const pageSize = 10_000;
  return {
    id: 'tags',
    title: 'Tags list',
    metrics: [
      { key: 'put', label: `Tag PUTs of one manifest (setup, ${config.tags} at ${config.imageConcurrency} concurrent)`, unit: 'req/s', better: 'higher' },
      { key: 'ms', label: `Tags list of ${config.tags} tags (?n=${pageSize}, median of ${config.repeats})`, unit: 'ms', better: 'lower' },
    ],
    run: (ctx) =>
      withClient(ctx, config.imageConcurrency, async (client) => {
        const image = ctx.data.tagsImage;
        await pushImage(client, image, ctx.signal);
        const setup = await timed(() =>
          forEachConcurrent(config.tags, config.imageConcurrency, (i) => putManifest(client, REPO_TAGS, tagName(i), image.manifest, ctx.signal)),
        );
        const expected = config.tags + 1; // plus the image's own tag
        const warm = await listTags(client, REPO_TAGS, pageSize, ctx.signal);
        if (warm.items.length !== expected) throw new Error(`tags list has ${warm.items.length} tags, expected ${expected}`);
        const notes: string[] = [];
        if (warm.pages > 1) notes.push(`tags list took ${warm.pages} pages at n=${pageSize}`);
        const sorted = [...warm.items].sort();
        if (sorted.some((tag, i) => tag !== warm.items[i])) notes.push('tags list is not in lexical order');
        const times: number[] = [];
        for (let r = 0; r < config.repeats; r += 1) times.push((await timed(() => listTags(client, REPO_TAGS, pageSize, ctx.signal))).seconds * 1000);
        return { values: { put: config.tags / setup.seconds, ms: median(times) }, notes };
      }),
  };
}

function catalog(config: BenchConfig): Workload {
  const pageSize = 1000;
  return {
    id: 'catalog',
    title: 'Catalog',
    metrics: [
      { key: 'ms', label: `Catalog of ≥ ${config.images} repositories (?n=${pageSize}, median of ${config.repeats})`, unit: 'ms', better: 'lower' },
    ],
    run: (ctx) =>
      withClient(ctx, 1, async (client) => {
        const warm = await listCatalog(client, pageSize, ctx.signal);
        const smallRepos = warm.items.filter((r) => r.startsWith('bench/small/')).length;
        if (smallRepos !== config.images) throw new Error(`catalog lists ${smallRepos} of the ${config.images} pushed image repositories`);
        const notes = [`catalog: ${warm.items.length} repositories in ${warm.pages} page(s)`];
        const times: number[] = [];
        for (let r = 0; r < config.repeats; r += 1) times.push((await timed(() => listCatalog(client, pageSize, ctx.signal))).seconds * 1000);
        return { values: { ms: median(times) }, notes };
      }),
  };
}

function idleMemory(): Workload {
  return {
    id: 'idle',
    title: 'Idle memory',
    metrics: [{ key: 'rss', label: 'Server RSS after start (idle)', unit: 'MiB', better: 'lower' }],
    run: async (ctx) => ({ values: { rss: readProcMemory(ctx.server.pid).rss / MiB }, notes: [] }),
  };
}

function peakMemory(): Workload {
  return {
    id: 'memory',
    title: 'Memory',
    metrics: [{ key: 'hwm', label: 'Server peak RSS over the whole run (VmHWM)', unit: 'MiB', better: 'lower' }],
    run: async (ctx) => ({ values: { hwm: readProcMemory(ctx.server.pid).hwm / MiB }, notes: [] }),
  };
}

/** Every workload, in the order they run (pull needs mono's blobs; catalog needs images' repositories). */
export function allWorkloads(config: BenchConfig): Workload[] {
  return [
    idleMemory(),
    monolithicPush(config),
    chunkedPush(config),
    blobPull(config),
    manifestLoad(config, 'GET', 'wrk'),
    manifestLoad(config, 'GET', 'wrk', 'iam-user'),
    manifestLoad(config, 'GET', 'node'),
    manifestLoad(config, 'HEAD', 'node'),
    smallImages(config),
    tagsList(config),
    catalog(config),
    peakMemory(),
  ];
}
