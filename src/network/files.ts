/** The per-container files berth writes and the runtime bind-mounts: /etc/hosts, /etc/resolv.conf, /etc/hostname. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readResolvConf } from './host.js';
import { NetworkError } from './errors.js';
import { writeTextAtomic } from '../atomic-write.js';

/** One `extra_hosts` entry resolved: name -> address. */
export interface HostEntry {
  name: string;
  address: string;
}

/** Parses `extra_hosts` ("name:ip", "name=ip", IPv6 allowed); `host-gateway` becomes `gateway`. */
export function parseExtraHosts(entries: readonly string[], gateway: string | undefined, service: string): HostEntry[] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    const colon = entry.indexOf(':');
    const cut = eq >= 0 ? eq : colon;
    if (cut <= 0) throw new NetworkError(`extra_hosts entry "${entry}" of service "${service}" is not "name:address"`, { hint: 'write it as "myhost:10.0.0.5" or "myhost=::1"' });
    const name = entry.slice(0, cut);
    let address = entry.slice(cut + 1).replace(/^\[(.*)\]$/, '$1');
    if (address === 'host-gateway') {
      if (!gateway) throw new NetworkError(`extra_hosts entry "${entry}" of service "${service}" needs a network gateway, but the container has none`, { hint: 'use host-gateway only for containers on a bridge network' });
      address = gateway;
    }
    return { name, address };
  });
}


/** Writes `<dir>/hosts`: loopback, the container's own names on each address, extra hosts. */
export function writeHostsFile(dir: string, own: Array<{ address: string; names: string[] }>, extra: HostEntry[], base?: string): string {
  const lines = base !== undefined ? [base.trimEnd()] : [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of extra) lines.push(`${entry.address}\t${entry.name}`);
  for (const entry of own) if (entry.names.length > 0) lines.push(`${entry.address}\t${entry.names.join(' ')}`);
  const file = path.join(dir, 'hosts');
  writeTextAtomic(file, lines.join('\n') + '\n');
  return file;
}

/** Writes `<dir>/resolv.conf` pointing at `nameservers`, with search domains and options. */
export function writeResolvConf(dir: string, nameservers: string[], search: readonly string[], options: readonly string[]): string {
  const lines = [
    '# written by berth',
    ...nameservers.map((n) => `nameserver ${n}`),
  ];
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  const file = path.join(dir, 'resolv.conf');
  writeTextAtomic(file, lines.join('\n') + '\n');
  return file;
}

/** Writes `<dir>/hostname`. */
export function writeHostnameFile(dir: string, hostname: string): string {
  const file = path.join(dir, 'hostname');
  writeTextAtomic(file, `${hostname}\n`);
  return file;
}

/** The host's /etc/hosts (for network_mode: host). */
export function hostHostsFile(): string {
  try { return readFileSync('/etc/hosts', 'utf8'); } catch { return '127.0.0.1\tlocalhost\n'; }
}

/** The resolver settings a container gets: service `dns_search`/`dns_opt` over the host's. */
export function resolverSettings(dnsSearch: readonly string[] | undefined, dnsOpt: readonly string[] | undefined): { search: string[]; options: string[] } {
  const host = readResolvConf();
  const search = dnsSearch && dnsSearch.length > 0 ? dnsSearch.filter((s) => s !== '.') : host.search;
  return { search: [...search], options: [...(dnsOpt ?? [])] };
}
