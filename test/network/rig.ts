/**
 * A test rig for the network layer before/without the engine: a private berth root with the
 * busybox test image, a NetworkProvider on it, and helpers that run real containers through
 * RuntimeDriver in the namespaces the provider made.
 */
import { mkdirSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { NetworkAttachment, NetworkProvider, Project } from '../../src/engine/types.js';
import { ImageStore, prepareContainerRootfs, removeContainerRootfs } from '../../src/images/index.js';
import { createNetworkProvider, cleanupProject, findProjectLeaks } from '../../src/network/index.js';
import { loadProject } from '../../src/project/index.js';
import { RuntimeDriver, hostSpecOptions, toOciSpec } from '../../src/runtime/index.js';
import { makeStackRoot, testImage, type StackRoot } from '../helpers/stack.js';

/** One running test container. */
export interface RigContainer {
  id: string;
  service: string;
  attachment: NetworkAttachment;
  /** Runs a shell command inside it. */
  sh(script: string, timeoutMs?: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** The rig. */
export interface NetRig {
  root: StackRoot;
  provider: NetworkProvider;
  driver: RuntimeDriver;
  load(name: string, yaml: string): Promise<Project>;
  /** Ensures the service's networks, attaches and starts container `n` of `service` running `args`. */
  run(project: Project, service: string, n?: number, args?: string[]): Promise<RigContainer>;
  /** Stops, detaches and removes one container. */
  remove(container: RigContainer): Promise<void>;
  /** Starts a host process inside a container's network namespace (`ip netns exec`). */
  inNetns(container: RigContainer, command: string[]): ChildProcess;
  /** Removes every container, the networks and checks nothing is left; returns leaks found after. */
  down(project: Project): Promise<Awaited<ReturnType<typeof findProjectLeaks>>>;
  close(): Promise<void>;
}

/** Makes a rig (state root under /tmp, image imported). */
export async function makeNetRig(): Promise<NetRig> {
  const root = await makeStackRoot({ prefix: 'berth-net-', changes: ['CMD ["sleep","3600"]'] });
  const provider = createNetworkProvider({ root: root.root });
  const driver = new RuntimeDriver({ root: path.join(root.root, 'runtime') });
  const store = await ImageStore.open(path.join(root.root, 'images'));
  const image = await store.resolve(testImage);
  if (!image) throw new Error('test image missing');
  const containers = new Map<string, RigContainer & { project: string }>();
  const children: ChildProcess[] = [];
  const loaded = new Set<string>();

  const rig: NetRig = {
    root,
    provider,
    driver,
    async load(name, yaml) {
      loaded.add(name);
      const dir = root.project(name, yaml);
      return loadProject({ cwd: dir, projectName: name, env: { PATH: process.env.PATH ?? '' }, readStdin: async () => '' });
    },
    async run(project, serviceName, n = 1, args = ['sleep', '3600']) {
      const service = project.services.get(serviceName);
      if (!service) throw new Error(`no service ${serviceName}`);
      await provider.ensureNetworks(project, Object.keys(service.networks ?? {}));
      const id = service.container_name ?? `${project.name}-${serviceName}-${n}`;
      const stateDir = path.join(root.root, 'containers', id);
      mkdirSync(stateDir, { recursive: true });
      const attachment = await provider.attach({
        project, service, containerId: id, containerName: id, hostname: service.hostname ?? id.slice(0, 12), stateDir,
        resolveShared: async (target) => {
          const other = [...containers.values()].find((c) => c.project === project.name && (c.service === target.service || c.id === target.container));
          if (!other?.attachment.netnsPath) throw new Error(`shared target ${JSON.stringify(target)} not running`);
          return { id: other.id, netnsPath: other.attachment.netnsPath };
        },
      });
      const rootfs = await prepareContainerRootfs(store, image, id);
      const mounts = [
        ...(attachment.files.hosts ? [{ type: 'bind' as const, source: attachment.files.hosts, target: '/etc/hosts' }] : []),
        ...(attachment.files.resolvConf ? [{ type: 'bind' as const, source: attachment.files.resolvConf, target: '/etc/resolv.conf' }] : []),
      ];
      const spec = {
        id, rootfs: rootfs.rootfs, args, env: ['PATH=/bin:/sbin:/usr/bin'], hostname: service.hostname ?? id.slice(0, 12), mounts,
        network: attachment.mode === 'host' ? 'host' as const : { path: attachment.netnsPath! },
      };
      const bundle = path.join(stateDir, 'bundle');
      RuntimeDriver.writeBundle(bundle, toOciSpec(spec, hostSpecOptions({ privileged: false })));
      await driver.runDetached(id, bundle);
      const container = {
        id, service: serviceName, attachment, project: project.name,
        sh: (script: string, timeoutMs = 20_000) => driver.exec(id, ['/bin/sh', '-c', script], { timeoutMs }),
      };
      containers.set(id, container);
      return container;
    },
    async remove(container) {
      await driver.delete(container.id, { force: true }).catch(() => undefined);
      await provider.detach(container.id, container.attachment);
      await removeContainerRootfs(store, container.id).catch(() => undefined);
      containers.delete(container.id);
    },
    inNetns(container, command) {
      const child = spawn('ip', ['netns', 'exec', `berth-${container.id}`, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    async down(project) {
      for (const c of [...containers.values()].filter((x) => x.project === project.name)) await rig.remove(c);
      await provider.removeNetworks(project);
      return findProjectLeaks(project.name, root.root);
    },
    async close() {
      for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
      const projects = new Set([...loaded, ...[...containers.values()].map((c) => c.project)]);
      for (const c of [...containers.values()]) await rig.remove(c).catch(() => undefined);
      for (const p of projects) await cleanupProject(p, root.root).catch(() => undefined);
      root.remove();
    },
  };
  return rig;
}

/** Runs `curl`-free HTTP GET from the host with node (only to addresses the test made or 127/8). */
export async function httpGet(host: string, port: number, timeoutMs = 5000): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/`, { signal: controller.signal });
    return await res.text();
  } finally {
    clearTimeout(timer);
  }
}

/** Addresses from `nslookup NAME` output in a container (the answer part, not the server line). */
export function nslookupAddresses(output: string): string[] {
  const addresses: string[] = [];
  let inAnswer = false;
  for (const line of output.split('\n')) {
    if (line.startsWith('Server:')) inAnswer = false;
    else if (line.startsWith('Name:')) inAnswer = true;
    const m = /^Address(?: \d+)?:\s+([0-9a-f.:]+)\s*$/.exec(line);
    if (inAnswer && m && !addresses.includes(m[1])) addresses.push(m[1]);
  }
  return addresses;
}

/** True when `ip` is present in the kernel (sanity for skip logic). */
export function haveNetTools(): boolean {
  return spawnSync('ip', ['-V']).status === 0 && spawnSync('nft', ['-v']).status === 0;
}
