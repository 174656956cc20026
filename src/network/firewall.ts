/**
 * Kernel packet rules for one project, in one nftables table of its own
 * (`inet berth_<project>_<root hash>`). The table is rebuilt from the state files in one atomic
 * `nft -f` batch after every change, so it always matches the state on disk, and removing a
 * project's rules is removing its table: nothing is left behind, nothing else is touched.
 *
 *  - ports (nat): `<proto> dport P dnat to container:target` for each published port, jumped to
 *    from prerouting and output for packets addressed to one of the host's own addresses.
 *  - postrouting (nat): masquerade outbound traffic of non-internal networks, traffic from
 *    127.0.0.0/8 (published ports used through localhost) and hairpin traffic.
 *  - forward (filter): each bridge accepts traffic between its own ports, replies, and
 *    published-port (DNAT) traffic; everything else into it is dropped, which isolates networks
 *    from each other. Internal networks also drop everything leaving them.
 *  - guard (filter, prerouting at raw priority, before conntrack and NAT): packets coming in from
 *    a bridge with a loopback destination or source (127.0.0.0/8, ::1) are dropped. Bridges
 *    have route_localnet on (published ports at 127.0.0.1 need it), which would otherwise let a
 *    container reach services bound to the host's loopback by sending packets for 127.0.0.1 to
 *    its gateway, or pass itself off as the host with a 127.x source.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { hostLockPath, listContainerStates, listNetworks, withFileLock, type NetworkState, type PortBinding } from './state.js';
import { nftScript, runTool } from './exec.js';
import { compareStrings } from '../compare.js';

/** The nftables table name of a project in a berth root. */
export function projectTable(root: string, project: string): string {
  const hash = createHash('sha256').update(root).digest('hex').slice(0, 6);
  return `berth_${project.replace(/[^A-Za-z0-9_-]/g, '_')}_${hash}`;
}

function q(text: string): string {
  return `"${text.replace(/["\\]/g, '')}"`;
}

/** The nft rules of one published port (one or two rules: IPv4 and IPv6). */
export function portRules(table: string, binding: PortBinding, comment: string): string[] {
  const proto = binding.protocol;
  const v6Target = binding.targetIp.includes(':');
  const to = v6Target ? `dnat ip6 to [${binding.targetIp}]:${binding.target}` : `dnat ip to ${binding.targetIp}:${binding.target}`;
  const tail = `${proto} dport ${binding.hostPort} ${to} comment ${q(comment)}`;
  const host = binding.hostIp;
  if (!host || host === '0.0.0.0' || host === '::') {
    return [`add rule inet ${table} ports meta nfproto ${v6Target ? 'ipv6' : 'ipv4'} ${tail}`];
  }
  return [`add rule inet ${table} ports ${host.includes(':') ? 'ip6' : 'ip'} daddr ${host} ${tail}`];
}

/** Builds the whole table of a project from its networks and containers. */
export function buildProjectRules(table: string, project: string, networks: NetworkState[], ports: Array<{ name: string; created: string; binding: PortBinding }>): string {
  const lines = [
    `add table inet ${table} { comment ${q(`berth project ${project}`)}; }`,
    `flush table inet ${table}`,
    `add chain inet ${table} ports`,
    `add chain inet ${table} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain inet ${table} output { type nat hook output priority -100; policy accept; }`,
    `add chain inet ${table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain inet ${table} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain inet ${table} guard { type filter hook prerouting priority raw; policy accept; }`,
    `add rule inet ${table} prerouting fib daddr type local jump ports`,
    // Replies to ::1 never come back in from a bridge: [::1]:port is refused at once, not left hanging.
    `add rule inet ${table} output ip6 daddr ::1 return`,
    `add rule inet ${table} output fib daddr type local jump ports`,
  ];
  // Newest container first: while a recreated container's predecessor still exists, the new one wins.
  const sorted = [...ports].sort((a, b) => compareStrings(b.created, a.created));
  for (const { name, binding } of sorted) lines.push(...portRules(table, binding, `berth:${project}/${name}`));
  for (const net of networks) {
    const br = q(net.bridge);
    // Nothing legitimate arrives from a container with a loopback address: its own loopback
    // traffic stays in its namespace, and replies to published-port traffic from the host's
    // 127.0.0.1 are addressed to the gateway (masqueraded) until conntrack rewrites them later.
    lines.push(`add rule inet ${table} guard iifname ${br} ip daddr 127.0.0.0/8 drop`);
    lines.push(`add rule inet ${table} guard iifname ${br} ip saddr 127.0.0.0/8 drop`);
    lines.push(`add rule inet ${table} guard iifname ${br} ip6 daddr ::1 drop`);
    lines.push(`add rule inet ${table} guard iifname ${br} ip6 saddr ::1 drop`);
    lines.push(`add rule inet ${table} postrouting oifname ${br} ip saddr 127.0.0.0/8 masquerade`);
    lines.push(`add rule inet ${table} postrouting oifname ${br} ct status dnat ip saddr ${net.subnet} masquerade`);
    if (!net.internal) lines.push(`add rule inet ${table} postrouting ip saddr ${net.subnet} oifname != ${br} masquerade`);
    lines.push(`add rule inet ${table} forward oifname ${br} iifname ${br} accept`);
    lines.push(`add rule inet ${table} forward oifname ${br} ct state established,related accept`);
    if (!net.internal) lines.push(`add rule inet ${table} forward oifname ${br} ct status dnat accept`);
    lines.push(`add rule inet ${table} forward oifname ${br} drop`);
    if (net.internal) lines.push(`add rule inet ${table} forward iifname ${br} drop`);
  }
  return lines.join('\n') + '\n';
}

