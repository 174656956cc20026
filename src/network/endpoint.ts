/**
 * One container's networking: its own named network namespace (`ip netns`, /run/netns/berth-<id>)
 * with loopback up and one veth per network, in priority order (eth0, eth1, ...), with the
 * network's address, MAC and aliases; the default route via the first non-internal network;
 * published ports as kernel NAT rules; /etc/hosts, /etc/resolv.conf and /etc/hostname files.
 */
import { existsSync, mkdirSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AttachRequest, NetworkAddress, NetworkAttachment, PublishedPort } from '../engine/types.js';
import type { Service, ServiceNetwork } from '../model/types.js';
import { cidrContains, formatAddress, parseAddress, parseCidr } from './addr.js';
import { NetworkError } from './errors.js';
import { batchQuote, hostBatch, ipBatch } from './exec.js';
import { hostStepsAvailable, runHostStep } from '../host-batch.js';
import { hostHostsFile, parseExtraHosts, resolverSettings, writeHostnameFile, writeHostsFile, writeResolvConf } from './files.js';
import { syncProjectFirewall } from './firewall.js';
import { linkExists, readResolvConf } from './host.js';
import { candidateAddresses, pinBridgeMacLines } from './networks.js';
import { choosePorts, hostListeners, surveyPorts } from './ports.js';
import {
  deleteContainerState, listNetworks, readContainerState, readNetwork, releasePortClaims, setPortClaims, withNetworkLock,
  writeContainerState, writeNetwork, type ContainerNetState, type EndpointState, type NetworkState,
} from './state.js';
import { compareStrings } from '../compare.js';

/** The named netns of a container. */
export function netnsName(containerId: string): string {
  return `berth-${containerId}`;
}

/** Path of a named netns. */
export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** A service's networks in attach order: priority (highest first), then name. */
export function orderedNetworks(service: Service): Array<[string, ServiceNetwork]> {
  return Object.entries(service.networks ?? {})
    .map(([key, value]) => [key, value ?? {}] as [string, ServiceNetwork])
    .sort((a, b) => (b[1].priority ?? 0) - (a[1].priority ?? 0) || compareStrings(a[0], b[0]));
}

function macFor(ipv4: string | undefined): string {
  if (ipv4) {
    const bytes = ipv4.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
    return `02:42:${bytes.join(':')}`;
  }
  return `02:42:${randomBytes(4).toString('hex').match(/../g)!.join(':')}`;
}

function uniq(list: Array<string | undefined>): string[] {
  return [...new Set(list.filter((x): x is string => !!x))];
}

/** Parses `links` ("svc" or "svc:alias") into alias -> service. */
function parseLinks(links: readonly string[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const link of links ?? []) {
    const [service, alias] = link.split(':');
    result[alias ?? service] = service;
  }
  return result;
}

function fixedFor(net: NetworkState, wanted: string | undefined, containerId: string, who: string): string {
  const inUse = new Map(Object.values(net.endpoints).filter((e) => e.containerId !== containerId && e.ipv4).map((e) => [e.ipv4!, e]));
  if (wanted) {
    if (!cidrContains(parseCidr(net.subnet), wanted)) {
      throw new NetworkError(`address ${wanted} of ${who} is outside the subnet ${net.subnet} of network "${net.name}"`, { network: net.name, hint: `pick an address inside ${net.subnet}` });
    }
    const holder = inUse.get(wanted);
    if (holder) {
      throw new NetworkError(`address ${wanted} on network "${net.name}" is already used by container "${holder.containerName}"`, { network: net.name, hint: 'give each container its own ipv4_address' });
    }
    if (wanted === net.gateway || net.reserved.includes(wanted)) throw new NetworkError(`address ${wanted} on network "${net.name}" is reserved (gateway or aux address)`, { network: net.name });
    return wanted;
  }
  const fixed = new Set(Object.values(net.endpoints).map((e) => e.ipv4));
  for (const candidate of candidateAddresses(net)) {
    if (candidate === net.gateway || net.reserved.includes(candidate) || inUse.has(candidate) || fixed.has(candidate)) continue;
    return candidate;
  }
  throw new NetworkError(`network "${net.name}" has no free address left (${net.subnet})`, { network: net.name, hint: 'use a larger subnet in ipam.config, or fewer containers' });
}

function pickV6(net: NetworkState, wanted: string | undefined, containerId: string): string | undefined {
  if (!net.subnet6) return undefined;
  const cidr = parseCidr(net.subnet6);
  if (wanted) {
    if (!cidrContains(cidr, wanted)) throw new NetworkError(`address ${wanted} is outside the IPv6 subnet ${net.subnet6} of network "${net.name}"`, { network: net.name });
    return wanted;
  }
  const used = new Set(Object.values(net.endpoints).filter((e) => e.containerId !== containerId).map((e) => e.ipv6));
  const gateway = net.gateway6 ? parseAddress(net.gateway6).value : -1n;
  for (let i = 2n; i < 65536n; i++) {
    if (cidr.base + i === gateway) continue;
    const candidate = formatAddress(6, cidr.base + i);
    if (!used.has(candidate)) return candidate;
  }
  return undefined;
}

