#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, readConfigFile, resolveConfig, SETTINGS, type BerthConfig, type RawSettings, type SettingKey } from './config.js';
import cluster from 'node:cluster';
import { AdminError } from './accounts/admin.js';
import { addAdminCommands } from './accounts/admin-commands.js';
import { addLifecycleCommands } from './registry/lifecycle-command.js';
import { listenerUrl, prepareDataDir, startBerth, type GeneratedSecrets } from './server.js';

const program = new Command('berth').description('Berth: a self-hosted container image registry (OCI Distribution; Amazon ECR compatibility under way)');

const serve = program
  .command('serve')
  .description('run the registry')
  .addOption(new Option('-c, --config <file>', 'YAML or JSON file whose keys are the setting names below').env('BERTH_CONFIG'));
const settingOptions = SETTINGS.map((setting) => {
  const defaultText = setting.default === undefined ? '' : ` (default: ${setting.default})`;
  const option = new Option(setting.flag, `${setting.help}${defaultText}; config key '${setting.key}'`).env(setting.env);
  serve.addOption(option);
  return { key: setting.key as SettingKey, attribute: option.attributeName() };
});
serve.addHelpText(
  'after',
  '\nPrecedence: command-line flag, then environment variable, then config file, then default.\n' +
    'Abandoned uploads: an upload untouched for --upload-ttl seconds is removed, checked every --upload-cleanup-interval seconds.',
);

serve.action(async (options: Record<string, string | undefined>) => {
  // Commander already folds each BERTH_* variable into its option; the file is the layer beneath.
  const fromFile: RawSettings = options.config ? readConfigFile(options.config) : {};
  const fromFlagsAndEnv: RawSettings = {};
  for (const { key, attribute } of settingOptions) {
    const value = options[attribute];
    if (value !== undefined && value !== '') fromFlagsAndEnv[key] = value;
  }
  const config = resolveConfig(fromFile, fromFlagsAndEnv);
  if (config.workers > 1) await serveWithWorkers(config);
  else await serveHere(config);
});

function announce(config: BerthConfig, url: string, apiUrl: string | undefined, generated: GeneratedSecrets): void {
  if (generated.adminPassword) {
    process.stdout.write(
      `\nBerth created the administrator login. It is shown only this once:\n  user:     ${config.adminUser}\n  password: ${generated.adminPassword}\n\n`,
    );
  }
  if (generated.rootAccessKey) {
    process.stdout.write(
      `Berth created the root access key of account ${config.accountId}. It is shown only this once:\n` +
        `  AWS_ACCESS_KEY_ID=${generated.rootAccessKey.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${generated.rootAccessKey.secretAccessKey}\n\n`,
    );
  }
  const apiLine = apiUrl === undefined ? '' : `The AWS APIs (ECR, ECR Public, IAM, STS) answer on ${apiUrl}\n`;
  process.stdout.write(`Berth is listening on ${url} (data in ${config.dataDir})\n${apiLine}`);
}

function onStopSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function serveHere(config: BerthConfig): Promise<void> {
  const berth = await startBerth(config);
  announce(config, berth.url, berth.api?.url, berth.generated);
  onStopSignal(() => berth.close());
}

/**
 * Several processes share the listeners (node:cluster). The primary prepares
 * the data directory once, then only supervises; the first worker also
 * removes abandoned uploads. Uploads stay consistent across workers through
 * their claims in the metadata store.
 */
async function serveWithWorkers(config: BerthConfig): Promise<void> {
  if (cluster.isWorker) {
    const berth = await startBerth(config, { cleanUpUploads: cluster.worker?.id === 1 });
    onStopSignal(() => berth.close());
    // The primary is gone (stopped or killed): so is the reason to serve.
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    return;
  }
  const generated = await prepareDataDir(config);
  let stopping = false;
  let announced = false;
  const scheme = config.tlsCert ? 'https' : 'http';
  const fork = (): void => {
    // A worker listens on the registry's address, then on the API's (startBerth), each reported once.
    const ports: number[] = [];
    const worker = cluster.fork();
    const onListening = (address: { port: number }): void => {
      ports.push(address.port);
      const [registryPort, apiPort] = ports;
      if (registryPort === undefined || (config.apiListen && apiPort === undefined)) return;
      worker.off('listening', onListening);
      if (announced) return;
      announced = true;
      announce(config, listenerUrl(scheme, config.host, registryPort), config.apiListen && apiPort !== undefined ? listenerUrl(scheme, config.apiListen.host, apiPort) : undefined, generated);
    };
    worker.on('listening', onListening);
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`berth: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    fork();
  });
  for (let i = 0; i < config.workers; i++) fork();
  onStopSignal(async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const force = setTimeout(() => worker.kill('SIGKILL'), 10_000);
            worker.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  });
}

addAdminCommands(program);
addLifecycleCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof AdminError) {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`berth: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
