/** `berth top [SERVICE...]`: the processes running in each container of the project. */
import type { Command } from 'commander';
import { Engine } from '../../engine/engine.js';
import { processRows, renderTable, topTitles } from '../../engine/top.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';
import { compareStrings } from '../../compare.js';

/** Registers `berth top`. */
export function registerTop(program: Command): void {
  program
    .command('top [services...]')
    .description('display the running processes')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      const global = globalOptions(cmd);
      const { name } = await resolveProjectName(global);
      const engine = await Engine.open({ runtime: global.runtime });
      const containers = (await engine.observe(name, { all: false, oneoff: true }))
        .filter((c) => c.status === 'running' && (services.length === 0 || services.includes(c.record.service)))
        .sort((a, b) => compareStrings(a.record.name, b.record.name));
      const blocks: string[] = [];
      for (const container of containers) {
        let pids: number[];
        try {
          pids = await engine.driver.ps(container.record.id);
        } catch {
          continue; // stopped meanwhile
        }
        const rows = processRows(pids, container.record.rootfs).map((r) => [r.uid, String(r.pid), String(r.ppid), String(r.c), r.stime, r.tty, r.time, r.cmd]);
        blocks.push(`${container.record.name}\n${renderTable(topTitles, rows)}\n`);
      }
      if (blocks.length > 0) process.stdout.write(`${blocks.join('\n')}`);
    });
}
