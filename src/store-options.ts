import { Option, type Command } from 'commander';
import { readConfigFile, resolveConfig, SETTINGS, type BerthConfig, type RawSettings } from './config.js';

/** What the operator commands (`berth admin`, `berth lifecycle`) are told about which data to work on. */
export interface StoreOptions {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
}

/** The options that say which data directory and database a command works on. */
export function withStoreOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', "the server's YAML or JSON config file").env('BERTH_CONFIG'))
    .addOption(new Option('--data-dir <path>', 'data directory (env BERTH_DATA_DIR; default: ./data)'))
    .addOption(new Option('--database-url <url>', 'metadata database: sqlite:<path> or postgres://… (env BERTH_DATABASE_URL; default: sqlite:<data-dir>/berth.db)'));
}

/**
 * The server's settings as `berth serve` would see them (flag, then
 * environment, then config file), so an operator command finds the same
 * data and the same default account (BERTH_ACCOUNT_ID, BERTH_PUBLIC_ALIAS,
 * BERTH_ROOT_ACCESS_KEY_ID).
 */
export function serverConfig(options: StoreOptions): BerthConfig {
  const fromFile: RawSettings = options.config ? readConfigFile(options.config) : {};
  const fromEnv: RawSettings = {};
  for (const setting of SETTINGS) {
    const value = process.env[setting.env];
    if (value !== undefined && value !== '') fromEnv[setting.key] = value;
  }
  const fromFlags: RawSettings = {};
  if (options.dataDir !== undefined) fromFlags.dataDir = options.dataDir;
  if (options.databaseUrl !== undefined) fromFlags.databaseUrl = options.databaseUrl;
  return resolveConfig(fromFile, fromEnv, fromFlags);
}
