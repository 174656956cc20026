/** `berth port SERVICE PRIVATE_PORT`: the host address a container port is published on, from the container records. */
import type { Command } from 'commander';
import { BerthError, UsageError } from '../../errors.js';
import { listRecords } from '../../engine/records.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';

interface PortFlags { protocol: string; index?: string }

/** Registers `berth port`. */
export function registerPort(program: Command): void {
  program
    .command('port <service> <private_port>')
    .description('print the public port for a port binding')
    .option('--protocol <protocol>', 'tcp or udp', 'tcp')
    .option('--index <index>', 'index of the container if the service has multiple replicas')
    .action(async (service: string, privatePort: string, flags: PortFlags, command: Command) => {
      const global = globalOptions(command);
      const protocol = flags.protocol.toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`invalid --protocol "${flags.protocol}"`, { hint: 'use tcp or udp' });
      const target = Number(privatePort);
      if (!Number.isInteger(target) || target < 1 || target > 65535) throw new UsageError(`invalid port "${privatePort}"`, { hint: 'give the container port as a number, e.g. 80' });
      const index = flags.index === undefined ? undefined : Number(flags.index);
      if (index !== undefined && (!Number.isInteger(index) || index < 1)) throw new UsageError(`invalid --index "${flags.index}"`, { hint: 'replica numbers start at 1' });
      const { name, serviceNames } = await resolveProjectName(global);
      if (serviceNames && !serviceNames.includes(service)) {
        throw new BerthError(`no such service: "${service}"`, { hint: `services are ${serviceNames.sort().map((s) => `"${s}"`).join(', ')}` });
      }
      const records = listRecords(name).filter((r) => r.service === service && !r.oneoff).sort((a, b) => a.number - b.number);
      if (records.length === 0) throw new BerthError(`service "${service}" has no container in project "${name}"`, { hint: `start it with "berth up -d ${service}"` });
      const record = index === undefined ? records[0] : records.find((r) => r.number === index);
      if (!record) throw new BerthError(`service "${service}" has no container number ${index}`, { hint: `numbers in use: ${records.map((r) => r.number).join(', ')}` });
      const binding = (record.network?.ports ?? []).find((p) => p.target === target && p.protocol === protocol);
      if (!binding) {
        throw new BerthError(`no port ${target}/${protocol} published for container "${record.name}"`, { hint: `publish it under "ports:" of service "${service}", e.g. "${target}" for a random host port` });
      }
      const host = binding.hostIp.includes(':') ? `[${binding.hostIp}]` : binding.hostIp;
      process.stdout.write(`${host}:${binding.hostPort}\n`);
    });
}
