/** `berth pause` / `berth unpause [SERVICE...]`: freeze and thaw running containers. */
import type { Command } from 'commander';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, selectContainers, stackReporter } from '../stack.js';

function register(program: Command, verb: 'pause' | 'unpause'): void {
  program
    .command(`${verb} [services...]`)
    .description(verb === 'pause' ? 'pause services' : 'unpause services')
    .action(async (services: string[], _flags: unknown, command: Command) => {
      const global = globalOptions(command);
      const target = await loadStackTarget(global);
      const reporter = stackReporter(global, target.project);
      const engine = await openEngine(global, reporter.sink);
      try {
        await engine.withProjectLock(target.name, async () => {
          const containers = (await selectContainers(engine, target, services)).filter((c) => (verb === 'pause' ? c.status === 'running' : c.status === 'paused'));
          await Promise.all(containers.map((c) => (verb === 'pause' ? engine.pauseContainer(c.record) : engine.unpauseContainer(c.record))));
        });
      } finally {
        await reporter.finish();
      }
    });
}

/** Registers `berth pause`. */
export function registerPause(program: Command): void {
  register(program, 'pause');
}

/** Registers `berth unpause`. */
export function registerUnpause(program: Command): void {
  register(program, 'unpause');
}
