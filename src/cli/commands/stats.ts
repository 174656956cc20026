/**
 * `berth stats [SERVICE...]`: CPU, memory, network and pids of the project's containers, plus a
 * TOTAL row for the project. Streams (refreshing about once a second) unless --no-stream.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { Engine } from '../../engine/engine.js';
import { collectStats, displayFields, type StatsRow } from '../../engine/stats.js';
import { renderTable } from '../../engine/top.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';

interface StatsFlags { stream: boolean; format: string; all?: boolean }

/** The table `stats` prints. */
export function renderStats(rows: readonly StatsRow[]): string {
  const titles = ['NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'PIDS'];
  const cells = rows.map((row) => {
    const d = displayFields(row);
    return [row.name === 'TOTAL' ? `TOTAL (${row.project})` : row.name, d.CPUPerc, d.MemUsage, d.MemPerc, d.NetIO, d.PIDs];
  });
  return `${renderTable([...titles, ''], cells.map((c) => [...c, '']))}\n`;
}

/** One JSON line per row. */
export function renderStatsJson(rows: readonly StatsRow[]): string {
  return rows.map((row) => JSON.stringify({ Name: row.name, Service: row.service, Project: row.project, ...displayFields(row), ...row })).join('\n') + (rows.length ? '\n' : '');
}

/** Registers `berth stats`. */
export function registerStats(program: Command): void {
  program
    .command('stats [services...]')
    .description('display a live stream of container resource usage, with project totals')
    .option('--no-stream', 'print one sample and exit')
    .option('--format <format>', 'table or json', 'table')
    .option('-a, --all', 'show all containers (default: running only)')
    .action(async (services: string[], flags: StatsFlags, cmd: Command) => {
      if (flags.format !== 'table' && flags.format !== 'json') throw new UsageError(`unknown format "${flags.format}"`, { hint: 'use --format table or --format json' });
      const global = globalOptions(cmd);
      const { name } = await resolveProjectName(global);
      const engine = await Engine.open({ runtime: global.runtime });
      const once = async (): Promise<string> => {
        const containers = (await engine.observe(name, { all: flags.all ?? false, oneoff: true }))
          .filter((c) => services.length === 0 || services.includes(c.record.service));
        const rows = await collectStats(engine.driver, containers);
        return flags.format === 'json' ? renderStatsJson(rows) : renderStats(rows);
      };
      if (!flags.stream) {
        process.stdout.write(await once());
        return;
      }
      let stop = false;
      const onSignal = (): void => {
        stop = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const clear = process.stdout.isTTY && flags.format === 'table' ? '\x1b[2J\x1b[H' : '';
      while (!stop) {
        const text = await once();
        if (stop) break;
        process.stdout.write(`${clear}${text}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
}
