/**
 * The network of RUN steps. By default a RUN step gets its own network namespace on a bridge
 * made for builds (`berth-build`, with NAT for outbound traffic), so it can download packages
 * but cannot reach services listening on the host's loopback. The bridge is made through
 * berth's network layer on the first RUN that needs it; each RUN container is attached and
 * detached; when the last build of the process ends the bridge is removed again.
 * `network: host` and `network: none` stay explicit choices (see builder.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NetworkAttachment, NetworkProvider, Project, Service } from '../engine/types.js';
import { createNetworkProvider, readNetwork, startDnsServer, type DnsServerHandle } from '../network/index.js';
import { runRoot } from '../paths.js';
import { processAlive as pidAlive } from '../processes.js';

/** Project (in network state and nftables) that owns the build network. */
export const buildProjectName = 'berth-build';
/** Name of the build network (its state file and the bridge's alias). */
export const buildNetworkName = 'berth-build';

/** What a RUN container needs from the build network. */
export interface BuildAttachment {
  /** Network namespace the RUN container joins. */
  netnsPath: string;
  /** Hostname the namespace's /etc/hosts names. */
  hostname: string;
  /** /etc/hosts and /etc/resolv.conf for the container (host files to bind-mount). */
  hosts: string;
  resolvConf: string;
  /** Gives the namespace back for the next RUN step of the build; never fails. */
  release(): void;
}

interface Slot extends Omit<BuildAttachment, 'release'> {
  id: string;
  dir: string;
  attachment: NetworkAttachment;
}

interface Shared {
  provider: NetworkProvider;
  users: number;
  /** Stale endpoints of dead builds removed (once per process and root). */
  swept: boolean;
  dns?: Promise<DnsServerHandle | undefined>;
  /** Work on the network (attach, release) in flight; release waits for it. */
  busy: Set<Promise<unknown>>;
}

/** One entry per state root: builds of one process share the network and remove it together. */
const shared = new Map<string, Shared>();

function buildProject(extraHosts: readonly string[]): { project: Project; service: Service } {
  const service = {
    name: 'build',
    networks: { build: {} },
    extra_hosts: [...extraHosts],
  } as unknown as Service;
  const network = { key: 'build', name: buildNetworkName, ipam: {}, labels: { 'run.berth.build': 'true' }, source: { file: '', line: 0 } };
  const project = {
    name: buildProjectName,
    workingDir: '/',
    configFiles: [],
    envFiles: [],
    environment: {},
    services: new Map([['build', service]]),
    disabledServices: new Map(),
    networks: new Map([['build', network]]),
    volumes: new Map(),
    secrets: new Map(),
    configs: new Map(),
    profiles: [],
    activeProfiles: [],
    extensions: {},
    sourceOf: () => undefined,
  } as unknown as Project;
  return { project, service };
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '0.0.0.0';
}

async function nameservers(file: string): Promise<{ servers: string[]; search: string[]; options: string[] }> {
  const result = { servers: [] as string[], search: [] as string[], options: [] as string[] };
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const raw of text.split('\n')) {
    const [word, ...rest] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (word === 'nameserver' && rest[0]) result.servers.push(rest[0].replace(/%.*$/, ''));
    else if (word === 'search' || word === 'domain') result.search = rest;
    else if (word === 'options') result.options.push(...rest);
  }
  return result;
}

/**
 * The resolvers a RUN step on the build network uses: the host's, without loopback addresses
 * (they mean the host's own stub resolver, which the namespace cannot reach). When the host has
 * only a loopback stub (systemd-resolved), its upstream list in /run/systemd/resolve is used.
 * `loopbackOnly` lists the host's loopback resolvers when nothing else is left.
 */
export async function buildResolvers(files = { main: '/etc/resolv.conf', systemd: '/run/systemd/resolve/resolv.conf' }): Promise<{ servers: string[]; search: string[]; options: string[]; loopbackOnly: string[] }> {
  const main = await nameservers(files.main);
  let servers = main.servers.filter((server) => !isLoopback(server));
  if (servers.length === 0 && main.servers.length > 0) servers = (await nameservers(files.systemd)).servers.filter((server) => !isLoopback(server));
  return { servers, search: main.search, options: main.options.filter((option) => !option.startsWith('ndots')), loopbackOnly: servers.length ? [] : main.servers.filter(isLoopback) };
}


let slotCounter = 0;

const noAttachment: NetworkAttachment = { mode: 'bridge', addresses: [], ports: [], files: {} };

/**
 * A lease on the build network of `root`, for one build. Nothing is made until the first
 * `attach`; `release` removes the network when no other build of this process uses it and no
 * container of another process is attached.
 */
export class BuildNetwork {
  private readonly entry: Shared;
  private released = false;

  private readonly slots: Slot[] = [];
  private readonly free: Slot[] = [];

