/** `berth start [SERVICE...]`: start existing containers, dependencies first. */
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { startContainers } from '../../engine/apply.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, selectContainers, stackReporter } from '../stack.js';

/** Registers `berth start`. */
export function registerStart(program: Command): void {
  program
    .command('start [services...]')
    .description('start services')
    .action(async (services: string[], _flags: unknown, command: Command) => {
      const global = globalOptions(command);
      const target = await loadStackTarget(global);
      const reporter = stackReporter(global, target.project);
      const engine = await openEngine(global, reporter.sink);
      try {
        await engine.withProjectLock(target.name, async () => {
          const containers = await selectContainers(engine, target, services);
          if (containers.length === 0) throw new BerthError(`project "${target.name}" has no containers to start`, { hint: 'create them with "berth up"' });
          await startContainers(engine, target.name, containers);
        });
      } finally {
        await reporter.finish();
      }
    });
}
