/** `berth restart [SERVICE...]`: stop then start containers (configuration changes are not applied; use `up`). */
import type { Command } from 'commander';
import { startContainers, stopContainers } from '../../engine/apply.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, secondsFlag, selectContainers, stackReporter } from '../stack.js';

/** Registers `berth restart`. */
export function registerRestart(program: Command): void {
  program
    .command('restart [services...]')
    .description('restart service containers')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds')
    .option('--no-deps', "don't restart dependent services")
    .action(async (services: string[], flags: { timeout?: string }, command: Command) => {
      const global = globalOptions(command);
      const timeout = secondsFlag(flags.timeout, '--timeout');
      const target = await loadStackTarget(global);
      const reporter = stackReporter(global, target.project);
      const engine = await openEngine(global, reporter.sink);
      try {
        await engine.withProjectLock(target.name, async () => {
          const containers = await selectContainers(engine, target, services);
          await stopContainers(engine, containers, { timeoutMs: timeout === undefined ? undefined : timeout * 1000 });
          await startContainers(engine, target.name, await selectContainers(engine, target, services));
        });
      } finally {
        await reporter.finish();
      }
    });
}
