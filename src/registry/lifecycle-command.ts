import type { Command } from 'commander';
import { pino } from 'pino';
import { serverConfig, withStoreOptions, type StoreOptions } from '../store-options.js';
import { openStores } from '../storage/sql/open.js';
import { runLifecyclePolicies, type LifecycleActionResult } from './lifecycle-runner.js';

function describe(action: LifecycleActionResult): string {
  const verb = action.action === 'expire' ? 'expired' : 'archived';
  const what = `${action.repository}@${action.digest}${action.tags.length > 0 ? ` (${action.tags.join(', ')})` : ''}`;
  switch (action.outcome) {
    case 'applied': {
      const count = action.referrers.length;
      return `${verb} ${what} by rule ${action.rulePriority}${count > 0 ? ` with ${count} ${count === 1 ? 'referrer' : 'referrers'}` : ''}`;
    }
    case 'skipped':
      return `left ${what}: it changed since it was evaluated (next run decides again)`;
    case 'failed':
      return `FAILED to apply rule ${action.rulePriority} to ${what} (next run retries; see the log on stderr)`;
  }
}

/** `berth lifecycle run`: applies every repository's lifecycle policy once, as the server's scheduler does, and says what it did. */
export function addLifecycleCommands(program: Command): void {
  const lifecycle = program.command('lifecycle').description('lifecycle policies (see docs/lifecycle.md)');
  withStoreOptions(lifecycle.command('run').description("apply every repository's lifecycle policy once, on the server's data directory and database"))
    .action(async (options: StoreOptions) => {
      const config = serverConfig(options);
      const { metadata, close } = await openStores(config.databaseUrl);
      try {
        await metadata.migrate();
        const logger = pino({ level: config.logLevel }, pino.destination(2));
        const report = await runLifecyclePolicies({ metadata, region: config.region, logger });
        for (const action of report.actions) process.stdout.write(`${describe(action)}\n`);
        const applied = report.actions.filter((action) => action.outcome === 'applied').length;
        process.stdout.write(`Evaluated ${report.repositories} ${report.repositories === 1 ? 'repository' : 'repositories'} with a lifecycle policy; ${applied} ${applied === 1 ? 'action' : 'actions'} applied.\n`);
        if (report.actions.some((action) => action.outcome === 'failed')) process.exitCode = 1;
      } finally {
        await close();
      }
    });
}
