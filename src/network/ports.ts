/**
 * Host ports for published container ports: parse the compose forms, pick free or random host
 * ports, and refuse a port another process or berth project already holds (naming it).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { PortConfig } from '../model/types.js';
import { parseAddress } from './addr.js';
import { NetworkError } from './errors.js';
import { berthHeldPorts } from './firewall.js';
import { readPortClaims, type PortBinding } from './state.js';

/** A socket bound on the host. */
export interface Listener { proto: 'tcp' | 'udp'; address: string; port: number; inode: string }

function hexToAddress(hex: string): string {
  if (hex.length === 8) {
    const n = parseInt(hex, 16);
    return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff].join('.');
  }
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = word.match(/../g)!.reverse().join('');
    groups.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  const text = groups.map((g) => parseInt(g, 16).toString(16)).join(':');
  // Compress for readability only; comparisons use parseAddress.
  return text.replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Sockets bound on the host: TCP listeners and every UDP socket, from /proc/net. */
export function hostListeners(): Listener[] {
  const result: Listener[] = [];
  for (const [file, proto] of [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']] as const) {
    let text = '';
    try { text = readFileSync(`/proc/net/${file}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const [addrHex, portHex] = cols[1].split(':');
      if (proto === 'tcp' && cols[3] !== '0A') continue;
      result.push({ proto, address: hexToAddress(addrHex), port: parseInt(portHex, 16), inode: cols[9] });
    }
  }
  return result;
}

/** The process holding a socket inode: "name (pid N)". */
export function socketOwner(inode: string): string | undefined {
  const target = `socket:[${inode}]`;
  let pids: string[] = [];
  try { pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)); } catch { return undefined; }
  for (const pid of pids) {
    let fds: string[];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) {
          let name = '?';
          try { name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { /* gone */ }
          return `${name} (pid ${pid})`;
        }
      } catch { /* fd closed meanwhile */ }
    }
  }
  return undefined;
}

function isAny(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::';
}

function sameAddress(a: string, b: string): boolean {
  try { return parseAddress(a).value === parseAddress(b).value && parseAddress(a).family === parseAddress(b).family; } catch { return a === b; }
}

function addressesClash(a: string, b: string): boolean {
  return isAny(a) || isAny(b) || sameAddress(a, b);
}

/** What is known about ports in use while one attach picks its ports. */
export interface PortSurvey {
  listeners: Listener[];
  berth: Map<string, { owner: string; hostIp: string }>;
  /** Bindings decided in this attach so far. */
  chosen: PortBinding[];
}

/**
 * Snapshot of host sockets and of the ports berth handed out (the host-wide claims; before any
 * berth on this host wrote them, the port rules of berth's nft tables). Call under the network lock.
 */
export async function surveyPorts(listeners: Listener[] = hostListeners()): Promise<PortSurvey> {
  const claims = readPortClaims();
  let berth: PortSurvey['berth'];
  if (claims) {
    berth = new Map();
    claims.forEach((c, i) => berth.set(`${c.protocol}/${c.hostPort}/${c.hostIp}/${i}`, { owner: c.owner, hostIp: c.hostIp }));
  } else {
    berth = await berthHeldPorts();
  }
  return { listeners, berth, chosen: [] };
}

/** Who holds `proto/port` on `hostIp`, or undefined when it is free. */
export function portHolder(survey: PortSurvey, proto: 'tcp' | 'udp', port: number, hostIp: string): string | undefined {
  for (const b of survey.chosen) {
    if (b.protocol === proto && b.hostPort === port && addressesClash(b.hostIp, hostIp)) return 'another port of the same container';
  }
  for (const [key, held] of survey.berth) {
    const [p, portText] = key.split('/');
    if (p !== proto || Number(portText) !== port || !addressesClash(held.hostIp, hostIp)) continue;
    const [project, container] = held.owner.split('/');
    return `berth project "${project}" (container ${container})`;
  }
  for (const l of survey.listeners) {
    if (l.proto !== proto || l.port !== port || !addressesClash(l.address, hostIp)) continue;
    const owner = socketOwner(l.inode);
    return `${owner ?? 'a process'} listening on ${l.address.includes(':') ? `[${l.address}]` : l.address}:${port}`;
  }
  return undefined;
}

function localPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch { /* default */ }
  return [32768, 60999];
}

/** Parses `published`: a port, a range "a-b", or absent (random). */
export function parsePublished(published: string | undefined): { from: number; to: number } | undefined {
  if (published === undefined || published === '' || published === '0') return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(published);
  if (!m) throw new NetworkError(`published port "${published}" is not a port or a range`, { hint: 'write "8080" or "8080-8090"' });
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  if (from < 1 || to > 65535 || to < from) throw new NetworkError(`published port range "${published}" is invalid`, { hint: 'ports are 1-65535, low-high' });
  return { from, to };
}

/**
 * Refuses host addresses a kernel NAT rule cannot serve: the IPv6 loopback. The kernel never
 * routes replies addressed to ::1 in from a bridge (there is no route_localnet for IPv6), so a
 * port published on ::1 would accept nothing.
 */
export function checkHostIp(hostIp: string, port: PortConfig, who: string): void {
  if (!hostIp.includes(':')) return;
  let loopback = false;
  try { loopback = parseAddress(hostIp).value === 1n; } catch { return; }
  if (loopback) {
    throw new NetworkError(`port ${port.target} of ${who} cannot be published on ${hostIp}: berth publishes ports with kernel NAT, and the kernel does not send IPv6 loopback traffic to containers`, {
      hint: 'publish on 127.0.0.1 (host_ip: 127.0.0.1) for a port only the host can reach, or on "::" for IPv6',
    });
  }
}

/** Chooses the host port of each published port; `target` holds the container's addresses. */
export function choosePorts(ports: readonly PortConfig[], target: { v4?: string; v6?: string }, survey: PortSurvey, who: string): PortBinding[] {
  const bindings: PortBinding[] = [];
  for (const port of ports) {
    const proto = (port.protocol ?? 'tcp').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') throw new NetworkError(`port ${port.target}/${proto} of ${who}: protocol "${proto}" is not supported`, { hint: 'use tcp or udp' });
    let hostIp = port.host_ip ?? '';
    if (hostIp === '0.0.0.0') hostIp = '';
    checkHostIp(hostIp, port, who);
    const wantsV6 = hostIp.includes(':') && hostIp !== '::';
    const targetIp = wantsV6 ? target.v6 : hostIp === '::' ? (target.v6 ?? target.v4) : target.v4;
    if (!targetIp) {
      throw new NetworkError(`port ${port.target} of ${who} is published on ${hostIp || 'all addresses'}, but the container has no ${wantsV6 ? 'IPv6' : 'IPv4'} address`, {
        hint: wantsV6 ? 'enable IPv6 on the network (enable_ipv6: true)' : 'attach the service to a bridge network',
      });
    }
    if (hostIp === '::' && !target.v6) hostIp = '';
    const range = parsePublished(port.published);
    const candidates: number[] = [];
    if (range) {
      for (let p = range.from; p <= range.to; p++) candidates.push(p);
    } else {
      const [lo, hi] = localPortRange();
      for (let i = 0; i < 64; i++) candidates.push(lo + Math.floor(Math.random() * (hi - lo + 1)));
    }
    let chosen: number | undefined;
    let holder: string | undefined;
    for (const candidate of candidates) {
      const h = portHolder(survey, proto, candidate, hostIp);
      if (!h) { chosen = candidate; break; }
      holder ??= h;
    }
    if (chosen === undefined) {
      const what = range && range.from === range.to ? `port ${range.from}/${proto}` : range ? `every port of ${range.from}-${range.to}/${proto}` : `a free random port`;
      throw new NetworkError(`cannot publish ${what} on ${hostIp || 'all addresses'} for ${who}: ${range && range.from === range.to ? 'it is held by ' : 'in use, e.g. by '}${holder}`, {
        hint: 'stop whatever holds the port, or publish on another host port (e.g. "8081:80"), or leave the host port out to get a random one',
      });
    }
    const binding: PortBinding = { target: port.target, protocol: proto, hostIp, hostPort: chosen, targetIp };
    survey.chosen.push(binding);
    bindings.push(binding);
  }
  return bindings;
}
