import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { startBerth, type RunningBerth } from '../../src/server.js';

export const ADMIN_PASSWORD = 'test-password';
export const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

export interface TestBerth extends RunningBerth {
  dataDir: string;
  /** fetch against the server with the administrator's credentials unless headers say otherwise. */
  request(path: string, init?: RequestInit & { anonymous?: boolean }): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts Berth in-process on a free loopback port with a fresh data directory. */
export async function startTestBerth(overrides: Record<string, string> = {}): Promise<TestBerth> {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-test-'));
  const config = resolveConfig({ listen: '127.0.0.1:0', dataDir, adminPassword: ADMIN_PASSWORD, logLevel: 'warn', ...overrides });
  const berth = await startBerth(config);
  return {
    ...berth,
    dataDir,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!init.anonymous && !headers.has('authorization')) headers.set('authorization', AUTH);
      return fetch(`${berth.url}${path}`, { ...init, headers, redirect: 'manual', ...(init.body ? { duplex: 'half' } : {}) } as RequestInit);
    },
    async stop() {
      await berth.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
