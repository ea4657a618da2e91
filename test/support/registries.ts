/**
 * Starting and stopping the registries under test: Berth (as a child
 * process, per the `berth serve` contract) and CNCF Distribution (the
 * reference implementation, `docker-registry` from Debian). Both are reached
 * through a RecordingProxy so tests can see and report the HTTP exchanges.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { findExecutable, freePort, removeDir, repoRoot, tempDir } from './env.js';
import { ServerProcess, waitFor } from './process.js';
import { formatExchanges, RecordingProxy, type RecordedExchange } from './recording-proxy.js';

export type RegistryKind = 'berth' | 'distribution';

export interface Credentials {
  username: string;
  password: string;
}

export interface Registry {
  kind: RegistryKind;
  /** `127.0.0.1:<port>` as clients should use it (the recording proxy). */
  host: string;
  /** `http://<host>` */
  url: string;
  /** `127.0.0.1:<port>` of the server itself, bypassing the proxy. */
  directHost: string;
  /** Basic-auth credentials the registry accepts, or undefined if it has no auth. */
  credentials: Credentials | undefined;
  /** Every HTTP exchange that went through the proxy. */
  exchanges: RecordedExchange[];
  /** Where the server keeps its data (temp dir, removed on stop). */
  dataDir: string;
  /** The end of the server's own output. */
  serverOutput(maxChars?: number): string;
  /** Server output and the last proxied exchanges, for failure messages. */
  diagnostics(maxExchanges?: number): string;
  /** fetch() against the registry with its credentials (unless `anonymous`). */
  fetch(path: string, init?: RequestInit & { anonymous?: boolean; credentials?: Credentials }): Promise<Response>;
  stop(): Promise<void>;
}

export const BERTH_ADMIN_USER = 'admin';

/**
 * The password Distribution accepts when started with `auth: true`, and the
 * bcrypt hash of it (cost 4, so the registry's per-request check stays
 * cheap). A fixed test-only credential for a loopback-only registry.
 */
export const DISTRIBUTION_PASSWORD = 'berth-e2e-password';
const DISTRIBUTION_HTPASSWD_HASH = '$2a$04$LJdNooH8LTWzN8fgLxrYo.w1dhKdjAAh/J1oTrhBOgz2Zne9pn1au';

const READY_TIMEOUT_MS = 60_000;

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Answers when GET /v2/ answers at all (200, or 401 when auth is on). */
async function v2Answers(hostPort: string): Promise<number | undefined> {
  const res = await fetch(`http://${hostPort}/v2/`, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status === 200 || res.status === 401 ? res.status : undefined;
}

async function assemble(
  kind: RegistryKind,
  server: ServerProcess,
  port: number,
  dataDir: string,
  credentials: Credentials | undefined,
  extraCleanup: string[],
): Promise<Registry> {
  const proxy = new RecordingProxy('127.0.0.1', port);
  try {
    await proxy.start();
  } catch (err) {
    await server.stop();
    for (const dir of extraCleanup) await removeDir(dir);
    throw err;
  }
  const host = `127.0.0.1:${proxy.port}`;
  let stopped = false;
  const registry: Registry = {
    kind,
    host,
    url: `http://${host}`,
    directHost: `127.0.0.1:${port}`,
    credentials,
    exchanges: proxy.exchanges,
    dataDir,
    serverOutput: (maxChars) => server.output(maxChars),
    diagnostics(maxExchanges = 30) {
      const status = server.exitStatus;
      return (
        `--- ${kind} on ${registry.directHost} (proxy ${host})${status ? `: ${status}` : ''} ---\n` +
        `--- last HTTP exchanges ---\n${formatExchanges(proxy.exchanges, maxExchanges)}\n` +
        `--- server output (end) ---\n${server.output(6000)}`
      );
    },
    fetch(path, init = {}) {
      const { anonymous, credentials: override, ...rest } = init;
      const headers = new Headers(rest.headers);
      const creds = override ?? credentials;
      if (!anonymous && creds && !headers.has('authorization')) headers.set('authorization', basic(creds));
      return fetch(`${registry.url}${path}`, { ...rest, headers, signal: rest.signal ?? AbortSignal.timeout(30_000) });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proxy.stop();
      await server.stop();
      for (const dir of extraCleanup) await removeDir(dir);
    },
  };
  return registry;
}

/** The environment for a child: ours, minus test-runner and Berth settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('BERTH_') || key.startsWith('NODE_TEST') || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return env;
}

export function berthAvailable(): boolean {
  return existsSync(join(repoRoot, 'src', 'cli.ts'));
}

export interface BerthOptions {
  /** BERTH_DATABASE_URL; the default (unset) lets Berth use its embedded store. */
  databaseUrl?: string;
  /** Extra BERTH_* settings. */
  env?: Record<string, string>;
}

