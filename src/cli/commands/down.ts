/**
 * `berth down`: stop and remove the project's containers (one-offs too) and networks; `-v` also
 * its volumes, `--rmi` its images. Leaves nothing behind: no mounts, cgroups, namespaces,
 * processes or state directory of the project.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, secondsFlag, stackReporter } from '../stack.js';

/** Registers `berth down`. */
export function registerDown(program: Command): void {
  program
    .command('down [services...]')
    .description('stop and remove containers, networks')
    .option('-v, --volumes', 'remove named volumes declared in the "volumes" section of the compose file and anonymous volumes attached to containers')
    .option('--rmi <type>', 'remove images used by services: "local" (no custom tag) or "all"')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds')
    .action(async (services: string[], flags: { volumes?: boolean; rmi?: string; removeOrphans?: boolean; timeout?: string }, command: Command) => {
      const global = globalOptions(command);
      if (flags.rmi !== undefined && flags.rmi !== 'local' && flags.rmi !== 'all') throw new UsageError(`invalid --rmi "${flags.rmi}"`, { hint: 'use "local" or "all"' });
      if (services.length) throw new UsageError('down takes no service names', { hint: 'stop and remove single services with "berth rm -s -f SERVICE"' });
      const target = await loadStackTarget(global);
      const reporter = stackReporter(global, target.project);
      const engine = await openEngine(global, reporter.sink);
      try {
        await engine.down(target.project ?? target.name, { volumes: flags.volumes, rmi: flags.rmi as 'local' | 'all' | undefined, removeOrphans: flags.removeOrphans, timeout: secondsFlag(flags.timeout, '--timeout') });
      } finally {
        await reporter.finish();
      }
    });
}