/** The lock that orders changes to one table across processes (beside the network lock). */
export function tableLockPath(table: string): string {
  return path.join(path.dirname(hostLockPath), `berth-nft-${table}.lock`);
}

/** Syncs waiting to start (one per table: later callers join it) and syncs running. */
const queuedSyncs = new Map<string, Promise<void>>();
const runningSyncs = new Map<string, Promise<void>>();

/**
 * Rebuilds (or, with nothing left, deletes) the nftables table of `project` from the state in
 * `root`. Concurrent calls for one table share a run: a call made while one runs waits for the
 * next, which reads the state after every change that came before it. Across processes a lock
 * per table keeps an older state from being loaded after a newer one.
 */
export function syncProjectFirewall(root: string, project: string): Promise<void> {
  const table = projectTable(root, project);
  const queued = queuedSyncs.get(table);
  if (queued) return queued;
  const before = runningSyncs.get(table) ?? Promise.resolve();
  const next = before.catch(() => undefined).then(() => {
    queuedSyncs.delete(table);
    const run = withFileLock(tableLockPath(table), () => loadProjectTable(root, project, table));
    runningSyncs.set(table, run);
    return run.finally(() => { if (runningSyncs.get(table) === run) runningSyncs.delete(table); });
  });
  queuedSyncs.set(table, next);
  return next;
}

async function loadProjectTable(root: string, project: string, table: string): Promise<void> {
  const networks = listNetworks(root).filter((n) => n.project === project);
  const ports: Array<{ name: string; created: string; binding: PortBinding }> = [];
  for (const c of listContainerStates(root)) {
    if (c.project !== project) continue;
    for (const binding of c.ports) ports.push({ name: c.containerName, created: c.created, binding });
  }
  if (networks.length === 0 && ports.length === 0) {
    await deleteTable(table);
    return;
  }
  await nftScript(buildProjectRules(table, project, networks, ports), `update the packet rules of project "${project}"`);
}

/** Deletes a berth table; a missing table is fine. */
export async function deleteTable(table: string): Promise<void> {
  await runTool('nft', ['delete', 'table', 'inet', table]).catch(() => undefined);
}

/** Names of the berth tables present in the kernel. */
export async function listBerthTables(): Promise<string[]> {
  const result = await runTool('nft', ['list', 'tables', 'inet']).catch(() => undefined);
  if (!result || result.code !== 0) return [];
  return result.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w[0] === 'table' && w[2]?.startsWith('berth_')).map((w) => w[2]);
}

/** Host ports held by berth rules across every berth table: `proto/port` -> "project/container". */
export async function berthHeldPorts(): Promise<Map<string, { owner: string; hostIp: string }>> {
  const held = new Map<string, { owner: string; hostIp: string }>();
  const tables = await listBerthTables();
  if (tables.length === 0) return held;
  const result = await runTool('nft', ['list', 'ruleset']).catch(() => undefined);
  if (!result || result.code !== 0) return held;
  let inBerth = false;
  for (const line of result.stdout.split('\n')) {
    const table = /^table inet (\S+)/.exec(line);
    if (table) { inBerth = table[1].startsWith('berth_'); continue; }
    if (!inBerth) continue;
    const m = /(?:(?:ip6?) daddr (\S+) )?(tcp|udp) dport (\d+) dnat .* comment "berth:([^"]*)"/.exec(line);
    if (m) held.set(`${m[2]}/${m[3]}/${m[1] ?? ''}`, { owner: m[4], hostIp: m[1] ?? '' });
  }
  return held;
}
