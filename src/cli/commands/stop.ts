/** `berth stop [SERVICE...]`: stop running containers (stop signal, then SIGKILL after the timeout), dependents first. */
import type { Command } from 'commander';
import { stopContainers } from '../../engine/apply.js';
import { lockedStackCommand, selectContainers, timeoutFlagMs } from '../stack.js';

/** Registers `berth stop`. */
export function registerStop(program: Command): void {
  program
    .command('stop [services...]')
    .description('stop services')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds')
    .action((services: string[], flags: { timeout?: string }, command: Command) => {
      const timeoutMs = timeoutFlagMs(flags.timeout);
      return lockedStackCommand(command, async ({ engine, target }) => {
        await stopContainers(engine, await selectContainers(engine, target, services), { timeoutMs });
      });
    });
}
