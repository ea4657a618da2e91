import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface BerthConfig {
  host: string;
  port: number;
  /** A listener of the AWS APIs alone (ECR, ECR Public, IAM, STS); unset: they answer on the registry listener. */
  apiListen: { host: string; port: number } | undefined;
  dataDir: string;
  /** `sqlite:<path>` or `postgres://…`; defaults to SQLite inside the data directory. */
  databaseUrl: string;
  adminUser: string;
  /** When absent on first start, a password is generated and printed once. */
  adminPassword: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Uploads untouched for this long are abandoned and removed. */
  uploadTtlSeconds: number;
  uploadCleanupIntervalSeconds: number;
  /** How often lifecycle policies are applied; 0: never on a schedule (`berth lifecycle run` still works). */
  lifecycleIntervalSeconds: number;
  logLevel: string;
  /** Server processes sharing the listener (node:cluster); 1 serves from this process alone. */
  workers: number;
  /** The default account's 12-digit id and region. */
  accountId: string;
  region: string;
  /** The default account's root access key; generated on first start (and printed once) when unset. */
  rootAccessKeyId: string | undefined;
  rootSecretAccessKey: string | undefined;
  /** The challenge of an unauthenticated `/v2/` request: Basic (as ECR) or the Docker token flow. */
  authChallenge: 'basic' | 'bearer';
  /** The alias of the default account's public registry (`<host>/public/<alias>/<repository>`). */
  publicAlias: string;
  /** With a wildcard DNS name `*.<domain>` pointing here, `<account>.<domain>` addresses that account's private registry. */
  registryDomain: string | undefined;
  /** A push to a missing repository creates it (as Distribution does); false: only CreateRepository or a CREATE_ON_PUSH template does (as ECR). */
  createRepositoryOnPush: boolean;
}

