/** `berth restart [SERVICE...]`: stop then start containers (configuration changes are not applied; use `up`). */
import type { Command } from 'commander';
import { startContainers, stopContainers } from '../../engine/apply.js';
import { lockedStackCommand, selectContainers, timeoutFlagMs } from '../stack.js';

/** Registers `berth restart`. */
export function registerRestart(program: Command): void {
  program
    .command('restart [services...]')
    .description('restart service containers')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds')
    .option('--no-deps', "don't restart dependent services")
    .action((services: string[], flags: { timeout?: string }, command: Command) => {
      const timeoutMs = timeoutFlagMs(flags.timeout);
      return lockedStackCommand(command, async ({ engine, target }) => {
        await stopContainers(engine, await selectContainers(engine, target, services), { timeoutMs });
        await startContainers(engine, target.name, await selectContainers(engine, target, services));
      });
    });
}
