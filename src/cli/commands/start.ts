/** `berth start [SERVICE...]`: start existing containers, dependencies first. */
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { startContainers } from '../../engine/apply.js';
import { lockedStackCommand, selectContainers } from '../stack.js';

/** Registers `berth start`. */
export function registerStart(program: Command): void {
  program
    .command('start [services...]')
    .description('start services')
    .action((services: string[], _flags: unknown, command: Command) => lockedStackCommand(command, async ({ engine, target }) => {
      const containers = await selectContainers(engine, target, services);
      if (containers.length === 0) throw new BerthError(`project "${target.name}" has no containers to start`, { hint: 'create them with "berth up"' });
      await startContainers(engine, target.name, containers);
    }));
}
