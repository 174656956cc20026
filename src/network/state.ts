/**
 * The network layer's state on disk, and the host-wide lock that serialises changes to it.
 *
 *   <stateRoot>/networks/<name>.json              NetworkState: bridge, subnets, endpoints
 *   <stateRoot>/networks/containers/<id>.json     ContainerNetState: netns, veths, ports, DNS settings
 *
 * Subnets, addresses and host ports are host-wide resources (parallel berth roots share one
 * kernel), so they are decided and recorded under one lock under /run, not under the state
 * root; host ports handed out are also recorded there (readPortClaims). The lock is held only
 * to decide and write state: kernel work runs outside it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PublishedPort } from '../engine/types.js';
import { processAlive as pidAlive } from '../processes.js';
import { writeJsonAtomic } from '../atomic-write.js';

/** One container's place on one network. */
export interface EndpointState {
  containerId: string;
  containerName: string;
  project: string;
  service: string;
  hostname: string;
  ipv4?: string;
  ipv6?: string;
  mac: string;
  /** Names this endpoint answers to on this network (service, container name, hostname, aliases). */
  aliases: string[];
  /** Host-side veth name. */
  hostIf: string;
}

/** A network berth made (or joined, for external ones it finds here). */
export interface NetworkState {
  name: string;
  /** Key under `networks:` in the compose file that created it. */
  key: string;
  project: string;
  /** 12 hex digits, random; the default bridge name is br-<id>. */
  id: string;
  driver: 'bridge';
  bridge: string;
  subnet: string;
  gateway: string;
  ipRange?: string;
  subnet6?: string;
  gateway6?: string;
  internal: boolean;
  mtu: number;
  labels: Record<string, string>;
  created: string;
  /** Fixed addresses reserved by ipam.config.aux_addresses. */
  reserved: string[];
  endpoints: Record<string, EndpointState>;
  /**
   * True when the project's packet rules drop loopback traffic coming in from this bridge (every
   * network made since that guard exists). Older networks get the guard on the next ensureNetworks.
   */
  guarded?: boolean;
}

/** A published port as bound, with the container address it leads to. */
export interface PortBinding extends PublishedPort {
  /** Container address the traffic is sent to (v4 or v6). */
  targetIp: string;
}

/** What berth set up for one container, so detach and cleanup find every piece. */
export interface ContainerNetState {
  containerId: string;
  containerName: string;
  project: string;
  service: string;
  /** Named netns (`ip netns`) this container owns; absent when it shares or uses the host's. */
  netns?: string;
  networks: string[];
  hostIfs: string[];
  ports: PortBinding[];
  /** Upstream resolvers for names berth does not know (service `dns`), empty: the host's. */
  dns: string[];
  /** Search domains written into resolv.conf (the DNS server strips them from names it knows). */
  search?: string[];
  /** links: alias -> service. */
  links: Record<string, string>;
  /** Resolvers written into the container's resolv.conf (berth's DNS address). */
  nameservers: string[];
  /** The gateway (host address) used for the default route and `host-gateway`. */
  gateway?: string;
  created: string;
}

/** Directory holding the network state of a berth root. */
export function networksDir(root: string): string {
  return path.join(root, 'networks');
}

function networkFile(root: string, name: string): string {
  return path.join(networksDir(root), `${encodeURIComponent(name)}.json`);
}

function containerFile(root: string, id: string): string {
  return path.join(networksDir(root), 'containers', `${encodeURIComponent(id)}.json`);
}


function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Reads one network's state, or undefined. */
export function readNetwork(root: string, name: string): NetworkState | undefined {
  return readJson<NetworkState>(networkFile(root, name));
}

/** Writes one network's state atomically. */
export function writeNetwork(root: string, state: NetworkState): void {
  writeJsonAtomic(networkFile(root, state.name), state);
}

/** Removes one network's state file. */
export function deleteNetworkState(root: string, name: string): void {
  rmSync(networkFile(root, name), { force: true });
}

