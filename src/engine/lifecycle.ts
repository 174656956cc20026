/**
 * One container's lifecycle: create (image, rootfs, network, spec, bundle, record), start, stop,
 * kill, pause, remove. Each step that makes something on the host is undone when a later step
 * fails, and a create killed half-way leaves a pending.json that the next command undoes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { BerthError, ImageError, RuntimeError } from '../errors.js';
import type { StoredImage } from '../images/store/index.js';
import { shouldPull } from '../images/registry/pull-policy.js';
import { prepareContainerRootfs, removeContainerRootfs } from '../images/rootfs/index.js';
import { serviceConfigHash, serviceDocument } from '../model/index.js';
import { RuntimeDriver, toOciSpec, hostSpecOptions, resolveSpecUser, isNotFoundError, type OciConfig } from '../runtime/index.js';
import type { OciState } from '../runtime/oci-types.js';
import { berthVersion } from '../version.js';
import type { Engine } from './engine.js';
import { runtimeState } from './observe.js';
import {
  clearPending, containerDir, listContainerDirs, listProjects, listRecords, readPending, readRecord, removeContainerDir, updateRunInfo, writePending, writeRecord, writeJsonAtomic,
} from './records.js';
import { anonymousVolumesOf, lifecycleHooks, type RunOverrides } from './container-spec.js';
import { captureProcessExec } from './exec.js';
import { Labels, type ContainerHook, type ContainerRecord, type Project, type Service } from './types.js';
import { processStartTime } from './lock.js';
import { containerName } from './plan.js';

/** Options of createContainer(). */
export interface CreateOptions {
  overrides?: RunOverrides;
  oneoff?: boolean;
  /** Container name (default `<project>-<service>-<n>`, `container_name`, or `<project>-<service>-run-<hex>`). */
  name?: string;
  /** `up --pull`: always, missing, never, build, policy (default: the service's pull_policy, else missing). */
  pull?: string;
  /** The container this one replaces (recreate): its anonymous volumes are reused. */
  previous?: ContainerRecord;
  /** The service's image, already resolved (and pulled) by the caller. */
  image?: StoredImage;
}

/** The image reference a service runs: its `image`, or `<project>-<service>` for build-only services. */
export function serviceImageRef(project: Project, service: Service): string {
  return service.image ?? `${project.name}-${service.name}`;
}


/** Finds the service's image in the store, pulling it when its pull policy (or `up --pull`) says so. */
export async function resolveServiceImage(engine: Engine, project: Project, service: Service, pull?: string): Promise<StoredImage> {
  const ref = serviceImageRef(project, service);
  const policy = pull && pull !== 'policy' ? pull : (service.pull_policy as string | undefined) ?? (service.build ? 'build' : 'missing');
  if (service.image && (await shouldPull(engine.store, ref, policy === 'build' ? 'never' : policy))) {
    engine.emit(project.name, { type: 'image', action: 'pull', service: service.name, image: ref, time: Date.now() });
    // The registry client loads only when something is pulled.
    const { pullImage } = await import('../images/registry/index.js');
    const pulled = await pullImage(engine.store, ref, { platform: service.platform as string | undefined, env: engine.env });
    engine.emit(project.name, { type: 'image', action: 'pulled', service: service.name, image: ref, time: Date.now() });
    return pulled;
  }
  const image = await engine.store.resolve(ref);
  if (image) return image;
  throw new ImageError(`image "${ref}" of service "${service.name}" is not in the image store`, ref, {
    hint: service.build ? `build it first with "berth build ${service.name}"` : policy === 'never' ? `pull it with "berth pull ${service.name}" (pull_policy is "never")` : `pull it with "berth pull ${service.name}"`,
  });
}

