/**
 * Creating and removing a project's networks: each compose network is a Linux bridge with its
 * own subnet. Every check (external networks exist, subnets free and not overlapping, fixed
 * addresses inside their subnet) runs before the first bridge is made.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EventSink, Project } from '../engine/types.js';
import type { Network } from '../model/types.js';
import { cidrContains, cidrOverlaps, cidrSize, formatCidr, nthAddress, parseAddress, parseCidr, type Cidr } from './addr.js';
import { NetworkError } from './errors.js';
import { batchQuote, ipBatch, ipBatchForce } from './exec.js';
import { linkExists, surveyHost, writeSysctl, type HostSurvey } from './host.js';
import { checkHostIp } from './ports.js';
import { deleteNetworkState, listNetworks, writeNetwork, type NetworkState } from './state.js';

/**
 * The fixed MAC of a network's bridge, from its IPv4 gateway: 02:42 and the four address bytes,
 * the scheme containers use for their own address, and no container has the gateway address.
 */
export function bridgeMac(gateway: string): string {
  return `02:42:${gateway.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
}

/**
 * `ip -batch` lines that keep the current MAC of a bridge made without a fixed one (by an older
 * berth), so a container leaving can no longer change it; none when it is already fixed.
 */
export function pinBridgeMacLines(bridge: string): string[] {
  try {
    // addr_assign_type 3 (NET_ADDR_SET): the address was set explicitly and the bridge keeps it.
    if (readFileSync(`/sys/class/net/${bridge}/addr_assign_type`, 'utf8').trim() === '3') return [];
    const current = readFileSync(`/sys/class/net/${bridge}/address`, 'utf8').trim();
    return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(current) ? [`link set dev ${bridge} address ${current}`] : [];
  } catch {
    return [];
  }
}

/** Default address pools: `base/bits` carved into subnets of `size` bits. BERTH_NETWORK_POOL overrides. */
export function defaultPools(env: NodeJS.ProcessEnv = process.env): Array<{ base: Cidr; size: number }> {
  const text = env.BERTH_NETWORK_POOL ?? '172.20.0.0/14:24,10.210.0.0/16:24';
  return text.split(',').map((entry) => {
    const [cidr, size] = entry.trim().split(':');
    const base = parseCidr(cidr);
    return { base, size: Number(size ?? 24) };
  });
}

const bridgeNameOpt = 'com.docker.network.bridge.name';
const mtuOpt = 'com.docker.network.driver.mtu';

interface IpamConfig { subnet?: string; gateway?: string; ip_range?: string; aux_addresses?: Record<string, string> }

function ipamConfigs(net: Network): IpamConfig[] {
  const config = (net.ipam as { config?: unknown }).config;
  return Array.isArray(config) ? config.filter((c): c is IpamConfig => typeof c === 'object' && c !== null) : [];
}

/** The alias berth puts on its bridges so a crash never hides one: `berth:<project>/<network>`. */
export function bridgeAlias(project: string, network: string): string {
  return `berth:${project}/${network}`;
}

function where(net: Network): string {
  return net.source ? ` (${net.source.file}:${net.source.line})` : '';
}

/** A network about to be created, fully decided. */
type Planned = NetworkState;

/** Checks the project's networks and decides subnets for the missing ones; makes nothing. */
export async function planNetworks(root: string, project: Project, keys: readonly string[]): Promise<Planned[]> {
  const existing = listNetworks(root);
  const planned: Planned[] = [];
  const needed = keys.map((key) => {
    const net = project.networks.get(key);
    if (!net) throw new NetworkError(`network "${key}" is not defined in project "${project.name}"`, { network: key, hint: `declare it under the top-level networks: key` });
    return net;
  });
  let host: HostSurvey | undefined;
  const taken = (): Array<{ cidr: Cidr; what: string }> => [
    ...existing.flatMap((s) => [{ cidr: parseCidr(s.subnet), what: `berth network "${s.name}"` }, ...(s.subnet6 ? [{ cidr: parseCidr(s.subnet6), what: `berth network "${s.name}"` }] : [])]),
    ...planned.flatMap((s) => [{ cidr: parseCidr(s.subnet), what: `network "${s.name}" of this project` }, ...(s.subnet6 ? [{ cidr: parseCidr(s.subnet6), what: `network "${s.name}" of this project` }] : [])]),
    ...(host?.used ?? []),
  ];
  for (const net of needed) {
    const current = existing.find((s) => s.name === net.name);
    if (net.external) {
      if (!current) {
        throw new NetworkError(`network "${net.name}" is declared as external, but could not be found${where(net)}`, {
          network: net.name,
          hint: `create it first (for example with another project that defines it with name: ${net.name}), or remove "external: true" so berth creates it`,
        });
      }
      continue;
    }
    if (current) {
      if (current.project !== project.name) {
        throw new NetworkError(`network "${net.name}" already exists and belongs to project "${current.project}"${where(net)}`, {
          network: net.name,
          hint: `use "external: true" to join it, or give this network another name`,
        });
      }
      continue;
    }
    const driver = net.driver ?? 'bridge';
    if (driver !== 'bridge' && driver !== 'default') {
      throw new NetworkError(`network "${net.key}" uses driver "${driver}", which berth does not support${where(net)}`, { network: net.name, hint: 'use driver: bridge (the default)' });
    }
    host ??= await surveyHost();
    const configs = ipamConfigs(net);
    const v4 = configs.find((c) => c.subnet && !c.subnet.includes(':'));
    const v6 = configs.find((c) => c.subnet && c.subnet.includes(':'));
    let subnet: Cidr;
    const check = (cidr: Cidr, text: string): void => {
      const clash = taken().find((t) => cidrOverlaps(t.cidr, cidr));
      if (clash) {
        throw new NetworkError(`subnet ${text} of network "${net.key}" overlaps ${clash.what}${where(net)}`, {
          network: net.name,
          hint: 'choose a subnet no other network or host route uses, or leave ipam out so berth picks a free one',
        });
      }
    };
    if (v4?.subnet) {
      try { subnet = parseCidr(v4.subnet); } catch (err) {
        throw new NetworkError(`network "${net.key}": ${(err as Error).message}${where(net)}`, { network: net.name, hint: 'write the subnet as address/prefix, e.g. 172.28.0.0/16' });
      }
      if (subnet.family !== 4 || subnet.bits > 30) throw new NetworkError(`network "${net.key}": subnet ${v4.subnet} is too small (at most /30)${where(net)}`, { network: net.name });
      check(subnet, v4.subnet);
    } else {
      subnet = pickSubnet(taken(), net);
    }
    const subnetText = formatCidr(subnet);
    let gateway = v4?.gateway ?? nthAddress(subnet, 1n);
    if (!cidrContains(subnet, gateway)) {
      throw new NetworkError(`gateway ${gateway} of network "${net.key}" is outside its subnet ${subnetText}${where(net)}`, { network: net.name, hint: `pick a gateway inside ${subnetText}` });
    }
    gateway = nthAddress(subnet, parseAddress(gateway).value - subnet.base);
    let ipRange: string | undefined;
    if (v4?.ip_range) {
      let range: Cidr;
      try { range = parseCidr(v4.ip_range); } catch (err) { throw new NetworkError(`network "${net.key}": ip_range: ${(err as Error).message}`, { network: net.name }); }
      if (range.bits < subnet.bits || !cidrContains(subnet, nthAddress(range, 0n))) {
        throw new NetworkError(`ip_range ${v4.ip_range} of network "${net.key}" is outside its subnet ${subnetText}${where(net)}`, { network: net.name, hint: `pick a range inside ${subnetText}` });
      }
      ipRange = formatCidr(range);
    }
    const reserved = Object.values(v4?.aux_addresses ?? {}).filter((a) => !a.includes(':'));
    for (const address of reserved) {
      if (!cidrContains(subnet, address)) throw new NetworkError(`aux address ${address} of network "${net.key}" is outside its subnet ${subnetText}`, { network: net.name });
    }
    let subnet6: string | undefined;
    let gateway6: string | undefined;
    if (net.enable_ipv6 || v6) {
      let cidr6: Cidr;
      if (v6?.subnet) {
        try { cidr6 = parseCidr(v6.subnet); } catch (err) { throw new NetworkError(`network "${net.key}": ${(err as Error).message}`, { network: net.name }); }
        check(cidr6, v6.subnet);
      } else {
        // A unique local /64: fd + 40 random bits + subnet 0.
        const random = BigInt('0x' + randomBytes(5).toString('hex'));
        cidr6 = { family: 6, base: (0xfdn << 120n) | (random << 80n), bits: 64 };
      }
      subnet6 = formatCidr(cidr6);
      gateway6 = v6?.gateway ?? nthAddress(cidr6, 1n);
      if (!cidrContains(cidr6, gateway6)) throw new NetworkError(`gateway ${gateway6} of network "${net.key}" is outside its subnet ${subnet6}`, { network: net.name });
    }
    const id = randomBytes(6).toString('hex');
    const bridge = net.driver_opts?.[bridgeNameOpt] ?? `br-${id}`;
    if (bridge.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(bridge)) {
      throw new NetworkError(`bridge name "${bridge}" of network "${net.key}" is not a valid interface name (at most 15 letters, digits, "_", "." or "-")${where(net)}`, { network: net.name });
    }
    if (linkExists(bridge) || existing.some((s) => s.bridge === bridge) || planned.some((s) => s.bridge === bridge)) {
      throw new NetworkError(`network "${net.key}": an interface named "${bridge}" already exists on the host${where(net)}`, { network: net.name, hint: `choose another ${bridgeNameOpt}` });
    }
    const mtuText = net.driver_opts?.[mtuOpt];
    const mtu = mtuText ? Number(mtuText) : host.defaultMtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new NetworkError(`network "${net.key}": ${mtuOpt} "${mtuText}" is not a valid MTU`, { network: net.name, hint: 'use a number between 68 and 65535, e.g. 1500' });
    planned.push({
      name: net.name, key: net.key, project: project.name, id, driver: 'bridge', bridge, subnet: subnetText, gateway, ipRange,
      subnet6, gateway6, internal: net.internal === true, mtu, labels: { ...(net.labels ?? {}) }, created: new Date().toISOString(),
      reserved, endpoints: {}, guarded: true,
    });
  }
  checkFixedAddresses(project, planned, existing);
  for (const service of project.services.values()) {
    for (const port of service.ports ?? []) checkHostIp(port.host_ip ?? '', port, `service "${service.name}"`);
  }
  return planned;
}

function pickSubnet(taken: Array<{ cidr: Cidr; what: string }>, net: Network): Cidr {
  for (const pool of defaultPools()) {
    const count = 1n << BigInt(pool.size - pool.base.bits);
    const step = 1n << BigInt(32 - pool.size);
    for (let i = 0n; i < count; i++) {
      const candidate: Cidr = { family: 4, base: pool.base.base + i * step, bits: pool.size };
      if (!taken.some((t) => cidrOverlaps(t.cidr, candidate))) return candidate;
    }
  }
  throw new NetworkError(`no free subnet left in berth's address pools for network "${net.key}"`, {
    network: net.name,
    hint: 'remove unused networks (berth down), set ipam.config.subnet, or widen BERTH_NETWORK_POOL (e.g. "10.100.0.0/16:24")',
  });
}