/** Context the provider passes in. */
export interface EndpointContext {
  root: string;
}

/** Sets up networking for one container (see the module comment). */
export async function attachContainer(ctx: EndpointContext, req: AttachRequest): Promise<NetworkAttachment> {
  const { service, project } = req;
  const mode = service.network_mode ?? 'bridge';
  const extraHosts = service.extra_hosts ?? [];
  const dnsOpt = (service as { dns_opt?: string[] }).dns_opt;
  const resolver = resolverSettings(service.dns_search, dnsOpt);
  const fullHost = req.domainname ? `${req.hostname}.${req.domainname}` : req.hostname;
  const ownNames = uniq([fullHost, req.hostname]);

  if (mode === 'host') {
    const hosts = writeHostsFile(req.stateDir, [], parseExtraHosts(extraHosts, '127.0.0.1', service.name), hostHostsFile());
    const host = readResolvConf();
    const resolvConf = writeResolvConf(req.stateDir, service.dns?.length ? [...service.dns] : host.nameservers, resolver.search, resolver.options.length ? resolver.options : host.options);
    return { mode: 'host', addresses: [], ports: [], files: { hosts, resolvConf, hostname: writeHostnameFile(req.stateDir, req.hostname) } };
  }

  const shared = /^(service|container):(.+)$/.exec(mode);
  if (shared) {
    if (!req.resolveShared) throw new NetworkError(`service "${service.name}" uses network_mode "${mode}", but the engine cannot resolve it`, { hint: 'this is a berth bug: AttachRequest.resolveShared is missing' });
    const target = await req.resolveShared(shared[1] === 'service' ? { service: shared[2] } : { container: shared[2] });
    const targetState = readContainerState(ctx.root, target.id);
    const nameservers = targetState?.nameservers ?? readResolvConf().nameservers;
    const hosts = writeHostsFile(req.stateDir, [], parseExtraHosts(extraHosts, targetState?.gateway, service.name));
    const resolvConf = writeResolvConf(req.stateDir, service.dns?.length && !targetState ? [...service.dns] : nameservers, resolver.search, targetState ? ['ndots:0', ...resolver.options] : resolver.options);
    return { mode: 'shared', netnsPath: target.netnsPath, sharedWith: target.id, addresses: [], ports: [], files: { hosts, resolvConf, hostname: writeHostnameFile(req.stateDir, req.hostname) } };
  }

  if (mode !== 'bridge' && mode !== 'none' && mode !== 'default') {
    throw new NetworkError(`service "${service.name}": network_mode "${mode}" is not supported`, { hint: 'use bridge, host, none, service:<name> or container:<name>' });
  }

  const ns = netnsName(req.containerId);
  const nets = mode === 'none' ? [] : orderedNetworks(service);
  const who = `service "${service.name}" (container ${req.containerName})`;
  const links = parseLinks(service.links);
  const serviceMac = (service as { mac_address?: string }).mac_address;

  // Sockets of other processes: reading them is slow (the kernel walks its whole socket table),
  // and berth's lock does not order them anyway.
  const listeners = service.ports?.length && nets.length > 0 ? hostListeners() : undefined;
  // Decide and record everything host-wide (addresses, host ports) under the lock, before
  // touching the kernel; the kernel work runs outside it, in parallel with other attaches.
  const { states, endpoints, bindings, gwIndex, containerState } = await withNetworkLock(async () => {
    const states: NetworkState[] = [];
    for (const [key] of nets) {
      const net = project.networks.get(key);
      const name = net?.name ?? key;
      const state = readNetwork(ctx.root, name);
      if (!state) {
        throw new NetworkError(`network "${name}" of service "${service.name}" does not exist`, { network: name, hint: 'create the project\'s networks first (berth up creates them)' });
      }
      states.push(state);
    }
    const endpoints: EndpointState[] = [];
    nets.forEach(([, options], i) => {
      const state = states[i];
      const ipv4 = fixedFor(state, options.ipv4_address, req.containerId, who);
      endpoints.push({
        containerId: req.containerId,
        containerName: req.containerName,
        project: project.name,
        service: service.name,
        hostname: req.hostname,
        ipv4,
        ipv6: pickV6(state, options.ipv6_address, req.containerId),
        mac: options.mac_address ?? (i === 0 ? serviceMac : undefined) ?? macFor(ipv4),
        aliases: uniq([service.name, req.containerName, req.containerId, req.hostname, ...(options.aliases ?? [])]),
        hostIf: `vb${randomBytes(6).toString('hex')}`,
      });
    });
    const primary = endpoints[0];
    const survey = listeners && primary ? await surveyPorts(listeners) : undefined;
    const bindings = survey && primary ? choosePorts(service.ports!, { v4: primary.ipv4, v6: primary.ipv6 }, survey, who) : [];
    // The default route goes through the network with the highest gw_priority (ties: attach order) that is not internal.
    const gwIndex = states
      .map((s, i) => ({ s, i, prio: nets[i][1].gw_priority ?? 0 }))
      .filter((x) => !x.s.internal)
      .sort((a, b) => b.prio - a.prio || a.i - b.i)[0]?.i;
    const dnsServer = states[0]?.gateway;
    const previous = readContainerState(ctx.root, req.containerId);
    const containerState: ContainerNetState = {
      containerId: req.containerId,
      containerName: req.containerName,
      project: project.name,
      service: service.name,
      netns: ns,
      networks: states.map((s) => s.name),
      hostIfs: endpoints.map((e) => e.hostIf),
      ports: bindings,
      dns: [...(service.dns ?? [])],
      search: resolver.search,
      links,
      nameservers: dnsServer ? [dnsServer] : [],
      gateway: gwIndex !== undefined ? states[gwIndex].gateway : states[0]?.gateway,
      created: new Date().toISOString(),
    };
    // State first: a crash from here on leaves pieces a later detach/cleanup can find. The
    // endpoints also register the names: the DNS server reads them from the network state files.
    writeContainerState(ctx.root, containerState);
    for (const [i, e] of endpoints.entries()) {
      states[i].endpoints[e.containerId] = e;
      writeNetwork(ctx.root, states[i]);
    }
    if (bindings.length > 0 || (previous?.ports.length ?? 0) > 0) {
      const owner = `${project.name}/${req.containerName}`;
      setPortClaims(ctx.root, req.containerId, bindings.map((b) => ({ protocol: b.protocol, hostPort: b.hostPort, hostIp: b.hostIp, owner, root: ctx.root, containerId: req.containerId })));
    }
    return { states, endpoints, bindings, gwIndex, containerState };
  });

  try {
    const hostLines = existsSync(netnsPath(ns)) ? [`netns del ${ns}`] : [];
    hostLines.push(...[...new Set(states.map((s) => s.bridge))].flatMap(pinBridgeMacLines), `netns add ${ns}`);
    const nsLines = ['link set dev lo up'];
    endpoints.forEach((e, i) => {
      const state = states[i];
      const ifname = `eth${i}`;
      hostLines.push(
        `link add name ${e.hostIf} mtu ${state.mtu} type veth peer name ${ifname} address ${e.mac} mtu ${state.mtu} netns ${ns}`,
        `link set dev ${e.hostIf} alias ${batchQuote(`berth:${project.name}/c/${req.containerName}`)}`,
        `link set dev ${e.hostIf} master ${state.bridge} up`,
      );
      nsLines.push(`addr add ${e.ipv4}/${parseCidr(state.subnet).bits} dev ${ifname}`);
      if (e.ipv6 && state.subnet6) nsLines.push(`addr add ${e.ipv6}/${parseCidr(state.subnet6).bits} dev ${ifname} nodad`);
      nsLines.push(`link set dev ${ifname} up`);
    });
    if (gwIndex !== undefined) {
      nsLines.push(`route add default via ${states[gwIndex].gateway} dev eth${gwIndex}`);
      // The family comes from the gateway address (an ip batch line takes no -6).
      if (states[gwIndex].gateway6 && endpoints[gwIndex].ipv6) nsLines.push(`route add default via ${states[gwIndex].gateway6} dev eth${gwIndex}`);
    }
    await hostBatch(hostLines, `attach container "${req.containerName}" to its networks`);
    const nsWhat = `configure the network namespace of container "${req.containerName}"`;
    if (hostStepsAvailable()) {
      // berth-runtime enters the namespace and runs ip on a batch file, for a burst of containers
      // in one process (no `ip -n` process per container).
      const batchFile = path.join(req.stateDir, 'netns.batch');
      mkdirSync(req.stateDir, { recursive: true });
      writeFileSync(batchFile, `${nsLines.join('\n')}\n`);
      await runHostStep({ kind: 'netns', netns: netnsPath(ns), batchFile }).catch((err: Error) => {
        throw new NetworkError(`${nsWhat}: ip: ${err.message}`, { hint: 'check that berth runs as root and that the host kernel has bridge and veth support' });
      });
    } else {
      await ipBatch(nsLines, nsWhat, ['-n', ns]);
    }
    // Containers without published ports are not in the project's packet rules.
    if (bindings.length > 0) await syncProjectFirewall(ctx.root, project.name);
  } catch (err) {
    await detachContainer(ctx, req.containerId, undefined);
    throw err;
  }

  const hostsOwn = endpoints.flatMap((e) => [
    ...(e.ipv4 ? [{ address: e.ipv4, names: ownNames }] : []),
    ...(e.ipv6 ? [{ address: e.ipv6, names: ownNames }] : []),
  ]).slice(0, 1);
  const hosts = writeHostsFile(req.stateDir, hostsOwn, parseExtraHosts(extraHosts, containerState.gateway, service.name));
  const nameservers = mode === 'none' ? readResolvConf().nameservers : containerState.nameservers;
  const resolvConf = writeResolvConf(req.stateDir, nameservers, resolver.search, mode === 'none' ? resolver.options : ['ndots:0', ...resolver.options.filter((o) => !o.startsWith('ndots:'))]);
  const hostname = writeHostnameFile(req.stateDir, req.hostname);
  const addresses: NetworkAddress[] = endpoints.map((e, i) => ({ network: states[i].name, ipv4: e.ipv4, ipv6: e.ipv6, mac: e.mac, aliases: e.aliases }));
  const ports: PublishedPort[] = bindings.map((b) => ({ target: b.target, protocol: b.protocol, hostIp: b.hostIp || '0.0.0.0', hostPort: b.hostPort }));
  return { mode: mode === 'none' ? 'none' : 'bridge', netnsPath: netnsPath(ns), addresses, ports, files: { hosts, resolvConf, hostname } };
}