/** Every setting: its config-file key, environment variable and CLI flag. `--help` is built from this. */
export const SETTINGS = [
  { key: 'listen', env: 'BERTH_LISTEN', flag: '--listen <host:port>', help: 'address to listen on', default: '127.0.0.1:5000' },
  { key: 'apiListen', env: 'BERTH_API_LISTEN', flag: '--api-listen <host:port>', help: 'serve the AWS APIs (ECR, ECR Public, IAM, STS) on this address only, not on --listen', default: undefined },
  { key: 'dataDir', env: 'BERTH_DATA_DIR', flag: '--data-dir <path>', help: 'directory for blobs and the embedded database', default: './data' },
  { key: 'databaseUrl', env: 'BERTH_DATABASE_URL', flag: '--database-url <url>', help: 'metadata database: sqlite:<path> or postgres://…', default: 'sqlite:<data-dir>/berth.db' },
  { key: 'adminUser', env: 'BERTH_ADMIN_USER', flag: '--admin-user <name>', help: 'administrator login created on first start', default: 'admin' },
  { key: 'adminPassword', env: 'BERTH_ADMIN_PASSWORD', flag: '--admin-password <password>', help: 'administrator password (generated and printed once if unset)', default: undefined },
  { key: 'tlsCert', env: 'BERTH_TLS_CERT', flag: '--tls-cert <file>', help: 'PEM certificate; with --tls-key serves HTTPS', default: undefined },
  { key: 'tlsKey', env: 'BERTH_TLS_KEY', flag: '--tls-key <file>', help: 'PEM private key for --tls-cert', default: undefined },
  { key: 'uploadTtlSeconds', env: 'BERTH_UPLOAD_TTL', flag: '--upload-ttl <seconds>', help: 'age after which an idle upload is abandoned', default: '86400' },
  { key: 'uploadCleanupIntervalSeconds', env: 'BERTH_UPLOAD_CLEANUP_INTERVAL', flag: '--upload-cleanup-interval <seconds>', help: 'how often abandoned uploads are removed', default: '600' },
  { key: 'lifecycleIntervalSeconds', env: 'BERTH_LIFECYCLE_INTERVAL', flag: '--lifecycle-interval <seconds>', help: 'how often lifecycle policies are applied (0: never)', default: '86400' },
  { key: 'accountId', env: 'BERTH_ACCOUNT_ID', flag: '--account-id <12 digits>', help: 'id of the default account', default: '000000000000' },
  { key: 'region', env: 'BERTH_REGION', flag: '--region <name>', help: "the default account's region", default: 'us-east-1' },
  { key: 'rootAccessKeyId', env: 'BERTH_ROOT_ACCESS_KEY_ID', flag: '--root-access-key-id <id>', help: "the default account's root access key id (generated and printed once if unset)", default: undefined },
  { key: 'rootSecretAccessKey', env: 'BERTH_ROOT_SECRET_ACCESS_KEY', flag: '--root-secret-access-key <secret>', help: 'its secret access key', default: undefined },
  { key: 'publicAlias', env: 'BERTH_PUBLIC_ALIAS', flag: '--public-alias <alias>', help: "alias of the default account's public registry (<host>/public/<alias>/<repo>)", default: '<account-id>' },
  { key: 'registryDomain', env: 'BERTH_REGISTRY_DOMAIN', flag: '--registry-domain <domain>', help: 'wildcard domain: <account>.<domain> addresses that account (needs DNS *.<domain>)', default: undefined },
  { key: 'createRepositoryOnPush', env: 'BERTH_CREATE_REPOSITORY_ON_PUSH', flag: '--create-repository-on-push <true|false>', help: "a push to a missing repository creates it; 'false' as ECR: only CreateRepository or a CREATE_ON_PUSH creation template", default: 'true' },
  { key: 'authChallenge', env: 'BERTH_AUTH_CHALLENGE', flag: '--auth-challenge <basic|bearer>', help: "401 challenge on /v2/: 'basic' (as ECR) or 'bearer' (Docker token flow via /auth/token)", default: 'basic' },
  { key: 'workers', env: 'BERTH_WORKERS', flag: '--workers <n|auto>', help: "server processes sharing the listener; 'auto' is one per CPU", default: '1' },
  { key: 'logLevel', env: 'BERTH_LOG_LEVEL', flag: '--log-level <level>', help: 'fatal, error, warn, info, debug, trace or silent', default: 'info' },
] as const;

export type SettingKey = (typeof SETTINGS)[number]['key'];
export type RawSettings = Partial<Record<SettingKey, string>>;

export class ConfigError extends Error {}

/** Reads a YAML or JSON config file whose keys are the `key`s of SETTINGS. */
export function readConfigFile(path: string): RawSettings {
  const parsed: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${path}: expected a mapping of settings`);
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  const raw: RawSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key)) throw new ConfigError(`${path}: unknown setting '${key}'`);
    if (value === null || value === '') continue;
    if (typeof value === 'object') throw new ConfigError(`${path}: '${key}' must be a single value`);
    raw[key as SettingKey] = String(value);
  }
  return raw;
}

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got '${value}'`);
  return n;
}

/** Node timers hold at most 2^31-1 ms (and fire at once beyond that). */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function lifecycleInterval(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_TIMER_SECONDS) throw new ConfigError(`lifecycle-interval must be 0 (never) or 1–${MAX_TIMER_SECONDS} seconds, got '${value}'`);
  return n;
}

export function parseListen(value: string, name = 'listen'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!match) throw new ConfigError(`${name} must be host:port, got '${value}'`);
  const port = Number(match[3]);
  if (port > 65535) throw new ConfigError(`${name} port out of range: ${port}`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function accountId(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new ConfigError(`account-id must be 12 digits, got '${value}'`);
  return value;
}

function region(value: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)) throw new ConfigError(`region must look like us-east-1, got '${value}'`);
  return value;
}