/** ipv4_address / ipv6_address of services must lie inside the network's subnet and not be its gateway. */
function checkFixedAddresses(project: Project, planned: Planned[], existing: NetworkState[]): void {
  for (const service of project.services.values()) {
    for (const [key, options] of Object.entries(service.networks ?? {})) {
      if (!options) continue;
      const net = project.networks.get(key);
      const state = planned.find((p) => p.name === net?.name) ?? existing.find((s) => s.name === net?.name);
      if (!net || !state) continue;
      const at = ` (service "${service.name}", networks.${key})`;
      if (options.ipv4_address) {
        if (!cidrContains(parseCidr(state.subnet), options.ipv4_address)) {
          throw new NetworkError(`address ${options.ipv4_address} of service "${service.name}" is outside the subnet ${state.subnet} of network "${key}"`, {
            network: net.name, hint: `pick an address inside ${state.subnet}${at}`,
          });
        }
        if (options.ipv4_address === state.gateway) throw new NetworkError(`address ${options.ipv4_address} of service "${service.name}" is the gateway of network "${key}"`, { network: net.name, hint: 'pick another address' });
      }
      if (options.ipv6_address) {
        if (!state.subnet6 || !cidrContains(parseCidr(state.subnet6), options.ipv6_address)) {
          throw new NetworkError(`address ${options.ipv6_address} of service "${service.name}" is outside the IPv6 subnet of network "${key}"`, {
            network: net.name, hint: state.subnet6 ? `pick an address inside ${state.subnet6}` : 'set enable_ipv6: true and an IPv6 subnet on the network',
          });
        }
      }
    }
  }
}