/** Labels of a container: the service's own, then berth's. */
export function containerLabels(project: Project, service: Service, number: number, oneoff: boolean, image: StoredImage): Record<string, string> {
  const dependsOn = Object.entries(service.depends_on ?? {}).map(([name, dep]) => `${name}:${dep.condition}:${dep.restart ?? false}`).join(',');
  return {
    ...(service.labels ?? {}),
    [Labels.project]: project.name,
    [Labels.service]: service.name,
    [Labels.number]: String(number),
    [Labels.oneoff]: oneoff ? 'True' : 'False',
    [Labels.configHash]: serviceConfigHash(service),
    [Labels.image]: image.id,
    [Labels.workingDir]: project.workingDir,
    [Labels.configFiles]: project.configFiles.join(','),
    [Labels.dependsOn]: dependsOn,
    [Labels.version]: berthVersion,
  };
}

/** Creates one container (not started) and returns its record. */
export async function createContainer(engine: Engine, project: Project, service: Service, number: number, options: CreateOptions = {}): Promise<ContainerRecord> {
  const oneoff = options.oneoff ?? false;
  const name = options.name ?? (oneoff ? `${project.name}-${service.name}-run-${randomBytes(6).toString('hex')}` : containerName(project, service, number));
  const env = engine.env;
  const dir = containerDir(project.name, name, env);
  if (readRecord(project.name, name, env) || readPending(project.name, name, env)) {
    throw new BerthError(`container name "${name}" is already in use in project "${project.name}"`, { hint: `remove it first with "berth rm -f ${service.name}"` });
  }
  engine.emit(project.name, { type: 'container', action: 'creating', service: service.name, name, time: Date.now() });
  const image = options.image ?? (await resolveServiceImage(engine, project, service, options.pull));
  const driver = engine.driverForNew(project.name);
  mkdirSync(dir, { recursive: true });
  writePending(project.name, { id: name, name, service: service.name, pid: process.pid, runtime: driver.binary }, env);
  const undo: Array<() => Promise<unknown> | unknown> = [];
  try {
    // The rootfs mount and the network setup are independent: do both at once.
    const [mounted, attached] = await Promise.allSettled([
      prepareContainerRootfs(engine.store, image, name),
      engine.network.attach({
        project, service, containerId: name, containerName: name,
        hostname: (service.hostname as string | undefined) ?? name.slice(0, 12),
        domainname: service.domainname as string | undefined,
        stateDir: dir,
        resolveShared: async (target) => resolveShared(engine, project, target),
      }),
    ]);
    if (mounted.status === 'fulfilled') undo.push(() => removeContainerRootfs(engine.store, name));
    if (attached.status === 'fulfilled') undo.push(() => engine.network.detach(name, attached.value));
    if (mounted.status === 'rejected') throw mounted.reason;
    if (attached.status === 'rejected') throw attached.reason;
    const rootfs = mounted.value;
    const network = attached.value;
    writePending(project.name, { id: name, name, service: service.name, pid: process.pid, network, runtime: driver.binary }, env);
    const labels = { ...containerLabels(project, service, number, oneoff, image), ...(options.overrides?.labels ?? {}) };
    const logPath = path.join(dir, `${name}-json.log`);
    const hooks = lifecycleHooks(service);
    const joinNamespaces = await sharedNamespaces(engine, project, service);
    const built = await engine.buildSpec({
      project, service, image, containerId: name, name, number, oneoff, rootfs: rootfs.rootfs, stateDir: dir, logPath, labels, network,
      volumes: engine.volumes, overrides: options.overrides,
      inheritAnonymousVolumes: options.previous ? anonymousVolumesOf(engine.volumes, options.previous.anonymousVolumes ?? []) : undefined,
      volumesFrom: await volumesFromMounts(engine, project, service),
    });
    for (const volume of built.anonymousVolumes) undo.push(() => engine.volumes.remove(volume));
    const spec = typeof built.spec.user === 'string' && !/^\d+(:\d+)?$/.test(built.spec.user) ? await resolveSpecUser(built.spec) : built.spec;
    const bundle = path.join(dir, 'bundle');
    const oci = toOciSpec(spec, hostSpecOptions(spec));
    if (joinNamespaces.length) await joinNamespacePaths(engine, project.name, oci, joinNamespaces);
    RuntimeDriver.writeBundle(bundle, oci);
    const record: ContainerRecord = {
      id: name, name, project: project.name, service: service.name, number, oneoff, labels,
      configHash: labels[Labels.configHash] ?? serviceConfigHash(service),
      serviceConfig: serviceDocument(service, { format: 'json' }),
      image: serviceImageRef(project, service), imageDigest: image.manifestDigest, imageId: image.id,
      created: new Date().toISOString(), bundle, logPath, rootfs: rootfs.rootfs,
      args: built.args, env: built.env, workingDir: built.workingDir, user: built.user, tty: built.tty, stdinOpen: built.stdinOpen,
      stopSignal: built.stopSignal, stopGraceMs: built.stopGraceMs, restart: built.restart, healthcheck: built.healthcheck,
      network,
      dependsOn: Object.fromEntries(Object.entries(service.depends_on ?? {}).map(([dep, d]) => [dep, { condition: d.condition, restart: d.restart ?? false, required: d.required }])),
      volumes: built.volumes, anonymousVolumes: built.anonymousVolumes,
      runtime: driver.binary,
      ...(hooks.postStart.length || hooks.preStop.length
        ? { hooks: { ...(hooks.postStart.length ? { postStart: hooks.postStart } : {}), ...(hooks.preStop.length ? { preStop: hooks.preStop } : {}) } }
        : {}),
      ...(joinNamespaces.length ? { joinNamespaces } : {}),
    };
    engine.driverFor(record);
    writeJsonAtomic(path.join(dir, 'run.json'), { restartCount: 0 });
    writeRecord(record, env);
    clearPending(project.name, name, env);
    engine.emit(project.name, { type: 'container', action: 'created', service: service.name, name, time: Date.now() });
    return record;
  } catch (err) {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
    removeContainerDir(project.name, name, env);
    throw err;
  }
}

