import type { Command } from 'commander';
import { pino } from 'pino';
import { serverConfig, withStoreOptions, type StoreOptions } from '../store-options.js';
import { openStores } from '../storage/sql/open.js';
import { runLifecyclePolicies, type LifecycleActionResult, type OrphanedReferrerResult } from './lifecycle-runner.js';

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

function describe(action: LifecycleActionResult): string {
  const verb = action.action === 'expire' ? 'expired' : 'archived';
  const what = `${action.repository}@${action.digest}${action.tags.length > 0 ? ` (${action.tags.join(', ')})` : ''}`;
  switch (action.outcome) {
    case 'applied': {
      const count = action.referrers.length;
      return `${verb} ${what} by rule ${action.rulePriority}${count > 0 ? ` with ${plural(count, 'referrer', 'referrers')}` : ''}`;
    }
    case 'skipped':
      return `left ${what}: it changed since it was evaluated (next run decides again)`;
    case 'failed':
      return `FAILED to apply rule ${action.rulePriority} to ${what} (next run retries; see the log on stderr)`;
  }
}

function describeOrphan(orphan: OrphanedReferrerResult): string {
  const what = `${orphan.repository}@${orphan.digest}${orphan.tags.length > 0 ? ` (${orphan.tags.join(', ')})` : ''}`;
  const why = `a referrer of ${orphan.subjectDigest}, which is not in the repository`;
  switch (orphan.outcome) {
    case 'applied': {
      const count = orphan.referrers.length;
      return `expired ${what}, ${why}${count > 0 ? `, with ${plural(count, 'referrer', 'referrers')}` : ''}`;
    }
    case 'skipped':
      return `left ${what}: it changed since it was evaluated (next run decides again)`;
    case 'failed':
      return `FAILED to expire ${what}, ${why} (next run retries; see the log on stderr)`;
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
        for (const orphan of report.orphanedReferrers) process.stdout.write(`${describeOrphan(orphan)}\n`);
        for (const action of report.actions) process.stdout.write(`${describe(action)}\n`);
        const applied = report.actions.filter((action) => action.outcome === 'applied').length;
        const orphansExpired = report.orphanedReferrers.filter((orphan) => orphan.outcome === 'applied').length;
        const orphans = report.orphanedReferrers.length > 0 ? `; ${plural(orphansExpired, 'referrer', 'referrers')} whose subject is gone expired` : '';
        process.stdout.write(`Evaluated ${plural(report.repositories, 'repository', 'repositories')} with a lifecycle policy; ${plural(applied, 'action', 'actions')} applied${orphans}.\n`);
        if ([...report.orphanedReferrers, ...report.actions].some((result) => result.outcome === 'failed')) process.exitCode = 1;
      } finally {
        await close();
      }
    });
}