/** Pids of processes inside the network namespace with inode `ino` (none when it cannot tell). */
function netnsUsers(ino: number): number[] {
  const target = `net:[${ino}]`;
  const users: number[] = [];
  let pids: string[] = [];
  try { pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)); } catch { return users; }
  for (const pid of pids) {
    try { if (readlinkSync(`/proc/${pid}/ns/net`) === target) users.push(Number(pid)); } catch { /* gone or not ours */ }
  }
  return users;
}

/**
 * Removes a container's namespace and veths. Deleting the namespace lets the kernel take its
 * veths (and their host ends) down with it, many namespaces in one go, which is far cheaper than
 * deleting each veth; this waits until the host ends are gone. If a process still lives in the
 * namespace (a container sharing it), or the kernel is slow, the host ends are deleted outright.
 */
async function removeKernelPieces(ns: string, hostIfs: readonly string[]): Promise<void> {
  let ino: number | undefined;
  try { ino = statSync(netnsPath(ns)).ino; } catch { ino = undefined; }
  if (ino !== undefined) {
    await hostBatch([`netns del ${ns}`], '', { force: true });
    const started = Date.now();
    let checked = false;
    while (hostIfs.some(linkExists) && Date.now() - started < 5_000) {
      if (!checked && Date.now() - started >= 100) {
        checked = true;
        if (netnsUsers(ino).length > 0) break;
      }
      await sleep(10);
    }
  }
  const left = hostIfs.filter(linkExists);
  if (left.length > 0) await hostBatch(left.map((i) => `link del dev ${i}`), '', { force: true });
}