async function resolveShared(engine: Engine, project: Project, target: { service?: string; container?: string }): Promise<{ id: string; netnsPath: string }> {
  const records = (await engine.observe(project.name, { oneoff: false })).filter((c) => (target.service ? c.record.service === target.service : c.record.name === target.container));
  const found = records.find((c) => c.status === 'running') ?? records[0];
  if (!found) throw new BerthError(`network_mode refers to ${target.service ? `service "${target.service}"` : `container "${target.container}"`}, which has no container`, { hint: 'start that service first (it is a dependency)' });
  const netnsPath = found.record.network.netnsPath ?? (found.pid ? `/proc/${found.pid}/ns/net` : undefined);
  if (!netnsPath) throw new BerthError(`container "${found.record.name}" has no network namespace to share`, { hint: `start it first with "berth start ${found.record.service}"` });
  return { id: found.record.id, netnsPath };
}

/** The container of a project named by `service:x` / `x` (a service) or `container:x` (a container name), a running one first. */
async function findContainer(engine: Engine, project: Project, target: { service?: string; container?: string }): Promise<ContainerRecord | undefined> {
  const records = listRecords(project.name, engine.env).filter((r) => (target.service ? r.service === target.service && !r.oneoff : r.name === target.container));
  if (records.length === 0 && target.container) {
    for (const other of listProjects(engine.env)) {
      const found = readRecord(other, target.container, engine.env);
      if (found) return found;
    }
  }
  for (const record of records) if ((await runningPid(engine, record)) !== undefined) return record;
  return records[0];
}

/** Host pid of a running (or paused) container under its own runtime; undefined when it does not run. */
async function runningPid(engine: Engine, record: ContainerRecord): Promise<number | undefined> {
  const state = await runtimeState(engine.driverFor(record), record.id).catch(() => undefined);
  return state && (state.status === 'running' || state.status === 'paused') && state.pid > 0 ? state.pid : undefined;
}

