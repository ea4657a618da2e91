import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { AdminCredential } from './auth/admin-credential.js';
import type { BerthConfig } from './config.js';
import { buildApp } from './http/app.js';
import { Registry } from './registry/registry.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { openMetadataStore } from './storage/sql/open.js';

export interface RunningBerth {
  app: FastifyInstance;
  registry: Registry;
  url: string;
  /** Set only on the start that generated the administrator password. */
  generatedAdminPassword: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Whether this process removes abandoned uploads (one process of a group is enough). */
  cleanUpUploads?: boolean;
}

/**
 * What must happen once before any server process starts: migrations and
 * the administrator login (whose generated password is returned to print once).
 */
export async function prepareDataDir(config: BerthConfig): Promise<string | undefined> {
  const metadata = await openMetadataStore(config.databaseUrl);
  try {
    await metadata.migrate();
  } finally {
    await metadata.close();
  }
  const { generatedPassword } = await AdminCredential.load(config.dataDir, config.adminUser, config.adminPassword);
  return generatedPassword;
}

/** Opens the stores, builds the app and listens. */
export async function startBerth(config: BerthConfig, options: StartOptions = {}): Promise<RunningBerth> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const metadata = await openMetadataStore(config.databaseUrl);
  await metadata.migrate();
  const blobs = await FsBlobStore.open(config.dataDir);
  const registry = new Registry(metadata, blobs, config.uploadTtlSeconds * 1000);
  const { credential, generatedPassword } = await AdminCredential.load(config.dataDir, config.adminUser, config.adminPassword);
  const https = config.tlsCert && config.tlsKey ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) } : undefined;
  const app = buildApp({ registry, credential, logger, ...(https ? { https } : {}) });

  const cleanupTimer =
    options.cleanUpUploads === false
      ? undefined
      : setInterval(() => {
          registry
            .removeAbandonedUploads(Date.now() - config.uploadTtlSeconds * 1000)
            .then((removed) => removed > 0 && logger.info({ removed }, 'removed abandoned uploads'))
            .catch((err: unknown) => logger.error({ err }, 'abandoned upload cleanup failed'));
        }, config.uploadCleanupIntervalSeconds * 1000);
  cleanupTimer?.unref();

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    registry,
    url: `${https ? 'https' : 'http'}://${host}:${port}`,
    generatedAdminPassword: generatedPassword,
    async close() {
      clearInterval(cleanupTimer);
      await app.close();
      await metadata.close();
    },
  };
}
