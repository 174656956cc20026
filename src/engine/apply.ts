/**
 * Applying: `up` and `down`. Networks and volumes first, then services in dependency order with
 * independent services in parallel; a service starts once its dependencies reached their
 * depends_on condition. `down` stops dependents before their dependencies.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ApplyError, BerthError } from '../errors.js';
import { imagesInUse, type StoredImage } from '../images/store/index.js';
import { buildGraph } from '../graph/index.js';
import { runRoot } from '../paths.js';
import { supervisorStatus } from '../supervisor/index.js';
import type { Engine } from './engine.js';
import { resolveServiceImage, serviceImageRef } from './lifecycle.js';
import { planProject, type Plan } from './plan.js';
import { listRecords, readRunInfo, writeProjectRecord, projectDir } from './records.js';
import type { ContainerRecord, ObservedContainer, PlannedAction, Project, Service } from './types.js';

/** Options of `up` (and `create`, which is `up` with noStart). */
export interface UpOptions {
  detach?: boolean;
  /** Wait for services to be running/healthy (or one-shots to have exited 0). */
  wait?: boolean;
  /** Seconds to wait with `wait` (default: no limit). */
  waitTimeout?: number;
  noStart?: boolean;
  /** always, missing, never, build, policy (default). */
  pull?: string;
  /** Stop timeout in seconds for containers being recreated or removed. */
  timeout?: number;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  noDeps?: boolean;
  removeOrphans?: boolean;
  scale?: Record<string, number>;
  renewAnonVolumes?: boolean;
  alwaysRecreateDeps?: boolean;
  /** Plan only: change nothing. */
  dryRun?: boolean;
  /** Services to converge (their dependencies too, unless noDeps); default all. */
  services?: string[];
  /** Build the images of services with `build:` before starting (`up --build`). */
  build?: boolean;
  /** Never build, not even a missing image (`up --no-build`). */
  noBuild?: boolean;
  /** Build output, one call per line (default: stderr as `<service> <line>`). */
  buildLog?: (service: string, line: string) => void;
  /**
   * Interrupts the up (Ctrl-C): no new container is created or started once it is aborted; a
   * create or start under way finishes (or is undone), then up throws UpInterruptedError.
   */
  signal?: AbortSignal;
}

/** `up` stopped early because its signal was aborted; everything it made is whole (created or started). */
export class UpInterruptedError extends BerthError {
  constructor() {
    super('interrupted', { exitCode: 130 });
  }
}

function checkInterrupted(options: Pick<UpOptions, 'signal'>): void {
  if (options.signal?.aborted) throw new UpInterruptedError();
}

/** What `up` did. */
export interface UpResult {
  plan: Plan;
  /** Services that were converged. */
  services: string[];
}

/** Options of `down`. */
export interface DownOptions {
  /** Stop timeout in seconds (default each container's stop_grace_period). */
  timeout?: number;
  /** Remove named volumes of the project and anonymous volumes of its containers. */
  volumes?: boolean;
  /** Remove images: `local` (built ones without an image name) or `all`. */
  rmi?: 'local' | 'all';
  removeOrphans?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the project's supervisor without waiting for it (none is spawned when one answers). Resolves to true when one was spawned. */
function spawnSupervisorEarly(engine: Engine, projectName: string): Promise<boolean> {
  return (async () => {
    if ((await supervisorStatus(projectName, { env: engine.env }).catch(() => undefined))?.running) return false;
    await engine.ensureSupervisor(projectName, { wait: false });
    return true;
  })().catch(() => false);
}

/** Waits (up to 3 s) for an early-spawned supervisor to answer, then pings it so it stays; never throws. */
async function supervisorAnswering(engine: Engine, projectName: string, spawned: Promise<boolean>): Promise<void> {
  if (await spawned) {
    for (let i = 0; i < 60; i++) {
      if ((await supervisorStatus(projectName, { env: engine.env }).catch(() => undefined))?.running) break;
      await sleep(50);
    }
  }
  await engine.ensureSupervisor(projectName).catch(() => undefined);
}

/**
 * What a container's start waits for first: the supervisor serving DNS on the project's networks,
 * so a container that looks up a service name as soon as it starts gets an answer. Asked once
 * (the first start waits; the supervisor boots while the containers are made); never throws:
 * without a supervisor containers still run, only their name lookups fail.
 */
function dnsGate(engine: Engine, projectName: string, spawned: Promise<boolean>): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= (async () => {
      await spawned;
      await engine.supervisorDns(projectName);
    })().catch(() => undefined);
    return ready;
  };
}

