/** Facts about the host the network layer needs: used subnets, resolvers, MTU, sysctls. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseAddress, parseCidr, type Cidr } from './addr.js';
import { ipJsonBatch } from './exec.js';

interface RouteJson { dst?: string; dev?: string; type?: string; table?: string; metrics?: unknown }
interface AddrJson { ifname: string; mtu?: number; addr_info?: Array<{ family: string; local: string; prefixlen: number }> }

/** What planning networks needs to know about the host, read with one `ip` process. */
export interface HostSurvey {
  /** Every prefix the host already uses: routes (all tables, not default), interface addresses, resolvers. */
  used: Array<{ cidr: Cidr; what: string }>;
  /** MTU of the interface holding the IPv4 default route of the main table (1500 when unknown). */
  defaultMtu: number;
}

/** Reads the host's routes, addresses and resolvers (one `ip -j -batch` process). */
export async function surveyHost(): Promise<HostSurvey> {
  const used: Array<{ cidr: Cidr; what: string }> = [];
  const [routes4, routes6, links] = await ipJsonBatch<RouteJson & AddrJson>(['route show table all', 'route show table all root ::/0', 'addr show'])
    .catch(() => [[], [], []] as Array<Array<RouteJson & AddrJson>>);
  for (const route of [...routes4, ...routes6]) {
    if (!route.dst || route.dst === 'default') continue;
    const text = route.dst.includes('/') ? route.dst : `${route.dst}/${route.dst.includes(':') ? 128 : 32}`;
    try {
      const cidr = parseCidr(text);
      // Link-local and multicast ranges are everywhere and never collide with a bridge subnet.
      if (cidr.family === 6 && cidr.bits <= 10) continue;
      used.push({ cidr, what: `host route ${route.dst}${route.dev ? ` dev ${route.dev}` : ''}` });
    } catch { /* not an address prefix */ }
  }
  for (const link of links) {
    for (const info of link.addr_info ?? []) {
      try {
        used.push({ cidr: parseCidr(`${info.local}/${info.prefixlen}`), what: `address ${info.local}/${info.prefixlen} on ${link.ifname}` });
      } catch { /* skip */ }
    }
  }
  for (const server of hostResolvers()) {
    try {
      const { family } = parseAddress(server);
      used.push({ cidr: parseCidr(`${server}/${family === 4 ? 32 : 128}`), what: `resolver ${server} in /etc/resolv.conf` });
    } catch { /* skip */ }
  }
  const dev = routes4.find((r) => r.dst === 'default' && (r.table === undefined || r.table === 'main'))?.dev;
  let defaultMtu = 1500;
  if (dev) {
    const mtu = links.find((l) => l.ifname === dev)?.mtu ?? Number(readSysFile(`/sys/class/net/${dev}/mtu`));
    if (typeof mtu === 'number' && mtu >= 1280) defaultMtu = mtu;
  }
  return { used, defaultMtu };
}

function readSysFile(file: string): string | undefined {
  try { return readFileSync(file, 'utf8').trim(); } catch { return undefined; }
}

/** True when a network interface of this name exists in the host's namespace. */
export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Parsed /etc/resolv.conf of the host. */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** Reads the host's /etc/resolv.conf (or `file`). */
export function readResolvConf(file = '/etc/resolv.conf'): ResolvConf {
  const result: ResolvConf = { nameservers: [], search: [], options: [] };
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return result; }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [word, ...rest] = line.split(/\s+/);
    if (word === 'nameserver' && rest[0]) result.nameservers.push(rest[0].replace(/%.*$/, ''));
    else if (word === 'search' || word === 'domain') result.search = rest;
    else if (word === 'options') result.options.push(...rest);
  }
  return result;
}

/** The host's resolvers. */
export function hostResolvers(): string[] {
  return readResolvConf().nameservers;
}

/** Writes a sysctl under /proc/sys (e.g. `net/ipv4/ip_forward`); returns false when it cannot. */
export function writeSysctl(key: string, value: string): boolean {
  try {
    const file = `/proc/sys/${key}`;
    if (readFileSync(file, 'utf8').trim() === value) return true;
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}