/**
 * Records and creates the bridges of planned networks, all in one `ip` process; call it holding
 * the network lock, so the new subnets are in the kernel before another berth plans its own.
 * On failure every bridge made is removed again. The caller updates the packet rules.
 */
export async function createNetworks(root: string, projectName: string, planned: Planned[], events?: EventSink): Promise<void> {
  const lines: string[] = [];
  for (const net of planned) {
    lines.push(
      // A fixed address: without one the bridge takes the lowest MAC of its ports and changes it
      // when that container leaves, and the others' ARP entries for the gateway go stale.
      `link add name ${net.bridge} address ${bridgeMac(net.gateway)} mtu ${net.mtu} type bridge`,
      `link set dev ${net.bridge} alias ${batchQuote(bridgeAlias(projectName, net.name))}`,
      `addr add ${net.gateway}/${parseCidr(net.subnet).bits} dev ${net.bridge}`,
    );
    if (net.subnet6 && net.gateway6) lines.push(`addr add ${net.gateway6}/${parseCidr(net.subnet6).bits} dev ${net.bridge} nodad`);
    lines.push(`link set dev ${net.bridge} up`);
  }
  // State first: a crash from here on leaves pieces removeNetworks/cleanupProject find.
  for (const net of planned) writeNetwork(root, net);
  try {
    await ipBatch(lines, `create network${planned.length > 1 ? 's' : ''} ${planned.map((n) => `"${n.name}"`).join(', ')}`);
  } catch (err) {
    await removeBridges(root, planned);
    throw err;
  }
  for (const net of planned) {
    if (!net.internal) writeSysctl('net/ipv4/ip_forward', '1');
    events?.({ type: 'network', action: 'create', name: net.name, time: Date.now() });
  }
}

