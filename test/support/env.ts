/**
 * Small building blocks for the end-to-end tests: free ports, temporary
 * directories that are removed even when something is still mounted in them,
 * and detection of the client programs (skopeo, podman, ...), which skip a
 * test when missing unless BERTH_E2E_REQUIRED=1 says they must be there.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { run } from './process.js';

/** The repository root (this file is test/support/env.ts). */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** True when missing clients and engines must fail the tests instead of skipping them. */
export function e2eRequired(): boolean {
  return process.env.BERTH_E2E_REQUIRED === '1';
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/** A fresh directory under the system temp dir. */
export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `berth-e2e-${label}-`));
}

/** Mount points at or below `dir`, deepest first. */
async function mountsBelow(dir: string): Promise<string[]> {
  let table: string;
  try {
    table = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const line of table.split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint === undefined) continue;
    // mountinfo escapes space, tab, newline and backslash as octal.
    const path = mountPoint.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    if (path === dir || path.startsWith(`${dir}/`)) found.push(path);
  }
  return found.sort((a, b) => b.length - a.length);
}

/** Removes a temp dir, first lazily unmounting anything mounted inside it (dockerd does that). */
export async function removeDir(dir: string): Promise<void> {
  for (const mountPoint of await mountsBelow(dir)) {
    await run('umount', ['-l', mountPoint], { allowFailure: true, timeoutMs: 30_000 });
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
}

/** Full path of an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const dir of [...dirs, '/usr/sbin', '/sbin']) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function hasClient(name: string): boolean {
  return findExecutable(name) !== undefined;
}

/**
 * Skips the test (returning false) when `reason` is set, or fails it when
 * BERTH_E2E_REQUIRED=1. Returns true when the test can go on.
 */
export function requireOrSkip(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (e2eRequired()) throw new Error(`${reason} (BERTH_E2E_REQUIRED=1 makes this a failure)`);
  t.skip(reason);
  return false;
}

/**
 * `if (!requireClient(t, 'skopeo')) return;` — skips with "skopeo not
 * installed" when the binary is missing, or fails under BERTH_E2E_REQUIRED=1.
 */
export function requireClient(t: TestContext, name: string): boolean {
  return requireOrSkip(t, hasClient(name) ? undefined : `${name} not installed`);
}

/** requireClient for several binaries; reports the first missing one. */
export function requireClients(t: TestContext, names: readonly string[]): boolean {
  const missing = names.find((n) => !hasClient(n));
  return requireOrSkip(t, missing === undefined ? undefined : `${missing} not installed`);
}
