/** `berth kill [SERVICE...]`: send a signal (default SIGKILL) to running containers. */
import type { Command } from 'commander';
import { lockedStackCommand, selectContainers } from '../stack.js';

/** Registers `berth kill`. */
export function registerKill(program: Command): void {
  program
    .command('kill [services...]')
    .description('force stop service containers')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .action((services: string[], flags: { signal: string; removeOrphans?: boolean }, command: Command) => lockedStackCommand(command, async ({ engine, target }) => {
      const containers = await selectContainers(engine, target, services, { all: false });
      const signal = /^\d+$/.test(flags.signal) ? flags.signal : flags.signal.toUpperCase().replace(/^(SIG)?/, 'SIG');
      await Promise.all(containers.map((c) => engine.killContainer(c.record, signal)));
      if (flags.removeOrphans && target.project) {
        const known = new Set([...target.project.services.keys(), ...target.project.disabledServices.keys()]);
        for (const orphan of (await engine.observe(target.name)).filter((c) => !known.has(c.record.service))) await engine.removeContainer(orphan.record);
      }
    }));
}