/** Options of ensureServiceImages(). */
export interface EnsureImagesOptions {
  /** Build every service with `build:` (`--build`). */
  build?: boolean;
  /** Never build (`--no-build`). */
  noBuild?: boolean;
  /** Build output lines. */
  log?: (service: string, line: string) => void;
}

/**
 * Builds the images `up` (and `run`) need before they resolve images: with `build` every
 * service that has `build:`; otherwise those with `pull_policy: build` and those whose image is
 * not in the store yet. Returns the services built.
 */
export async function ensureServiceImages(engine: Engine, project: Project, services: readonly string[], options: EnsureImagesOptions = {}): Promise<string[]> {
  if (options.noBuild) return [];
  const toBuild: string[] = [];
  for (const name of services) {
    const service = project.services.get(name);
    if (!service || service.build === undefined || service.build === null) continue;
    if (options.build || service.pull_policy === 'build' || !(await engine.store.resolve(serviceImageRef(project, service)))) toBuild.push(name);
  }
  if (toBuild.length === 0) return [];
  // The builder is large: load it only when something is built.
  const { buildServices } = await import('../build/index.js');
  await buildServices(project, toBuild, {
    env: engine.env, store: engine.store, driver: engine.driver, log: options.log,
    events: (event) => engine.emit(project.name, event),
  });
  return toBuild;
}

/** The services to converge: the named ones plus their dependencies (unless noDeps), all when none are named. */
export function selectServices(project: Project, names: readonly string[] | undefined, noDeps: boolean | undefined): string[] {
  if (!names || names.length === 0) return [...project.services.keys()];
  for (const name of names) {
    if (!project.services.has(name)) {
      throw new BerthError(`no such service: "${name}"`, { hint: `services are ${[...project.services.keys()].map((n) => `"${n}"`).join(', ')}` });
    }
  }
  const graph = buildGraph(project);
  const selected = new Set(names);
  if (!noDeps) for (const name of names) for (const dep of graph.dependencies(name)) if (project.services.has(dep)) selected.add(dep);
  return [...selected];
}

function networkKeys(project: Project, services: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const name of services) {
    const service = project.services.get(name)!;
    if (service.network_mode) continue;
    for (const key of Object.keys(service.networks ?? { default: null })) if (project.networks.has(key)) keys.add(key);
  }
  return [...keys].sort();
}

function volumeKeys(project: Project, services: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const name of services) {
    for (const mount of project.services.get(name)!.volumes ?? []) {
      if (mount.type === 'volume' && mount.source && project.volumes.has(mount.source)) keys.add(mount.source);
    }
  }
  return [...keys].sort();
}

/** Converges the project. */
export async function up(engine: Engine, project: Project, options: UpOptions = {}): Promise<UpResult> {
  return converge(engine, project, options).catch((err: unknown) => {
    // After Ctrl-C any failure is its consequence (e.g. a runtime process the terminal's SIGINT reached).
    if (options.signal?.aborted && !(err instanceof UpInterruptedError)) throw new UpInterruptedError();
    throw err;
  });
}