/** Undoes attachContainer; idempotent, never fails on missing pieces. */
export async function detachContainer(ctx: EndpointContext, containerId: string, attachment: NetworkAttachment | undefined): Promise<void> {
  if (attachment && (attachment.mode === 'shared' || attachment.mode === 'host')) return;
  const state = readContainerState(ctx.root, containerId);
  const hostIfs = new Set(state?.hostIfs ?? []);
  for (const net of listNetworks(ctx.root)) {
    const endpoint = net.endpoints[containerId];
    if (endpoint) hostIfs.add(endpoint.hostIf);
  }
  // The kernel pieces go first, the state after: an address is handed out again only once
  // nothing answers on it any more, and a crash in between leaves state the next detach finds.
  await removeKernelPieces(state?.netns ?? netnsName(containerId), [...hostIfs]);
  const projects = new Set<string>();
  // Without its state file the container's ports are unknown: update the rules to be sure.
  let hadPorts = !state;
  const released = await withNetworkLock(() => {
    for (const net of listNetworks(ctx.root)) {
      const endpoint = net.endpoints[containerId];
      if (!endpoint) continue;
      projects.add(endpoint.project);
      delete net.endpoints[containerId];
      writeNetwork(ctx.root, net);
    }
    // Claims hold while the container's state exists: mark them released first.
    const released = releasePortClaims(ctx.root, containerId);
    const current = readContainerState(ctx.root, containerId);
    if (current) {
      projects.add(current.project);
      if (current.ports.length > 0) hadPorts = true;
      deleteContainerState(ctx.root, containerId);
    }
    return released;
  });
  if (!hadPorts && !released) return;
  for (const project of projects) await syncProjectFirewall(ctx.root, project);
  // The port is handed out again only once its rule is gone.
  if (released) await withNetworkLock(() => setPortClaims(ctx.root, containerId, []));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