/**
 * Turns on route_localnet on the bridges: published ports reached through 127.0.0.1 leave
 * through the bridge with a loopback source. Call only once the project's packet rules (with
 * their guard against loopback traffic coming in from the bridge) are loaded.
 */
export function enableLocalnet(nets: readonly NetworkState[]): void {
  for (const net of nets) writeSysctl(`net/ipv4/conf/${net.bridge}/route_localnet`, '1');
}

/** Deletes bridges (one `ip` process) and their state; missing ones are fine. Call under the network lock. */
export async function removeBridges(root: string, nets: readonly NetworkState[]): Promise<void> {
  if (nets.length === 0) return;
  await ipBatchForce(nets.map((n) => `link del dev ${n.bridge}`));
  for (const net of nets) deleteNetworkState(root, net.name);
}

/**
 * Removes the project's networks no container is attached to; external ones are never touched.
 * Call under the network lock; returns the networks removed (the caller updates the packet rules).
 */
export async function removeProjectNetworks(root: string, project: { name: string; networks?: Project['networks'] }, events?: EventSink): Promise<NetworkState[]> {
  const external = new Set([...(project.networks?.values() ?? [])].filter((n) => n.external).map((n) => n.name));
  const empty = listNetworks(root).filter((net) => net.project === project.name && !external.has(net.name) && Object.keys(net.endpoints).length === 0);
  await removeBridges(root, empty);
  for (const net of empty) events?.({ type: 'network', action: 'remove', name: net.name, time: Date.now() });
  return empty;
}

/** Offsets usable for containers inside a network (not network, gateway, broadcast, reserved). */
export function* candidateAddresses(net: NetworkState): Generator<string> {
  const subnet = parseCidr(net.subnet);
  const range = net.ipRange ? parseCidr(net.ipRange) : subnet;
  const size = cidrSize(range);
  const last = subnet.base + cidrSize(subnet) - 1n;
  for (let i = 0n; i < size; i++) {
    const value = range.base + i;
    if (value === subnet.base || value === last) continue;
    yield nthAddress({ ...subnet, base: 0n }, value);
  }
}