async function converge(engine: Engine, project: Project, options: UpOptions): Promise<UpResult> {
  return engine.withProjectLock(project.name, async () => {
    const graph = buildGraph(project);
    const services = selectServices(project, options.services, options.noDeps);
    const named = options.services?.length ? options.services : undefined;
    if (options.dryRun) {
      const imageDigests = new Map<string, string | undefined>();
      for (const name of services) imageDigests.set(name, (await engine.store.resolve(serviceImageRef(project, project.services.get(name)!)))?.manifestDigest);
      const plan = planProject(project, graph.startOrder, await engine.observe(project.name), { ...options, services, named, imageDigests });
      engine.emit(project.name, { type: 'plan', actions: plan.actions, orphans: plan.orphans, time: Date.now() });
      return { plan, services };
    }
    await engine.cleanupPending(project.name);
    checkInterrupted(options);
    // The supervisor boots (a node process) while the containers are made, instead of after.
    const supervisor = options.noStart ? undefined : spawnSupervisorEarly(engine, project.name);
    await ensureServiceImages(engine, project, services, { build: options.build, noBuild: options.noBuild, log: options.buildLog });
    writeProjectRecord({ name: project.name, workingDir: project.workingDir, configFiles: [...project.configFiles], updated: new Date().toISOString() }, engine.env);
    const sink = (event: Parameters<NonNullable<Engine['events']>>[0]) => engine.emit(project.name, event);
    await engine.network.ensureNetworks(project, networkKeys(project, services), sink);
    await engine.volumes.ensureProjectVolumes(project, volumeKeys(project, services), sink);
    const imageDigests = new Map<string, string | undefined>();
    const images = new Map<string, StoredImage>();
    // Services sharing an image (and a pull policy) resolve it once: one pull, not one per service.
    const byRef = new Map<string, Promise<StoredImage>>();
    await Promise.all(services.map(async (name) => {
      const service = project.services.get(name)!;
      const key = `${serviceImageRef(project, service)}\0${service.pull_policy ?? ''}\0${service.build ? 'build' : ''}`;
      let pending = byRef.get(key);
      if (!pending) byRef.set(key, pending = resolveServiceImage(engine, project, service, options.pull));
      const image = await pending;
      images.set(name, image);
      imageDigests.set(name, image.manifestDigest);
    }));
    checkInterrupted(options);
    const observed = await engine.observe(project.name);
    const plan = planProject(project, graph.startOrder, observed, { ...options, services, named, imageDigests });
    engine.emit(project.name, { type: 'plan', actions: plan.actions, orphans: plan.orphans, time: Date.now() });
    if (options.removeOrphans && plan.orphans.length) {
      const orphans = observed.filter((c) => plan.orphans.includes(c.record.name));
      await Promise.all(orphans.map(async (c) => {
        await engine.stopContainer(c.record, { timeoutMs: timeoutMs(options.timeout) });
        await engine.removeContainer(c.record);
      }));
    }
    // Each container's "healthy" (and a job's "exited") is announced once per up, for the timeline.
    const announced = new Set<string>();
    const beforeRun = supervisor ? dnsGate(engine, project.name, supervisor) : undefined;
    await applyServices(engine, project, services, plan, observed, images, announced, options, beforeRun);
    if (supervisor && plan.actions.some((a) => a.kind !== 'remove')) await supervisorAnswering(engine, project.name, supervisor);
    if (options.wait && !options.noStart) await waitForServices(engine, project, services, options.waitTimeout, announced, options.signal);
    return { plan, services };
  });
}

/** Waits for every promise, then throws the first rejection (Promise.all would return at the first one, with others still running). */
async function settleAll(promises: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function timeoutMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

async function applyServices(
  engine: Engine, project: Project, services: string[], plan: Plan, observed: ObservedContainer[], images: ReadonlyMap<string, StoredImage>, announced: Set<string>, options: UpOptions,
  beforeRun?: () => Promise<void>,
): Promise<void> {
  const selected = new Set(services);
  const tasks = new Map<string, Promise<void>>();
  const run = (name: string): Promise<void> => {
    let task = tasks.get(name);
    if (!task) {
      task = (async () => {
        const service = project.services.get(name)!;
        for (const [dep, dependency] of Object.entries(service.depends_on ?? {})) {
          if (!selected.has(dep)) continue;
          try {
            await run(dep);
            if (!options.noStart) await waitForCondition(engine, project, name, dep, dependency.condition, announced, options.signal);
          } catch (err) {
            if (err instanceof UpInterruptedError) throw err;
            if (dependency.required === false) {
              engine.emit(project.name, { type: 'container', action: 'waiting', service: name, name, time: Date.now(), detail: `optional dependency "${dep}" failed: ${(err as Error).message}` });
              continue;
            }
            // The dependency's own failure is what the user needs to read, so it goes in the message.
            throw new ApplyError(`service "${name}" cannot start: dependency "${dep}" failed: ${(err as Error).message}`, 'depends_on', name, { cause: err });
          }
        }
        checkInterrupted(options);
        await applyService(engine, project, service, plan.actions.filter((a) => a.service === name), observed, images.get(name), options, beforeRun);
      })();
      tasks.set(name, task);
    }
    return task;
  };
  const results = await Promise.allSettled(services.map(run));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Prefer the root cause over "dependency failed" wrappers.
    const roots = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason).filter((e) => !(e instanceof ApplyError && e.step === 'depends_on'));
    // Ctrl-C wins over failures it caused (a runtime process killed by the terminal's SIGINT).
    if (options.signal?.aborted) throw new UpInterruptedError();
    throw roots[0] ?? failed.reason;
  }
}

