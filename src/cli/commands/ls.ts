/**
 * `berth ls`: every project berth has state for, with its containers' states counted
 * (`exited(1), running(2)`) and its compose files. Without -a only projects with running
 * containers are listed, and only those are counted, as `docker compose ls` does.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { listProjects, listRecords, readProjectRecord, readRunInfo } from '../../engine/records.js';
import { RuntimeDriver } from '../../runtime/driver.js';
import { runtimeStatus, type RuntimeStatus } from '../../supervisor/runtime-status.js';
import { globalOptions } from '../global-options.js';
import { runtimeEnv } from './events.js';

interface LsFlags { all?: boolean; quiet?: boolean; format: string; filter: string[] }

/** One row of `ls`. */
interface ProjectRow { Name: string; Status: string; ConfigFiles: string }

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The `ps` word for a container from its runtime status and run info. */
function statusWord(rt: RuntimeStatus, run: ReturnType<typeof readRunInfo>): string {
  switch (rt.status) {
    case 'running': return 'running';
    case 'paused': return 'paused';
    case 'stopped': return run.restartingAt ? 'restarting' : 'exited';
    case 'created':
    case 'creating': return run.startedAt && run.finishedAt ? 'exited' : 'created';
    default: return run.restartingAt ? 'restarting' : run.startedAt ? 'exited' : 'created';
  }
}

/** Registers `berth ls`. */
export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('list running compose projects')
    .option('-a, --all', 'show all stopped compose projects')
    .option('-q, --quiet', 'only display project names')
    .option('--format <format>', 'format the output: table or json', 'table')
    .option('--filter <filter>', 'filter output based on conditions provided (name=...)', collect, [])
    .action(async (flags: LsFlags, command: Command) => {
      const global = globalOptions(command);
      if (!['table', 'json'].includes(flags.format)) throw new UsageError(`invalid --format "${flags.format}"`, { hint: 'use "table" or "json"' });
      const nameFilters: string[] = [];
      for (const filter of flags.filter) {
        const match = /^name=(.*)$/.exec(filter);
        if (!match) throw new UsageError(`invalid filter "${filter}"`, { hint: 'the only filter is name=<text>' });
        nameFilters.push(match[1]);
      }
      const driver = new RuntimeDriver({ env: runtimeEnv(global.runtime) });
      const rows: ProjectRow[] = [];
      for (const name of listProjects()) {
        if (nameFilters.some((text) => !name.includes(text))) continue;
        const records = listRecords(name);
        if (records.length === 0) continue;
        const counts = new Map<string, number>();
        for (const record of records) {
          const word = statusWord(await runtimeStatus(driver, record.id), readRunInfo(name, record.name));
          if (!flags.all && word !== 'running' && word !== 'paused' && word !== 'restarting') continue;
          counts.set(word, (counts.get(word) ?? 0) + 1);
        }
        if (counts.size === 0) continue;
        const status = [...counts.keys()].sort().map((word) => `${word}(${counts.get(word)})`).join(', ');
        rows.push({ Name: name, Status: status, ConfigFiles: (readProjectRecord(name)?.configFiles ?? []).join(',') });
      }
      if (flags.quiet) {
        for (const row of rows) process.stdout.write(`${row.Name}\n`);
      } else if (flags.format === 'json') {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
      } else {
        process.stdout.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((row) => [row.Name, row.Status, row.ConfigFiles])]));
      }
    });
}

/** Columns at least 20 wide with 3 spaces between, like Compose's tables. */
function table(lines: string[][]): string {
  const widths = lines[0].map((_, column) => Math.max(20, ...lines.map((line) => line[column].length + 3)));
  return lines.map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]))).join('').trimEnd()).join('\n') + '\n';
}
