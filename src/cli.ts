#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, readConfigFile, resolveConfig, SETTINGS, type RawSettings, type SettingKey } from './config.js';
import { startBerth } from './server.js';

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
  const berth = await startBerth(config);
  if (berth.generatedAdminPassword) {
    process.stdout.write(
      `\nBerth created the administrator login. It is shown only this once:\n  user:     ${config.adminUser}\n  password: ${berth.generatedAdminPassword}\n\n`,
    );
  }
  process.stdout.write(`Berth is listening on ${berth.url} (data in ${config.dataDir})\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    berth.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`berth: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