/** `ipc`/`pid` set to `service:x` or `container:x`: the namespaces to join, by container name. */
async function sharedNamespaces(engine: Engine, project: Project, service: Service): Promise<Array<{ type: 'ipc' | 'pid'; container: string }>> {
  const joins: Array<{ type: 'ipc' | 'pid'; container: string }> = [];
  for (const type of ['ipc', 'pid'] as const) {
    const mode = service[type];
    if (typeof mode !== 'string' || mode === '' || mode === 'host' || mode === 'private' || mode === 'shareable') continue;
    const m = /^(service|container):(.+)$/.exec(mode);
    if (!m) {
      throw new BerthError(`service "${service.name}": ${type} "${mode}" is not supported`, { hint: `use "host", "private", "service:<name>" or "container:<name>"` });
    }
    const target = m[1] === 'service' ? { service: m[2] } : { container: m[2] };
    const found = await findContainer(engine, project, target);
    if (!found) {
      throw new BerthError(`service "${service.name}": ${type} "${mode}" refers to ${m[1]} "${m[2]}", which has no container`, { hint: `create it first ("berth up ${m[1] === 'service' ? m[2] : ''}"); it is a dependency` });
    }
    joins.push({ type, container: found.name });
  }
  return joins;
}

/** Points the OCI config's ipc/pid namespaces at the running containers they join (/proc/<pid>/ns/<type>). */
async function joinNamespacePaths(engine: Engine, projectName: string, oci: OciConfig, joins: ReadonlyArray<{ type: 'ipc' | 'pid'; container: string }>): Promise<void> {
  for (const join of joins) {
    const target = readRecord(projectName, join.container, engine.env) ?? listProjects(engine.env).map((p) => readRecord(p, join.container, engine.env)).find(Boolean);
    const pid = target ? await runningPid(engine, target) : undefined;
    if (!pid) {
      throw new BerthError(`cannot join the ${join.type} namespace of container "${join.container}": it is not running`, { hint: `start it first with "berth start ${target?.service ?? join.container}"` });
    }
    const namespaces = oci.linux.namespaces.filter((n) => n.type !== join.type);
    namespaces.push({ type: join.type, path: `/proc/${pid}/ns/${join.type}` });
    oci.linux.namespaces = namespaces;
  }
}

/** Rewrites the bundle's joined namespace paths before a (re)start: the containers joined may have restarted since. */
async function refreshJoinedNamespaces(engine: Engine, record: ContainerRecord): Promise<void> {
  if (!record.joinNamespaces?.length) return;
  const file = path.join(record.bundle, 'config.json');
  const oci = JSON.parse(readFileSync(file, 'utf8')) as OciConfig;
  await joinNamespacePaths(engine, record.project, oci, record.joinNamespaces);
  writeJsonAtomic(file, oci);
}

/**
 * `volumes_from` (`service[:ro|rw]`, `container:name[:ro|rw]`): the volumes and bind mounts of
 * that container (from its bundle), read-only with `:ro`, else each with its own mode. The
 * network files, configs and secrets of that container are its own and are not shared.
 */
async function volumesFromMounts(engine: Engine, project: Project, service: Service): Promise<Array<{ source: string; target: string; readOnly: boolean; volume?: string }>> {
  const entries = Array.isArray(service.volumes_from) ? service.volumes_from.map(String) : [];
  const mounts: Array<{ source: string; target: string; readOnly: boolean; volume?: string }> = [];
  const volumesRoot = path.dirname(path.dirname(engine.volumes.path('x')));
  for (const entry of entries) {
    const parts = entry.split(':');
    const isContainer = parts[0] === 'container';
    const name = isContainer || parts[0] === 'service' ? parts[1] : parts[0];
    const mode = (isContainer || parts[0] === 'service' ? parts[2] : parts[1]) ?? 'rw';
    if (!name || (mode !== 'ro' && mode !== 'rw')) {
      throw new BerthError(`service "${service.name}": volumes_from entry "${entry}" is not valid`, { hint: 'write "service", "service:ro", "container:name" or "container:name:ro"' });
    }
    const found = await findContainer(engine, project, isContainer ? { container: name } : { service: name });
    if (!found) {
      throw new BerthError(`service "${service.name}": volumes_from "${entry}" refers to ${isContainer ? 'container' : 'service'} "${name}", which has no container`, { hint: isContainer ? `create container "${name}" first` : `create it first with "berth up ${name}" (it is a dependency)` });
    }
    const oci = JSON.parse(readFileSync(path.join(found.bundle, 'config.json'), 'utf8')) as OciConfig;
    const ownDir = containerDir(found.project, found.name, engine.env);
    for (const mount of oci.mounts ?? []) {
      if (mount.type !== 'bind' || !mount.source) continue;
      if (['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'].includes(mount.destination)) continue;
      if (mount.source.startsWith(`${ownDir}/`) || /^\/(proc|sys|dev)(\/|$)/.test(mount.source)) continue;
      const readOnly = mode === 'ro' || (mount.options ?? []).includes('ro');
      const relative = path.relative(volumesRoot, mount.source);
      const volume = !relative.startsWith('..') && relative.split(path.sep)[1] === '_data' ? relative.split(path.sep)[0] : undefined;
      mounts.push({ source: mount.source, target: mount.destination, readOnly, ...(volume ? { volume } : {}) });
    }
  }
  return mounts;
}