async function applyService(
  engine: Engine, project: Project, service: Service, actions: PlannedAction[], observed: ObservedContainer[], image: StoredImage | undefined, options: UpOptions,
  beforeRun?: () => Promise<void>,
): Promise<void> {
  const find = (name: string) => observed.find((c) => c.record.name === name);
  const stopMs = timeoutMs(options.timeout);
  await settleAll(actions.filter((a) => a.kind === 'remove').map(async (action) => {
    const container = find(action.name);
    if (!container) return;
    await engine.stopContainer(container.record, { timeoutMs: stopMs });
    await engine.removeContainer(container.record, { volumes: true });
  }));
  // Every replica's create/start finishes (or is undone) before a failure of one is reported: nothing is left half-made.
  await settleAll(actions.filter((a) => a.kind !== 'remove').map(async (action) => {
    const container = find(action.name);
    let record: ContainerRecord | undefined = container?.record;
    if (action.kind === 'noop') return;
    checkInterrupted(options);
    if (action.kind === 'recreate' && container) {
      engine.emit(project.name, { type: 'container', action: 'recreate', service: service.name, name: action.name, time: Date.now(), reasons: action.reasons });
      await engine.stopContainer(container.record, { timeoutMs: stopMs });
      await engine.removeContainer(container.record, { volumes: options.renewAnonVolumes });
      record = await engine.createContainer(project, service, action.number, { pull: 'missing', image, previous: options.renewAnonVolumes ? undefined : container.record });
    } else if (action.kind === 'create') {
      record = await engine.createContainer(project, service, action.number, { pull: 'missing', image });
    }
    checkInterrupted(options);
    if (!options.noStart && record) await engine.startContainer(record, { fresh: action.kind !== 'start', beforeRun });
  }));
}

/** Waits until dependency `dep` of `dependent` reaches `condition` (started, healthy, completed successfully). */
async function waitForCondition(engine: Engine, project: Project, dependent: string, dep: string, condition: string, announced: Set<string>, signal?: AbortSignal): Promise<void> {
  if (condition === 'service_started') return;
  engine.emit(project.name, { type: 'container', action: 'waiting', service: dependent, name: dependent, time: Date.now(), detail: `${dep} ${condition === 'service_healthy' ? 'healthy' : 'completed'}` });
  if (condition === 'service_healthy') await engine.ensureSupervisor(project.name).catch(() => undefined);
  for (let attempt = 0; ; attempt++) {
    checkInterrupted({ signal });
    const containers = (await engine.observe(project.name)).filter((c) => c.record.service === dep);
    if (containers.length === 0) throw new BerthError(`service "${dep}" has no container`);
    if (condition === 'service_healthy') {
      const missing = containers.find((c) => !c.record.healthcheck);
      if (missing) throw new BerthError(`container "${missing.record.name}" has no healthcheck configured`, { hint: `give service "${dep}" a healthcheck, or use condition service_started` });
      const bad = containers.find((c) => c.run.health?.status === 'unhealthy' || (c.status === 'exited' && !c.run.restartingAt));
      if (bad) {
        const last = bad.run.health?.log?.[bad.run.health.log.length - 1];
        const why = bad.status === 'exited'
          ? `its container "${bad.record.name}" exited with code ${bad.exitCode ?? bad.run.exitCode ?? '?'}`
          : `its container "${bad.record.name}" failed its healthcheck${last ? ` (last check exited ${last.exitCode}${last.output.trim() ? `: ${last.output.trim().split('\n').pop()!.slice(0, 200)}` : ''})` : ''}`;
        throw new BerthError(`service "${dep}" is unhealthy: ${why}`, {
          hint: `"${dependent}" waits for "${dep}" to be healthy (depends_on condition service_healthy); see "berth logs ${dep}" and "berth ps ${dep}"`,
        });
      }
      for (const c of containers) {
        if (c.run.health?.status === 'healthy' && !announced.has(c.record.name)) {
          announced.add(c.record.name);
          engine.emit(project.name, { type: 'container', action: 'healthy', service: dep, name: c.record.name, time: Date.now() });
        }
      }
      if (containers.every((c) => c.run.health?.status === 'healthy')) return;
    } else if (condition === 'service_completed_successfully') {
      if (containers.every((c) => c.status === 'exited' || c.status === 'created' && c.run.finishedAt)) {
        const failed = containers.find((c) => (c.exitCode ?? c.run.exitCode) !== 0);
        if (failed) throw new BerthError(`service "${dep}" did not complete successfully: container "${failed.record.name}" exited with code ${failed.exitCode ?? failed.run.exitCode ?? '?'}`, { hint: `see its output with "berth logs ${dep}"` });
        for (const c of containers) {
          if (announced.has(`exited ${c.record.name}`)) continue;
          announced.add(`exited ${c.record.name}`);
          const finished = Date.parse(c.run.finishedAt ?? '');
          engine.emit(project.name, { type: 'container', action: 'exited', service: dep, name: c.record.name, time: Number.isFinite(finished) ? Math.min(finished, Date.now()) : Date.now(), exitCode: 0 });
        }
        return;
      }
    } else return;
    await sleep(Math.min(50 * (attempt + 1), 250));
  }
}

