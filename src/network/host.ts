/** Facts about the host the network layer needs: used subnets, resolvers, MTU, sysctls. */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAddress, parseCidr, type Cidr } from './addr.js';
import { ipJson } from './exec.js';

interface RouteJson { dst?: string; dev?: string; type?: string; metrics?: unknown }
interface AddrJson { ifname: string; mtu?: number; addr_info?: Array<{ family: string; local: string; prefixlen: number }> }

/** Every prefix the host already uses: routes (all tables, not default), interface addresses, resolvers. */
export async function hostUsedPrefixes(): Promise<Array<{ cidr: Cidr; what: string }>> {
  const used: Array<{ cidr: Cidr; what: string }> = [];
  for (const family of ['-4', '-6']) {
    const routes = await ipJson<RouteJson[]>([family, 'route', 'show', 'table', 'all']).catch(() => []);
    for (const route of routes) {
      if (!route.dst || route.dst === 'default') continue;
      const text = route.dst.includes('/') ? route.dst : `${route.dst}/${route.dst.includes(':') ? 128 : 32}`;
      try {
        const cidr = parseCidr(text);
        // Link-local and multicast ranges are everywhere and never collide with a bridge subnet.
        if (cidr.family === 6 && cidr.bits <= 10) continue;
        used.push({ cidr, what: `host route ${route.dst}${route.dev ? ` dev ${route.dev}` : ''}` });
      } catch { /* not an address prefix */ }
    }
  }
  const links = await ipJson<AddrJson[]>(['addr', 'show']).catch(() => []);
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
  return used;
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

/** MTU of the interface holding the default route (1500 when unknown). */
export async function defaultRouteMtu(): Promise<number> {
  const routes = await ipJson<RouteJson[]>(['-4', 'route', 'show', 'default']).catch(() => []);
  const dev = routes[0]?.dev;
  if (!dev) return 1500;
  const links = await ipJson<AddrJson[]>(['link', 'show', 'dev', dev]).catch(() => []);
  const mtu = links[0]?.mtu;
  return typeof mtu === 'number' && mtu >= 1280 ? mtu : 1500;
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