/** Mounts the rootfs again when it is gone (after a reboot); cheap when it is there. */
async function ensureRootfs(engine: Engine, record: ContainerRecord): Promise<void> {
  let entries: string[] = [];
  try {
    entries = readdirSync(record.rootfs);
  } catch {
    // missing: prepare below
  }
  if (entries.length > 0) return;
  const image = (record.imageId && (await engine.store.resolve(record.imageId))) || (await engine.store.resolve(record.image));
  if (!image) throw new ImageError(`image "${record.image}" of container "${record.name}" is gone from the image store`, record.image, { hint: `recreate the container: berth up --force-recreate ${record.service}` });
  await prepareContainerRootfs(engine.store, image, record.id);
}

/** Options of startContainer(). */
export interface StartOptions {
  /** The container was just created by this process and never started: skip the state check, create and start in one runtime call. */
  fresh?: boolean;
  /**
   * A restart by the supervisor's restart policy: restartCount is kept (the supervisor counts it)
   * and post_start hooks do not run. Any other start resets restartCount to 0 and runs them.
   */
  byPolicy?: boolean;
  /** Awaited before the container's process runs (unless it has the host's or no network): the project's DNS being served. */
  beforeRun?: () => Promise<void>;
}

/** True when the container's name lookups go to the project's DNS server (its network is not the host's, and it has one). */
export function usesProjectDns(record: ContainerRecord): boolean {
  return record.network.mode !== 'host' && record.network.mode !== 'none';
}

/**
 * Starts a container: never started, or stopped (the stopped runtime container is deleted and
 * created again from the same bundle and rootfs). A running container is left alone.
 */
export async function startContainer(engine: Engine, record: ContainerRecord, options: StartOptions = {}): Promise<void> {
  const env = engine.env;
  const driver = engine.driverFor(record);
  let state = options.fresh ? undefined : await runtimeState(driver, record.id);
  if (state?.status === 'running') return;
  if (state?.status === 'paused') {
    await driver.resume(record.id);
    return;
  }
  if (state && state.status !== 'created') {
    if (state.status === 'stopped') {
      updateRunInfo(record.project, record.name, (info) => ({ ...info, exitCode: state!.exitCode ?? info.exitCode, finishedAt: state!.finishedAt ?? info.finishedAt ?? new Date().toISOString() }), env);
    }
    await driver.delete(record.id, { force: true, ignoreMissing: true });
    state = undefined;
  }
  engine.emit(record.project, { type: 'container', action: 'starting', service: record.service, name: record.name, time: Date.now() });
  if (options.beforeRun && usesProjectDns(record)) await options.beforeRun();
  try {
    if (state) await driver.start(record.id);
    else {
      if (!options.fresh) await ensureRootfs(engine, record);
      if (!options.fresh) await refreshJoinedNamespaces(engine, record);
      // create + start in one runtime process.
      await driver.runDetached(record.id, record.bundle);
    }
  } catch (err) {
    // A container whose process cannot start (bad command) stays created; keep that visible as exited 127/126.
    updateRunInfo(record.project, record.name, (info) => ({ ...info, startedAt: info.startedAt ?? new Date().toISOString(), finishedAt: new Date().toISOString(), exitCode: info.exitCode ?? 127 }), env);
    await driver.delete(record.id, { force: true, ignoreMissing: true }).catch(() => undefined);
    throw err;
  }
  updateRunInfo(record.project, record.name, (info) => ({
    restartCount: options.byPolicy ? info.restartCount : 0, startedAt: new Date().toISOString(), stoppedByUser: false,
    ...(record.healthcheck ? { health: { status: 'starting' as const, failingStreak: 0, log: [] } } : {}),
  }), env);
  engine.emit(record.project, { type: 'container', action: 'started', service: record.service, name: record.name, time: Date.now() });
  if (!options.byPolicy && record.hooks?.postStart?.length) await runPostStart(engine, record, record.hooks.postStart);
}

