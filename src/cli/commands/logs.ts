/**
 * `berth logs [SERVICE...]`: the containers' json-file logs, prefixed `web-1  | ` and colored per
 * service. With -f it follows (rotations, restarts, new containers) until every container has
 * exited and none will restart, or Ctrl-C.
 */
import type { Command } from 'commander';
import { BerthError, UsageError } from '../../errors.js';
import { followLogs, parseLogTime, readLogs, type LogReadOptions } from '../../engine/logs.js';
import { listRecords } from '../../engine/records.js';
import { RuntimeDriver } from '../../runtime/driver.js';
import { colorEnabled } from '../colors.js';
import { watchContainers } from '../container-watch.js';
import { globalOptions } from '../global-options.js';
import { LogPrinter } from '../log-printer.js';
import { resolveProjectName } from '../project-name.js';
import { reviveSupervisor } from '../../supervisor/index.js';

interface LogsFlags { follow?: boolean; tail: string; timestamps?: boolean; since?: string; until?: string; color: boolean; logPrefix: boolean; index?: string }

/** Registers `berth logs`. */
export function registerLogs(program: Command): void {
  program
    .command('logs [services...]')
    .description('view output from containers')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <lines>', 'number of lines to show from the end of the logs for each container, or "all"', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since a timestamp (2024-05-01T10:00:00Z) or relative time (42m)')
    .option('--until <time>', 'show logs before a timestamp or relative time')
    .option('--no-color', 'produce monochrome output')
    .option('--no-log-prefix', "don't print the container name before each line")
    .option('--index <n>', 'index of the container if the service has multiple replicas')
    .action(async (services: string[], flags: LogsFlags, command: Command) => {
      const global = globalOptions(command);
      const { name: projectName, serviceNames } = await resolveProjectName(global);
      const unknown = serviceNames ? services.filter((service) => !serviceNames.includes(service)) : [];
      if (unknown.length > 0) throw new BerthError(`no such service: ${unknown.map((s) => `"${s}"`).join(', ')}`, { hint: `services are ${serviceNames!.map((s) => `"${s}"`).join(', ')}` });
      const tail = flags.tail === 'all' ? undefined : Number(flags.tail);
      if (tail !== undefined && !(Number.isInteger(tail) && tail >= -1)) throw new UsageError(`invalid value "${flags.tail}" for --tail`, { hint: 'give a number of lines or "all"' });
      const index = flags.index === undefined ? undefined : Number(flags.index);
      if (index !== undefined && !(Number.isInteger(index) && index > 0)) throw new UsageError(`invalid value "${flags.index}" for --index`, { hint: 'replica numbers start at 1' });
      const options: LogReadOptions = {
        tail: tail === -1 ? undefined : tail,
        since: flags.since === undefined ? undefined : parseLogTime(flags.since, '--since'),
        until: flags.until === undefined ? undefined : parseLogTime(flags.until, '--until'),
        timestamps: flags.timestamps,
      };
      const select = (record: { oneoff: boolean; service: string; number: number }) => !record.oneoff
        && (services.length === 0 || services.includes(record.service)) && (index === undefined || record.number === index);
      // A killed supervisor comes back (restarts of followed containers need it); one ping when it runs.
      const revived = reviveSupervisor(projectName);
      const records = listRecords(projectName).filter(select);
      const printer = new LogPrinter({ project: projectName, noLogPrefix: !flags.logPrefix, color: colorEnabled({ noColor: !flags.color, ansi: global.ansi }) });
      printer.register(records);
      if (!flags.follow) {
        const lines = (await Promise.all(records.map((record) => readLogs(record, options)))).flat();
        for (const line of lines.sort((a, b) => a.timeMs - b.timeMs)) printer.line(line);
        await revived;
        return;
      }
      const follow = followLogs(records, options, (line) => printer.line(line));
      await follow.ready;
      await revived;
      await new Promise<void>((resolve) => {
        const watcher = watchContainers({ driver: new RuntimeDriver({ binary: global.runtime }), project: projectName, select }, {
          onContainer: (container) => { void follow.add(container.record); },
          onPoll: async (containers) => {
            if (containers.some((container) => container.alive || container.willRestart)) return;
            watcher.stop();
            await follow.flush();
            follow.stop();
            resolve();
          },
        });
      });
    });
}
