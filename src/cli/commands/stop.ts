/** `berth stop [SERVICE...]`: stop running containers (stop signal, then SIGKILL after the timeout), dependents first. */
import type { Command } from 'commander';
import { stopContainers } from '../../engine/apply.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, secondsFlag, selectContainers, stackReporter } from '../stack.js';

/** Registers `berth stop`. */
export function registerStop(program: Command): void {
  program
    .command('stop [services...]')
    .description('stop services')
    .option('-t, --timeout <seconds>', 'specify a shutdown timeout in seconds')
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
        });
      } finally {
        await reporter.finish();
      }
    });
}
