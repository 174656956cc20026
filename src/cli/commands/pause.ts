/** `berth pause` / `berth unpause [SERVICE...]`: freeze and thaw running containers. */
import type { Command } from 'commander';
import { lockedStackCommand, selectContainers } from '../stack.js';

function register(program: Command, verb: 'pause' | 'unpause'): void {
  program
    .command(`${verb} [services...]`)
    .description(verb === 'pause' ? 'pause services' : 'unpause services')
    .action((services: string[], _flags: unknown, command: Command) => lockedStackCommand(command, async ({ engine, target }) => {
      const containers = (await selectContainers(engine, target, services)).filter((c) => (verb === 'pause' ? c.status === 'running' : c.status === 'paused'));
      await Promise.all(containers.map((c) => (verb === 'pause' ? engine.pauseContainer(c.record) : engine.unpauseContainer(c.record))));
    }));
}

/** Registers `berth pause`. */
export function registerPause(program: Command): void {
  register(program, 'pause');
}

/** Registers `berth unpause`. */
export function registerUnpause(program: Command): void {
  register(program, 'unpause');
}