function rootKey(id: string | undefined, secret: string | undefined): { rootAccessKeyId: string | undefined; rootSecretAccessKey: string | undefined } {
  if ((id === undefined) !== (secret === undefined)) throw new ConfigError('root-access-key-id and root-secret-access-key must be given together');
  if (id !== undefined && !/^[A-Z0-9]{16,128}$/.test(id)) throw new ConfigError('root-access-key-id must be 16–128 upper-case letters and digits');
  return { rootAccessKeyId: id, rootSecretAccessKey: secret };
}

/** ECR Public's alias rule: 2–50 lower-case letters, digits and single hyphens, starting with a letter or digit. */
export const PUBLIC_ALIAS = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function publicAlias(value: string): string {
  if (value.length < 2 || value.length > 50 || !PUBLIC_ALIAS.test(value)) throw new ConfigError(`public-alias must be 2–50 lower-case letters, digits and hyphens, got '${value}'`);
  return value;
}

function registryDomain(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(domain)) throw new ConfigError(`registry-domain must be a DNS name, got '${value}'`);
  return domain;
}

function booleanSetting(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new ConfigError(`${name} must be true or false, got '${value}'`);
  return value === 'true';
}

function authChallenge(value: string): 'basic' | 'bearer' {
  if (value !== 'basic' && value !== 'bearer') throw new ConfigError(`auth-challenge must be basic or bearer, got '${value}'`);
  return value;
}

function workerCount(value: string): number {
  return value === 'auto' ? availableParallelism() : positiveInteger('workers', value);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(value: string): string {
  if (!LOG_LEVELS.includes(value)) throw new ConfigError(`log-level must be one of ${LOG_LEVELS.join(', ')}, got '${value}'`);
  return value;
}

/** Merges layers (later wins) over the defaults and validates the result. */
export function resolveConfig(...layers: RawSettings[]): BerthConfig {
  const merged: RawSettings = {};
  for (const layer of layers) Object.assign(merged, layer);
  const pick = (key: SettingKey): string | undefined => merged[key] ?? SETTINGS.find((s) => s.key === key)?.default;

  const { host, port } = parseListen(pick('listen') as string);
  const apiListenValue = pick('apiListen');
  const apiListen = apiListenValue === undefined ? undefined : parseListen(apiListenValue, 'api-listen');
  if (apiListen && apiListen.port !== 0 && apiListen.port === port && apiListen.host === host) throw new ConfigError('api-listen must differ from listen');
  const dataDir = resolve(pick('dataDir') as string);
  const tlsCert = pick('tlsCert');
  const tlsKey = pick('tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError('tls-cert and tls-key must be given together');
  return {
    host,
    port,
    apiListen,
    dataDir,
    databaseUrl: merged.databaseUrl ?? `sqlite:${join(dataDir, 'berth.db')}`,
    adminUser: pick('adminUser') as string,
    adminPassword: pick('adminPassword'),
    tlsCert,
    tlsKey,
    uploadTtlSeconds: positiveInteger('upload-ttl', pick('uploadTtlSeconds') as string),
    uploadCleanupIntervalSeconds: positiveInteger('upload-cleanup-interval', pick('uploadCleanupIntervalSeconds') as string),
    lifecycleIntervalSeconds: lifecycleInterval(pick('lifecycleIntervalSeconds') as string),
    logLevel: logLevel(pick('logLevel') as string),
    workers: workerCount(pick('workers') as string),
    authChallenge: authChallenge(pick('authChallenge') as string),
    accountId: accountId(pick('accountId') as string),
    publicAlias: publicAlias(merged.publicAlias ?? accountId(pick('accountId') as string)),
    registryDomain: registryDomain(pick('registryDomain')),
    createRepositoryOnPush: booleanSetting('create-repository-on-push', pick('createRepositoryOnPush') as string),
    region: region(pick('region') as string),
    ...rootKey(pick('rootAccessKeyId'), pick('rootSecretAccessKey')),
  };
}