/**
 * Starts `node --import tsx src/cli.ts serve` on a free loopback port with a
 * fresh data dir and a random admin password. Resolves once GET /v2/ answers.
 */
export async function startBerth(options: BerthOptions = {}): Promise<Registry> {
  if (!berthAvailable()) throw new Error(`Berth is not built yet: ${join(repoRoot, 'src', 'cli.ts')} does not exist`);
  const port = await freePort();
  const dataDir = await tempDir('berth-data');
  const credentials: Credentials = { username: BERTH_ADMIN_USER, password: randomBytes(12).toString('base64url') };
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    BERTH_LISTEN: `127.0.0.1:${port}`,
    BERTH_DATA_DIR: dataDir,
    BERTH_ADMIN_USER: credentials.username,
    BERTH_ADMIN_PASSWORD: credentials.password,
    ...(options.databaseUrl ? { BERTH_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  const server = new ServerProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: repoRoot, env });
  try {
    await waitFor(`Berth on 127.0.0.1:${port}`, () => v2Answers(`127.0.0.1:${port}`), {
      timeoutMs: READY_TIMEOUT_MS,
      server,
    });
  } catch (err) {
    await server.stop();
    await removeDir(dataDir);
    throw err;
  }
  return assemble('berth', server, port, dataDir, credentials, [dataDir]);
}

export interface DistributionOptions {
  /**
   * Require Basic auth (htpasswd, user `admin`, DISTRIBUTION_PASSWORD), so
   * the same scenario, logins included, runs against both registries.
   */
  auth?: boolean;
}

export function distributionBinary(): string | undefined {
  return findExecutable('docker-registry') ?? findExecutable('registry');
}

/**
 * Starts CNCF Distribution with filesystem storage in a temp dir, deletes
 * enabled, listening on a free loopback port. No auth unless asked.
 */
export async function startDistribution(options: DistributionOptions = {}): Promise<Registry> {
  const binary = distributionBinary();
  if (!binary) throw new Error('docker-registry not installed');
  const port = await freePort();
  const dir = await tempDir('distribution');
  const dataDir = join(dir, 'data');
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'text' },
    storage: {
      filesystem: { rootdirectory: dataDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
  };
  let credentials: Credentials | undefined;
  if (options.auth) {
    credentials = { username: BERTH_ADMIN_USER, password: DISTRIBUTION_PASSWORD };
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `${credentials.username}:${DISTRIBUTION_HTPASSWD_HASH}\n`);
    config.auth = { htpasswd: { realm: 'berth-e2e', path: htpasswd } };
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, toYaml(config));
  const env = { ...cleanEnv() };
  for (const key of Object.keys(env)) if (key.startsWith('REGISTRY_')) delete env[key];
  const server = new ServerProcess(binary, ['serve', configPath], { cwd: dir, env });
  try {
    await waitFor(`Distribution on 127.0.0.1:${port}`, () => v2Answers(`127.0.0.1:${port}`), {
      timeoutMs: READY_TIMEOUT_MS,
      server,
    });
  } catch (err) {
    await server.stop();
    await removeDir(dir);
    throw err;
  }
  return assemble('distribution', server, port, dataDir, credentials, [dir]);
}

/** Starts the named registry (Distribution with auth, so both demand credentials). */
export function startRegistry(kind: RegistryKind): Promise<Registry> {
  return kind === 'berth' ? startBerth({ databaseUrl: process.env.BERTH_E2E_DATABASE_URL }) : startDistribution({ auth: true });
}

/** Why the registry cannot be started here, or undefined when it can. */
export function registryUnavailable(kind: RegistryKind): string | undefined {
  if (kind === 'berth') return berthAvailable() ? undefined : 'Berth server not present (src/cli.ts does not exist yet)';
  return distributionBinary() ? undefined : 'docker-registry not installed';
}
