/**
 * `berth wait SERVICE...`: blocks until the services' containers have stopped, printing each
 * exit code as it happens; exits with the code of the last one. `--down-project` takes the
 * project down as soon as the first container stops.
 */
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { listRecords } from '../../engine/records.js';
import { RuntimeDriver } from '../../runtime/driver.js';
import { runtimeStatus } from '../../supervisor/runtime-status.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';
import { runtimeEnv } from './events.js';

/** Registers `berth wait`. */
export function registerWait(program: Command): void {
  program
    .command('wait <services...>')
    .description('block until containers of all (or specified) services stop')
    .option('--down-project', 'drops project when the first container stops')
    .action(async (services: string[], flags: { downProject?: boolean }, command: Command) => {
      const global = globalOptions(command);
      const { name: projectName, serviceNames } = await resolveProjectName(global);
      const unknown = serviceNames ? services.filter((service) => !serviceNames.includes(service)) : [];
      if (unknown.length > 0) throw new BerthError(`no such service: ${unknown.map((s) => `"${s}"`).join(', ')}`, { hint: `services are ${serviceNames!.map((s) => `"${s}"`).join(', ')}` });
      const records = listRecords(projectName).filter((record) => services.includes(record.service));
      if (records.length === 0) throw new BerthError(`no containers for project "${projectName}"`, { hint: `start them with "berth up -d ${services.join(' ')}"` });
      const env = runtimeEnv(global.runtime);
      const driver = new RuntimeDriver({ env });
      const pending = new Map(records.map((record) => [record.name, record]));
      let statusCode = 0;
      while (pending.size > 0) {
        for (const record of [...pending.values()]) {
          const rt = await runtimeStatus(driver, record.id);
          if (rt.status !== 'stopped' && rt.status !== 'missing') continue;
          pending.delete(record.name);
          const code = rt.exitCode ?? 0;
          statusCode = code;
          process.stdout.write(`container "${record.name}" exited with status code ${code}\n`);
        }
        if (flags.downProject && pending.size < records.length) break;
        if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (flags.downProject) {
        const { Engine } = await import('../../engine/engine.js');
        const engine = await Engine.open({ runtime: global.runtime, env });
        await engine.down(projectName, { removeOrphans: true });
      }
      process.exitCode = statusCode;
    });
}
