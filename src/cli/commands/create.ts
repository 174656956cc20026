/** `berth create [SERVICE...]`: create the containers of the project without starting them (`up --no-start`). */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, stackReporter } from '../stack.js';
import { parseScale } from './up.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Registers `berth create`. */
export function registerCreate(program: Command): void {
  program
    .command('create [services...]')
    .description('create containers for a service')
    .option('--force-recreate', "recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "if containers already exist, don't recreate them")
    .option('--pull <policy>', 'pull image before running ("always"|"missing"|"never"|"policy")', 'policy')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('--scale <service=n>', 'scale SERVICE to NUM instances (repeatable)', collect)
    .action(async (services: string[], flags: { forceRecreate?: boolean; recreate: boolean; pull?: string; removeOrphans?: boolean; scale?: string[] }, command: Command) => {
      const global = globalOptions(command);
      if (flags.forceRecreate && !flags.recreate) throw new UsageError('--force-recreate and --no-recreate are incompatible');
      const target = await loadStackTarget(global, { servicesNamed: services, needProject: true });
      const reporter = stackReporter(global, target.project);
      const engine = await openEngine(global, reporter.sink);
      try {
        await engine.up(target.project!, {
          noStart: true, detach: true, services, forceRecreate: flags.forceRecreate, noRecreate: !flags.recreate, pull: flags.pull,
          removeOrphans: flags.removeOrphans, scale: parseScale(flags.scale),
        });
      } finally {
        await reporter.finish();
      }
    });
}