/** `up --wait`: every container running (healthy if it has a healthcheck), or a one-shot that exited 0. */
export async function waitForServices(engine: Engine, project: Project, services: readonly string[], timeoutSeconds?: number, announced = new Set<string>(), signal?: AbortSignal): Promise<void> {
  const deadline = timeoutSeconds ? Date.now() + timeoutSeconds * 1000 : Infinity;
  const wanted = new Set(services);
  for (let attempt = 0; ; attempt++) {
    checkInterrupted({ signal });
    const containers = (await engine.observe(project.name)).filter((c) => wanted.has(c.record.service));
    let pending: ObservedContainer | undefined;
    for (const c of containers) {
      const restarts = c.record.restart.name === 'always' || c.record.restart.name === 'unless-stopped';
      if (c.status === 'running' || c.status === 'paused') {
        if (c.record.healthcheck) {
          if (c.run.health?.status === 'unhealthy') throw new BerthError(`container "${c.record.name}" is unhealthy`, { hint: `see its output with "berth logs ${c.record.service}"` });
          if (c.run.health?.status !== 'healthy') pending ??= c;
          else if (!announced.has(c.record.name)) {
            announced.add(c.record.name);
            engine.emit(project.name, { type: 'container', action: 'healthy', service: c.record.service, name: c.record.name, time: Date.now() });
          }
        }
      } else if (c.status === 'exited' && (c.exitCode ?? c.run.exitCode) === 0 && !restarts) {
        // A one-shot job that finished: success.
      } else if (c.status === 'exited' && !c.run.restartingAt && !(restarts && !c.run.stoppedByUser && Date.now() - Date.parse(c.run.finishedAt ?? '') < 2000)) {
        throw new BerthError(`container "${c.record.name}" exited with code ${c.exitCode ?? c.run.exitCode ?? '?'}`, { hint: `see its output with "berth logs ${c.record.service}"` });
      } else pending ??= c;
    }
    if (!pending) return;
    if (Date.now() > deadline) {
      throw new BerthError(`timed out after ${timeoutSeconds} s waiting for container "${pending.record.name}" (${pending.status}${pending.run.health ? `, ${pending.run.health.status}` : ''})`, { hint: 'raise --wait-timeout, or check "berth ps" and "berth logs"' });
    }
    await sleep(Math.min(100 * (attempt + 1), 500));
  }
}

/** Stop order from the records: a service is stopped once every service depending on it is. */
function stopWaves(records: readonly ContainerRecord[]): string[][] {
  const services = [...new Set(records.map((r) => r.service))].sort();
  const dependents = new Map<string, Set<string>>(services.map((s) => [s, new Set<string>()]));
  for (const record of records) for (const dep of Object.keys(record.dependsOn ?? {})) dependents.get(dep)?.add(record.service);
  const waves: string[][] = [];
  const done = new Set<string>();
  while (done.size < services.length) {
    let wave = services.filter((s) => !done.has(s) && [...dependents.get(s)!].every((d) => done.has(d) || d === s));
    if (wave.length === 0) wave = services.filter((s) => !done.has(s)); // a cycle cannot happen, but never loop forever
    for (const s of wave) done.add(s);
    waves.push(wave);
  }
  return waves;
}