/** How long a post_start hook may run. */
const postStartTimeoutMs = 60_000;

/** Runs one hook as an exec in the container; resolves to its failure text, or undefined when it exited 0. */
async function runHook(engine: Engine, record: ContainerRecord, hook: ContainerHook, timeoutMs: number): Promise<string | undefined> {
  try {
    const result = await captureProcessExec(engine.driverFor(record), record, {
      command: hook.command, env: hook.env, user: hook.user, workingDir: hook.workingDir, privileged: hook.privileged,
    }, timeoutMs);
    if (result.exitCode === 0) return undefined;
    const output = result.output.trim().split('\n').slice(-3).join(' / ').slice(0, 300);
    return `${JSON.stringify(hook.command)} ${result.exitCode === -1 ? 'timed out' : `exited with code ${result.exitCode}`}${output ? `: ${output}` : ''}`;
  } catch (err) {
    return `${JSON.stringify(hook.command)} could not run: ${(err as Error).message}`;
  }
}

/** post_start: run in order right after the start; the first failure stops the container and fails the start. */
async function runPostStart(engine: Engine, record: ContainerRecord, hooks: readonly ContainerHook[]): Promise<void> {
  for (const [index, hook] of hooks.entries()) {
    const failure = await runHook(engine, record, hook, postStartTimeoutMs);
    if (failure === undefined) continue;
    await stopContainer(engine, record, { skipHooks: true }).catch(() => undefined);
    throw new BerthError(`post_start hook of container "${record.name}" failed: ${failure}`, {
      hint: `the container was stopped; fix services.${record.service}.post_start[${index}] (it runs in the container right after it starts), then "berth up -d ${record.service}"`,
    });
  }
}

/** Options of stopContainer(). */
export interface StopOptions {
  /** Grace period before SIGKILL (default the record's stop_grace_period, 10 s). */
  timeoutMs?: number;
  /** Signal to send first (default the record's stop_signal, SIGTERM). */
  signal?: string;
  /** Do not run the pre_stop hooks (a failed post_start stops the container this way). */
  skipHooks?: boolean;
}