/** Every network of this root. */
export function listNetworks(root: string): NetworkState[] {
  let names: string[];
  try {
    names = readdirSync(networksDir(root));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json')).map((n) => readJson<NetworkState>(path.join(networksDir(root), n))).filter((s): s is NetworkState => !!s && typeof s.bridge === 'string');
}

/** Reads one container's network state, or undefined. */
export function readContainerState(root: string, id: string): ContainerNetState | undefined {
  return readJson<ContainerNetState>(containerFile(root, id));
}

/** Writes one container's network state atomically. */
export function writeContainerState(root: string, state: ContainerNetState): void {
  writeJsonAtomic(containerFile(root, state.containerId), state);
}

/** Removes one container's network state file. */
export function deleteContainerState(root: string, id: string): void {
  rmSync(containerFile(root, id), { force: true });
}

/** Every container network state of this root. */
export function listContainerStates(root: string): ContainerNetState[] {
  const dir = path.join(networksDir(root), 'containers');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json')).map((n) => readJson<ContainerNetState>(path.join(dir, n))).filter((s): s is ContainerNetState => !!s);
}

/** Host-wide lock directory (shared by every berth root on this host). */
export const hostLockPath = process.env.BERTH_NETWORK_LOCK ?? '/run/berth-network.lock';

/** Per-lock chains: callers in this process queue here instead of polling the directory. */
const chains = new Map<string, Promise<unknown>>();


async function acquire(lockPath: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lockPath);
      writeFileSync(path.join(lockPath, 'owner'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A lock left by a dead process is stale; so is one without an owner file after a while.
    let owner: number | undefined;
    try { owner = Number(readFileSync(path.join(lockPath, 'owner'), 'utf8')); } catch { owner = undefined; }
    let age = 0;
    try { age = Date.now() - statSync(lockPath).mtimeMs; } catch { continue; }
    if ((owner && !pidAlive(owner)) || (!owner && age > 5_000)) {
      rmSync(lockPath, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the network lock ${lockPath} is held by pid ${owner}; if no berth command is running, remove it`);
    await new Promise((r) => setTimeout(r, Math.min(2 + attempt, 20)));
  }
}

/**
 * Runs `fn` holding the lock directory `lockPath` (mkdir-based, so it works across processes
 * and berth roots; a lock whose owner died is broken). Callers in this process queue in order.
 */
export function withFileLock<T>(lockPath: string, fn: () => Promise<T> | T): Promise<T> {
  const asked = performance.now();
  const run = (chains.get(lockPath) ?? Promise.resolve()).then(async () => {
    const queued = performance.now();
    await acquire(lockPath);
    const held = performance.now();
    try {
      return await fn();
    } finally {
      rmSync(lockPath, { recursive: true, force: true });
      if (process.env.BERTH_NET_TRACE === '1') process.stderr.write(`[lock] ${path.basename(lockPath)} queued ${(queued - asked).toFixed(1)} acquire ${(held - queued).toFixed(1)} held ${(performance.now() - held).toFixed(1)}\n`);
    }
  });
  const tail = run.catch(() => undefined);
  chains.set(lockPath, tail);
  void tail.then(() => { if (chains.get(lockPath) === tail) chains.delete(lockPath); });
  return run;
}

/**
 * Runs `fn` holding the host-wide network lock. Hold it only to decide and record host-wide
 * resources (subnets, bridges, addresses, host ports): keep process spawns out of it.
 */
export function withNetworkLock<T>(fn: () => Promise<T> | T): Promise<T> {
  return withFileLock(hostLockPath, fn);
}

/**
 * Host ports berth has handed out, across every berth root on this host:
 * `<dir of the lock>/berth-network-ports.json`. Read and written only under the network lock.
 * An entry holds while its container's network state exists in its root, or while the process
 * releasing it (`releasing`) is alive; so a crash never holds a port for good.
 */
export const hostPortsPath = process.env.BERTH_NETWORK_PORTS ?? path.join(path.dirname(hostLockPath), 'berth-network-ports.json');

/** One host port berth handed out. */
export interface PortClaim {
  protocol: string;
  hostPort: number;
  /** '' for every address. */
  hostIp: string;
  /** "project/container", for error messages. */
  owner: string;
  root: string;
  containerId: string;
  /** Pid of the process removing this claim once the port's rules are gone. */
  releasing?: number;
}

/** Live port claims, or undefined when no berth on this host has written the registry yet. Call under the lock. */
export function readPortClaims(): PortClaim[] | undefined {
  const claims = readJson<PortClaim[]>(hostPortsPath);
  if (!Array.isArray(claims)) return existsSync(hostPortsPath) ? [] : undefined;
  return claims.filter((c) => existsSync(containerFile(c.root, c.containerId)) || (c.releasing !== undefined && pidAlive(c.releasing)));
}

/** Rewrites the port claims of one container (none: it has no ports any more). Call under the lock. */
export function setPortClaims(root: string, containerId: string, claims: PortClaim[]): void {
  const others = (readPortClaims() ?? []).filter((c) => !(c.root === root && c.containerId === containerId));
  writeJsonAtomic(hostPortsPath, [...others, ...claims]);
}

/** Marks one container's claims as being released by this process. Call under the lock. */
export function releasePortClaims(root: string, containerId: string): boolean {
  const claims = readPortClaims() ?? [];
  let found = false;
  for (const c of claims) {
    if (c.root === root && c.containerId === containerId) { c.releasing = process.pid; found = true; }
  }
  if (found) writeJsonAtomic(hostPortsPath, claims);
  return found;
}