/** Stops and removes a project's containers, then its networks (and volumes and images when asked). */
export async function down(engine: Engine, projectOrName: Project | string, options: DownOptions = {}): Promise<void> {
  const project = typeof projectOrName === 'string' ? undefined : projectOrName;
  const name = typeof projectOrName === 'string' ? projectOrName : projectOrName.name;
  await engine.withProjectLock(name, async () => {
    await engine.cleanupPending(name);
    const observed = await engine.observe(name, { oneoff: true });
    const known = project ? new Set([...project.services.keys(), ...project.disabledServices.keys()]) : undefined;
    const targets = observed.filter((c) => !known || c.record.oneoff || known.has(c.record.service) || options.removeOrphans);
    // Each container is removed as soon as it stopped (the next wave of stops does not wait for removals).
    const removals: Array<Promise<void>> = [];
    try {
      await stopContainers(engine, targets, {
        timeoutMs: timeoutMs(options.timeout),
        onStopped: (c) => removals.push(engine.removeContainer(c.record, { volumes: options.volumes })),
      });
    } finally {
      const results = await Promise.allSettled(removals);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const left = listRecords(name, engine.env);
    const sink = (event: Parameters<NonNullable<Engine['events']>>[0]) => engine.emit(name, event);
    await engine.network.removeNetworks(project ?? { name }, sink);
    if (options.volumes) {
      // With the compose file: its non-external volumes. Without (`down -v -p NAME`): the volumes labelled with the project.
      const names = project
        ? [...project.volumes.values()].filter((volume) => !volume.external).map((volume) => volume.name)
        : engine.volumes.list({ project: name }).map((volume) => volume.name);
      const stillUsed = new Set(left.flatMap((record) => [...(record.volumes ?? []), ...(record.anonymousVolumes ?? [])]));
      for (const volume of names) {
        if (stillUsed.has(volume)) continue;
        await Promise.resolve(engine.volumes.remove(volume)).then(
          (removed) => { if (removed) engine.emit(name, { type: 'volume', action: 'remove', name: volume, time: Date.now() }); },
          () => undefined,
        );
      }
    }
    if (options.rmi && project) await removeProjectImages(engine, project, options.rmi);
    if (left.length === 0) {
      await engine.stopSupervisor(name).catch(() => undefined);
      rmSync(path.join(projectDir(name, engine.env), 'project.json'), { force: true });
      rmSync(path.join(runRoot(engine.env), 'projects', name), { recursive: true, force: true });
    }
  });
}

async function removeProjectImages(engine: Engine, project: Project, mode: 'local' | 'all'): Promise<void> {
  const inUse = await imagesInUse();
  const refs = new Set<string>();
  for (const service of [...project.services.values(), ...project.disabledServices.values()]) {
    if (mode === 'local' && service.image) continue;
    refs.add(serviceImageRef(project, service));
  }
  for (const ref of refs) {
    const image = await engine.store.resolve(ref);
    if (!image || (inUse.get(image.id)?.length ?? 0) > 0) continue;
    await engine.store.removeRef(ref).catch(() => undefined);
  }
  await engine.store.gc({ inUse: new Set(inUse.keys()), keepDangling: true });
}

/** The run info of a record (helper for callers that only hold records). */
export function runInfoOf(engine: Engine, record: ContainerRecord) {
  return readRunInfo(record.project, record.name, engine.env);
}

/** Stops containers, dependents before their dependencies, each wave in parallel. */
export async function stopContainers(
  engine: Engine, containers: readonly ObservedContainer[], options: { timeoutMs?: number; signal?: string; onStopped?: (container: ObservedContainer) => void } = {},
): Promise<void> {
  const { onStopped, ...stop } = options;
  for (const wave of stopWaves(containers.map((c) => c.record))) {
    await Promise.all(containers.filter((c) => wave.includes(c.record.service)).map(async (c) => {
      await engine.stopContainer(c.record, stop);
      onStopped?.(c);
    }));
  }
}

/** Starts containers, dependencies before their dependents, each wave in parallel; then makes sure the supervisor runs. */
export async function startContainers(engine: Engine, projectName: string, containers: readonly ObservedContainer[]): Promise<void> {
  const supervisor = containers.length ? spawnSupervisorEarly(engine, projectName) : undefined;
  const beforeRun = supervisor ? dnsGate(engine, projectName, supervisor) : undefined;
  for (const wave of stopWaves(containers.map((c) => c.record)).reverse()) {
    await Promise.all(containers.filter((c) => wave.includes(c.record.service) && c.status !== 'running').map((c) => engine.startContainer(c.record, { beforeRun })));
  }
  if (supervisor) await supervisorAnswering(engine, projectName, supervisor);
}