/** Stops a container: its stop signal, then SIGKILL after the grace period. Marks it stopped by the user. */
export async function stopContainer(engine: Engine, record: ContainerRecord, options: StopOptions = {}): Promise<void> {
  const env = engine.env;
  updateRunInfo(record.project, record.name, (info) => ({ ...info, stoppedByUser: true, restartingAt: undefined }), env);
  const driver = engine.driverFor(record);
  const state = await runtimeState(driver, record.id);
  if (!state || state.status === 'stopped') return;
  if (state.status === 'created' || state.status === 'creating') {
    // Never started: nothing to stop, but a created runtime container holds namespaces; drop it.
    await driver.delete(record.id, { force: true, ignoreMissing: true });
    return;
  }
  engine.emit(record.project, { type: 'container', action: 'stopping', service: record.service, name: record.name, time: Date.now() });
  const signal = options.signal ?? record.stopSignal ?? 'SIGTERM';
  const timeoutMs = options.timeoutMs ?? record.stopGraceMs ?? 10_000;
  if (!options.skipHooks && state.status === 'running' && record.hooks?.preStop?.length) {
    // pre_stop: in order, each within the grace period (at least 1 s); a failure is reported and the stop goes on.
    for (const [index, hook] of record.hooks.preStop.entries()) {
      const failure = await runHook(engine, record, hook, Math.max(timeoutMs, 1000));
      if (failure !== undefined) {
        engine.emit(record.project, { type: 'container', action: 'stopping', service: record.service, name: record.name, time: Date.now(), detail: `(pre_stop[${index}] failed: ${failure})` });
      }
    }
  }
  await signalIgnoringGone(driver, record.id, signal);
  if (state.status === 'paused') await driver.resume(record.id).catch(() => undefined);
  let final;
  try {
    final = await waitStopped(driver, record.id, timeoutMs);
  } catch (err) {
    if (isNotFoundError(err)) final = undefined;
    else {
      await driver.kill(record.id, 'KILL', { all: true }).catch(() => driver.kill(record.id, 'KILL').catch(() => undefined));
      final = await waitStopped(driver, record.id, 10_000).catch(() => undefined);
    }
  }
  updateRunInfo(record.project, record.name, (info) => ({ ...info, exitCode: final?.exitCode ?? info.exitCode ?? 137, finishedAt: final?.finishedAt ?? new Date().toISOString() }), env);
  engine.emit(record.project, { type: 'container', action: 'stopped', service: record.service, name: record.name, time: Date.now(), exitCode: final?.exitCode });
}

async function signalIgnoringGone(driver: RuntimeDriver, containerId: string, signal: string): Promise<void> {
  try {
    await signalInit(driver, containerId, signal);
  } catch (err) {
    const state = await runtimeState(driver, containerId);
    if (state && state.status !== 'stopped') throw err;
  }
}