  /**
   * `root`: the state root; `workDir`: where the namespaces' hosts/resolv.conf files live
   * (removed on release); `extraHosts`: compose `extra_hosts` entries of this build.
   */
  constructor(private readonly root: string, private readonly workDir: string, private readonly extraHosts: readonly string[] = [], private readonly env: NodeJS.ProcessEnv = process.env) {
    let entry = shared.get(root);
    if (!entry) {
      entry = { provider: createNetworkProvider({ root, runRoot: runRoot(env) }), users: 0, swept: false, busy: new Set() };
      shared.set(root, entry);
    }
    entry.users++;
    this.entry = entry;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    const tracked = promise.finally(() => this.entry.busy.delete(tracked));
    this.entry.busy.add(tracked);
    return promise;
  }

  /** Detaches RUN containers left by builds whose process died (their pid is in the container id). */
  private async sweep(): Promise<void> {
    if (this.entry.swept) return;
    this.entry.swept = true;
    const state = readNetwork(this.root, buildNetworkName);
    for (const id of Object.keys(state?.endpoints ?? {})) {
      const pid = /^berth-build-(\d+)-/.exec(id)?.[1];
      if (pid && Number(pid) !== process.pid && !pidAlive(Number(pid))) await this.entry.provider.detach(id, noAttachment).catch(() => undefined);
    }
  }

  /**
   * A namespace on the build network for one RUN step: a free one of this build, or a new one.
   * A namespace serves one step at a time (parallel stages get their own), and sequential steps
   * reuse it, so only the first RUN of a build pays for making one.
   */
  acquire(): Promise<BuildAttachment> {
    const slot = this.free.pop();
    const ready = slot ? Promise.resolve(slot) : this.track(this.attach());
    return ready.then((taken) => ({
      netnsPath: taken.netnsPath, hostname: taken.hostname, hosts: taken.hosts, resolvConf: taken.resolvConf,
      release: () => { if (!this.released) this.free.push(taken); },
    }));
  }

  private async attach(): Promise<Slot> {
    const { provider } = this.entry;
    const { project, service } = buildProject(this.extraHosts);
    const id = `berth-build-${process.pid}-${++slotCounter}-${randomBytes(3).toString('hex')}`;
    const hostname = randomBytes(6).toString('hex');
    const dir = await mkdtemp(path.join(this.workDir, `${id}-`));
    let attachment: NetworkAttachment | undefined;
    try {
      for (let attempt = 0; !attachment; attempt++) {
        await provider.ensureNetworks(project, ['build']);
        await this.sweep();
        try {
          attachment = await provider.attach({ project, service, containerId: id, containerName: id, hostname, stateDir: dir });
        } catch (err) {
          // Another berth process removed the network between ensure and attach: make it again.
          if (attempt < 3 && !readNetwork(this.root, buildNetworkName)) continue;
          throw err;
        }
      }
      const resolvers = await buildResolvers();
      let servers = resolvers.servers;
      if (servers.length === 0 && resolvers.loopbackOnly.length > 0) {
        // Only a stub on the host's loopback: berth's DNS server on the bridge forwards to it.
        const handle = await this.dnsServer(resolvers.loopbackOnly);
        const gateway = readNetwork(this.root, buildNetworkName)?.gateway;
        if (handle && gateway) servers = [gateway];
      }
      const lines = ['# written by berth for build steps', ...servers.map((server) => `nameserver ${server}`)];
      if (resolvers.search.length) lines.push(`search ${resolvers.search.join(' ')}`);
      if (resolvers.options.length) lines.push(`options ${resolvers.options.join(' ')}`);
      const resolvConf = path.join(dir, 'build-resolv.conf');
      await writeFile(resolvConf, `${lines.join('\n')}\n`);
      const hosts = attachment.files.hosts;
      if (!attachment.netnsPath || !hosts) throw new Error('the network layer returned no namespace for the build step');
      if (this.released) throw new Error('the build is over');
      const slot: Slot = { id, dir, attachment, netnsPath: attachment.netnsPath, hostname, hosts, resolvConf };
      this.slots.push(slot);
      return slot;
    } catch (err) {
      if (attachment) await provider.detach(id, attachment).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private dnsServer(upstreams: string[]): Promise<DnsServerHandle | undefined> {
    this.entry.dns ??= startDnsServer({ project: buildProjectName, root: this.root, env: this.env, upstreams })
      .then(async (handle) => {
        await handle.refresh();
        return handle;
      })
      .catch(() => undefined);
    return this.entry.dns;
  }

  /** Ends this build's use of the network; the last user removes it (when nothing is attached). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.allSettled([...this.entry.busy]);
    for (const slot of this.slots) {
      await this.entry.provider.detach(slot.id, slot.attachment).catch(() => undefined);
      await rm(slot.dir, { recursive: true, force: true });
    }
    this.slots.length = 0;
    this.free.length = 0;
    this.entry.users--;
    if (this.entry.users > 0) return;
    await Promise.allSettled([...this.entry.busy]);
    if (this.entry.users > 0) return;
    const dns = this.entry.dns;
    this.entry.dns = undefined;
    this.entry.swept = false;
    await (await dns)?.close().catch(() => undefined);
    // Only networks without endpoints go: a build of another process keeps it.
    if (readNetwork(this.root, buildNetworkName)) {
      await this.entry.provider.removeNetworks({ name: buildProjectName, networks: buildProject([]).project.networks });
    }
  }
}
