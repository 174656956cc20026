/**
 * `berth events [SERVICE...]`: follows the project's container events (from the engine and the
 * supervisor's journal) in Compose's text form, or one JSON object per line with --json.
 */
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { parseLogTime } from '../../engine/log-files.js';
import { listRecords } from '../../engine/records.js';
import { ensureSupervisor, followEvents, formatEventJson, formatEventText, supervisorEnv, type StoredEvent } from '../../supervisor/index.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';

interface EventsFlags { json?: boolean; since?: string; until?: string }

/** Registers `berth events`. */
export function registerEvents(program: Command): void {
  program
    .command('events [services...]')
    .description('receive real time events from containers')
    .option('--json', 'output events as a stream of json objects')
    .option('--since <time>', 'show all events created since timestamp (2024-05-01T10:00:00Z) or relative time (10m)')
    .option('--until <time>', 'stream events until this timestamp or relative time')
    .action(async (services: string[], flags: EventsFlags, command: Command) => {
      const global = globalOptions(command);
      const { name: projectName, serviceNames } = await resolveProjectName(global);
      const unknown = serviceNames ? services.filter((service) => !serviceNames.includes(service)) : [];
      if (unknown.length > 0) throw new BerthError(`no such service: ${unknown.map((s) => `"${s}"`).join(', ')}`, { hint: `services are ${serviceNames!.map((s) => `"${s}"`).join(', ')}` });
      const since = flags.since === undefined ? undefined : parseLogTime(flags.since, '--since');
      const until = flags.until === undefined ? undefined : parseLogTime(flags.until, '--until');
      // Exits and health changes come from the supervisor: make sure it watches, with the runtime the project's containers use.
      if (listRecords(projectName).length > 0) await ensureSupervisor(projectName, { env: supervisorEnv(projectName, runtimeEnv(global.runtime)) }).catch(() => undefined);
      const images = new Map<string, string>();
      const print = (event: StoredEvent): void => {
        if (event.type === 'container' && !event.image) {
          if (!images.has(event.name)) for (const record of listRecords(projectName)) images.set(record.name, record.image);
          const image = images.get(event.name);
          if (image) event = { ...event, image };
        }
        const line = flags.json ? formatEventJson(event) : formatEventText(event);
        if (line) process.stdout.write(`${line}\n`);
      };
      await new Promise<void>((resolve) => {
        const follower = followEvents(projectName, { services, since, containersOnly: true }, (event) => {
          if (until !== undefined && event.time >= until) return;
          print(event);
        });
        const finish = (): void => {
          follower.stop();
          resolve();
        };
        process.once('SIGINT', finish);
        process.once('SIGTERM', finish);
        if (until !== undefined) setTimeout(finish, Math.max(0, until - Date.now())).unref?.();
      });
    });
}

/** The environment a supervisor started from here runs with (the --runtime flag travels as BERTH_RUNTIME). */
export function runtimeEnv(runtime: string | undefined): NodeJS.ProcessEnv {
  if (!runtime || runtime === 'berth' || runtime === 'berth-runtime') return process.env;
  return { ...process.env, BERTH_RUNTIME: runtime };
}