/** A signal name or number as process.kill takes it, or undefined when it has no Node name (RTMIN+n). */
function nodeSignal(signal: string): NodeJS.Signals | number | undefined {
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = (signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`) as NodeJS.Signals;
  return name in osConstants.signals ? name : undefined;
}

/**
 * Signals a container's init process. Under berth-runtime this is kill(2) on the pid in its
 * state.json, after checking the pid still is that process (start time): exactly what
 * `berth-runtime kill` does, without spawning it. Other runtimes are asked.
 */
export async function signalInit(driver: RuntimeDriver, containerId: string, signal: string): Promise<void> {
  const sig = nodeSignal(signal);
  if (driver.kind === 'berth' && sig !== undefined) {
    let state: { pid?: number; startTime?: number | string } | undefined;
    try {
      state = JSON.parse(readFileSync(path.join(driver.root, containerId, 'state.json'), 'utf8')) as typeof state;
    } catch {
      state = undefined;
    }
    if (state?.pid && state.pid > 0 && processStartTime(state.pid) === String(state.startTime)) {
      try {
        process.kill(state.pid, sig);
        return;
      } catch {
        // Gone meanwhile: let the runtime say what it knows.
      }
    }
  }
  await driver.kill(containerId, signal);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the container stopped (or the runtime forgot it: undefined); cheap polling under berth-runtime. */
async function waitStopped(driver: RuntimeDriver, containerId: string, timeoutMs: number): Promise<OciState | undefined> {
  if (driver.kind !== 'berth') return driver.waitStopped(containerId, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const state = await runtimeState(driver, containerId);
    if (!state || state.status === 'stopped') return state;
    if (Date.now() > deadline) throw new RuntimeError(`container "${containerId}" did not stop within ${timeoutMs} ms`, { containerId }, { hint: 'send SIGKILL with kill(id, "KILL")' });
    await sleep(Math.min(10 * (attempt + 1), 100));
  }
}

/** Sends a signal to a running container (`kill -s`). Marks it stopped by the user so restart policies leave it. */
export async function killContainer(engine: Engine, record: ContainerRecord, signal = 'SIGKILL'): Promise<void> {
  const state = await runtimeState(engine.driverFor(record), record.id);
  if (!state || (state.status !== 'running' && state.status !== 'paused')) {
    throw new BerthError(`container "${record.name}" is not running`, { hint: `start it with "berth start ${record.service}"` });
  }
  updateRunInfo(record.project, record.name, (info) => ({ ...info, stoppedByUser: true }), engine.env);
  await engine.driverFor(record).kill(record.id, signal);
  engine.emit(record.project, { type: 'container', action: 'killed', service: record.service, name: record.name, time: Date.now(), detail: signal });
}

/** Freezes a running container. */
export async function pauseContainer(engine: Engine, record: ContainerRecord): Promise<void> {
  const state = await runtimeState(engine.driverFor(record), record.id);
  if (state?.status === 'paused') return;
  if (state?.status !== 'running') throw new BerthError(`container "${record.name}" is not running`, { hint: `start it with "berth start ${record.service}"` });
  await engine.driverFor(record).pause(record.id);
  engine.emit(record.project, { type: 'container', action: 'paused', service: record.service, name: record.name, time: Date.now() });
}

/** Thaws a paused container. */
export async function unpauseContainer(engine: Engine, record: ContainerRecord): Promise<void> {
  const state = await runtimeState(engine.driverFor(record), record.id);
  if (state?.status !== 'paused') throw new BerthError(`container "${record.name}" is not paused`);
  await engine.driverFor(record).resume(record.id);
  engine.emit(record.project, { type: 'container', action: 'unpaused', service: record.service, name: record.name, time: Date.now() });
}

/** Options of removeContainer(). */
export interface RemoveOptions {
  /** Also remove the container's anonymous volumes. */
  volumes?: boolean;
}

/** Removes a container completely: runtime container (killed if running), network, rootfs, state directory. */
export async function removeContainer(engine: Engine, record: ContainerRecord, options: RemoveOptions = {}): Promise<void> {
  engine.emit(record.project, { type: 'container', action: 'removing', service: record.service, name: record.name, time: Date.now() });
  const driver = engine.driverFor(record);
  // Under berth-runtime a container without a state directory is already gone from the runtime: no process to spawn.
  if (driver.kind !== 'berth' || existsSync(path.join(driver.root, record.id))) await driver.delete(record.id, { force: true, ignoreMissing: true });
  await engine.network.detach(record.id, record.network);
  await removeContainerRootfs(engine.store, record.id);
  if (options.volumes) for (const volume of record.anonymousVolumes ?? []) await Promise.resolve(engine.volumes.remove(volume)).catch(() => undefined);
  removeContainerDir(record.project, record.name, engine.env);
  engine.emit(record.project, { type: 'container', action: 'removed', service: record.service, name: record.name, time: Date.now() });
}

/**
 * Undoes creates that were killed half-way (a container directory with pending.json and no
 * record) whose creator is gone. Call with the project lock held.
 */
export async function cleanupPending(engine: Engine, projectName: string): Promise<string[]> {
  const cleaned: string[] = [];
  for (const name of listContainerDirs(projectName, engine.env)) {
    if (readRecord(projectName, name, engine.env)) continue;
    const pending = readPending(projectName, name, engine.env);
    if (pending && pending.pid !== process.pid && processStartTime(pending.pid) !== undefined && existsSync(`/proc/${pending.pid}/cmdline`)) {
      // Its creator still runs (a `berth run` outside the lock): leave it.
      continue;
    }
    if (pending?.pid === process.pid) continue;
    await engine.driverForBinary(pending?.runtime).delete(name, { force: true, ignoreMissing: true }).catch(() => undefined);
    if (pending?.network) await engine.network.detach(name, pending.network).catch(() => undefined);
    await removeContainerRootfs(engine.store, name).catch(() => undefined);
    removeContainerDir(projectName, name, engine.env);
    cleaned.push(name);
  }
  return cleaned;
}
