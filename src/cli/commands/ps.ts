/** `berth ps [SERVICE...]`: the project's containers with their status and ports, as a table or JSON. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { ObservedContainer } from '../../engine/types.js';
import { commandText, portsText, statusText } from '../container-status.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, selectContainers } from '../stack.js';
import { reviveSupervisor } from '../../supervisor/index.js';
import { compareStrings } from '../../compare.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const statuses = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

interface PsFlags { all?: boolean; quiet?: boolean; services?: boolean; status?: string[]; filter?: string[]; format: string }

/** A container as `ps --format json` prints it (one object per line). */
export function psJson(c: ObservedContainer): Record<string, unknown> {
  const r = c.record;
  return {
    ID: r.id, Name: r.name, Image: r.image, Command: r.args.join(' '), Project: r.project, Service: r.service,
    Created: Math.floor(Date.parse(r.created) / 1000), State: c.status, Status: statusText(c),
    Health: c.status === 'running' && r.healthcheck ? c.run.health?.status ?? 'starting' : '', ExitCode: c.exitCode ?? c.run.exitCode ?? 0,
    Labels: Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(','), Publishers: (r.network?.ports ?? []).map((p) => ({
      URL: p.hostIp, TargetPort: p.target, PublishedPort: p.hostPort, Protocol: p.protocol,
    })),
    RestartCount: c.run.restartCount, Number: r.number, Pid: c.pid ?? 0,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n');
}

/** Registers `berth ps`. */
export function registerPs(program: Command): void {
  program
    .command('ps [services...]')
    .description('list containers')
    .option('-a, --all', 'show all stopped containers (including those created by the run command)')
    .option('-q, --quiet', 'only display IDs')
    .option('--services', 'display services')
    .option('--status <status>', `filter services by status: ${statuses.join(', ')} (repeatable)`, collect)
    .option('--filter <key=value>', 'filter by a property: status=..., service=... (repeatable)', collect)
    .option('--format <format>', 'table or json', 'table')
    .action(async (services: string[], flags: PsFlags, command: Command) => {
      const global = globalOptions(command);
      if (flags.format !== 'table' && flags.format !== 'json') throw new UsageError(`invalid --format "${flags.format}"`, { hint: 'use "table" or "json"' });
      const wantedStatus = [...(flags.status ?? [])];
      const wantedService: string[] = [];
      for (const filter of flags.filter ?? []) {
        const m = /^(status|service|source)=(.+)$/.exec(filter);
        if (!m) throw new UsageError(`invalid --filter "${filter}"`, { hint: 'use status=<status> or service=<name>' });
        (m[1] === 'status' ? wantedStatus : wantedService).push(m[2]);
      }
      for (const status of wantedStatus) if (!statuses.includes(status)) throw new UsageError(`invalid status "${status}"`, { hint: `use one of ${statuses.join(', ')}` });
      const target = await loadStackTarget(global);
      const engine = await openEngine(global);
      const everything = flags.all || wantedStatus.length > 0;
      const containers = await selectContainers(engine, target, services, { all: everything, oneoff: flags.all });
      // A killed supervisor comes back here (one ping when it runs), while the output is printed.
      const revived = reviveSupervisor(target.name, { env: engine.env, containers });
      try {
        print(containers, flags, wantedStatus, wantedService);
      } finally {
        await revived;
      }
    });
}

/** Prints the containers as `ps` flags say (table, json, -q, --services). */
function print(all: ObservedContainer[], flags: PsFlags, wantedStatus: string[], wantedService: string[]): void {
  let containers = all;
  if (wantedStatus.length) containers = containers.filter((c) => wantedStatus.includes(c.status));
  if (wantedService.length) containers = containers.filter((c) => wantedService.includes(c.record.service));
  containers.sort((a, b) => compareStrings(a.record.name, b.record.name));
  if (flags.services) {
    const names = [...new Set(containers.map((c) => c.record.service))].sort();
    if (names.length) process.stdout.write(`${names.join('\n')}\n`);
    return;
  }
  if (flags.quiet) {
    if (containers.length) process.stdout.write(`${containers.map((c) => c.record.id).join('\n')}\n`);
    return;
  }
  if (flags.format === 'json') {
    for (const c of containers) process.stdout.write(`${JSON.stringify(psJson(c))}\n`);
    return;
  }
  const rows = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
  const now = Date.now();
  for (const c of containers) {
    const created = `${statusText({ ...c, status: 'exited', run: { ...c.run, finishedAt: c.record.created } }, now).replace(/^Exited \(\d+\) /, '')}`;
    rows.push([c.record.name, c.record.image, commandText(c.record.args), c.record.service, created, statusText(c, now), portsText(c)]);
  }
  process.stdout.write(`${table(rows)}\n`);
}
