/**
 * The Engine: one object holding what every stack command needs (image store, runtime driver,
 * network provider, volume manager, event sink) and the operations on a project's containers.
 * It keeps no state of its own between calls: everything is re-read from disk and the runtime.
 *
 * Runtimes: every container records the runtime binary it was created with (ContainerRecord
 * `runtime`), and every later operation on it uses that runtime, whatever `--runtime` says then.
 * `driverFor(record)` gives it; `engine.driver` (the default runtime) also forwards calls by
 * container id to the recorded runtime of any container this engine has observed, so modules
 * that call `engine.driver.exec(record.id, ...)` after an observe reach the right runtime. New
 * containers use `--runtime` when given, else the runtime the project's containers already use,
 * else the default (BERTH_RUNTIME, else berth-runtime).
 */
import path from 'node:path';
// Narrow imports: the registry client and archive code load only when a command needs them.
import { ImageStore } from '../images/store/index.js';
import { stateRoot, runRoot, runtimeBinary } from '../paths.js';
import { RuntimeDriver, type AttachedOptions, type DetachedOptions, type ExecOptions, type RunResult } from '../runtime/index.js';
import type { OciState } from '../runtime/oci-types.js';
import type { ContainerStats } from '../runtime/cgroup-stats.js';
import type { Project, Service } from '../model/types.js';
import {
  cleanupPending, createContainer, killContainer, pauseContainer, removeContainer, startContainer, stopContainer, unpauseContainer,
  type CreateOptions, type RemoveOptions, type StartOptions, type StopOptions,
} from './lifecycle.js';
import { withProjectLock } from './lock.js';
import { createNetworkProvider } from '../network/index.js';
import { observeProject, type ObserveOptions } from './observe.js';
import { listRecords, registerImageUsage } from './records.js';
import { buildContainerSpec, type BuiltSpec, type SpecInput } from './container-spec.js';
import { VolumeManager } from './volumes.js';
import { appendEvent } from '../supervisor/events.js';
import { ensureSupervisor, stopSupervisor, supervisorDnsReady } from '../supervisor/index.js';
import type { ContainerRecord, EngineEvent, EventSink, NetworkProvider, ObservedContainer } from './types.js';
import { up, down, type UpOptions, type DownOptions, type UpResult } from './apply.js';

/** Options of Engine.open(). */
export interface EngineOpenOptions {
  /** `runc`, `crun`, `berth` or a path to a runc-compatible binary (default BERTH_RUNTIME, else berth-runtime). */
  runtime?: string;
  /** Receives every engine event (progress reporters, the JS API). */
  events?: EventSink;
  /** Environment (BERTH_ROOT, BERTH_RUN_ROOT, BERTH_RUNTIME); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Maps `--runtime` to a binary: `berth` is berth-runtime, anything else is used as given. */
export function runtimeBinaryFor(runtime: string | undefined): string | undefined {
  if (!runtime) return undefined;
  if (runtime === 'berth' || runtime === 'berth-runtime') return runtimeBinary({});
  return runtime;
}

/**
 * The engine's default driver. Calls naming a container this engine knows to live under another
 * runtime (see Engine.driverFor) go to that runtime's driver; everything else to the default.
 */
export class RoutingDriver extends RuntimeDriver {
  private readonly routes = new Map<string, RuntimeDriver>();

  /** Sends later calls about `containerId` to `driver` (or back to the default when it is the default's binary). */
  route(containerId: string, driver: RuntimeDriver): void {
    if (driver === this || driver.binary === this.binary) this.routes.delete(containerId);
    else this.routes.set(containerId, driver);
  }

  private to(containerId: string): RuntimeDriver | undefined {
    return this.routes.get(containerId);
  }

  override create(containerId: string, bundleDir: string, options?: DetachedOptions): Promise<void> {
    return this.to(containerId)?.create(containerId, bundleDir, options) ?? super.create(containerId, bundleDir, options);
  }

  override start(containerId: string): Promise<void> {
    return this.to(containerId)?.start(containerId) ?? super.start(containerId);
  }

  override run(containerId: string, bundleDir: string, options?: AttachedOptions): Promise<RunResult> {
    return this.to(containerId)?.run(containerId, bundleDir, options) ?? super.run(containerId, bundleDir, options);
  }

  override runDetached(containerId: string, bundleDir: string, options?: DetachedOptions): Promise<void> {
    return this.to(containerId)?.runDetached(containerId, bundleDir, options) ?? super.runDetached(containerId, bundleDir, options);
  }

  override state(containerId: string): Promise<OciState> {
    return this.to(containerId)?.state(containerId) ?? super.state(containerId);
  }

  override kill(containerId: string, signal?: string | number, options?: { all?: boolean }): Promise<void> {
    return this.to(containerId)?.kill(containerId, signal, options) ?? super.kill(containerId, signal, options);
  }

  override delete(containerId: string, options?: { force?: boolean; ignoreMissing?: boolean }): Promise<void> {
    return this.to(containerId)?.delete(containerId, options) ?? super.delete(containerId, options);
  }

  override exec(containerId: string, args: string[], options?: ExecOptions): Promise<RunResult> {
    return this.to(containerId)?.exec(containerId, args, options) ?? super.exec(containerId, args, options);
  }

  override pause(containerId: string): Promise<void> {
    return this.to(containerId)?.pause(containerId) ?? super.pause(containerId);
  }

  override resume(containerId: string): Promise<void> {
    return this.to(containerId)?.resume(containerId) ?? super.resume(containerId);
  }

  override ps(containerId: string): Promise<number[]> {
    return this.to(containerId)?.ps(containerId) ?? super.ps(containerId);
  }

  override stats(containerId: string): Promise<ContainerStats> {
    return this.to(containerId)?.stats(containerId) ?? super.stats(containerId);
  }

  override stdinPath(containerId: string): string {
    return this.to(containerId)?.stdinPath(containerId) ?? super.stdinPath(containerId);
  }

  override waitStopped(containerId: string, timeoutMs?: number): Promise<OciState> {
    return this.to(containerId)?.waitStopped(containerId, timeoutMs) ?? super.waitStopped(containerId, timeoutMs);
  }
}

/** The stack engine. Open one per command (cheap). */
export class Engine {
  /** Where events go; may be replaced (e.g. by a progress reporter) after open. */
  events?: EventSink;

  /** Drivers of other runtimes than the default, by binary. */
  private readonly drivers = new Map<string, RuntimeDriver>();
  /** Runtime binary of each project's existing containers, as last observed. */
  private readonly projectRuntimes = new Map<string, string | undefined>();

  private constructor(
    readonly store: ImageStore,
    /** The default runtime (`--runtime`, BERTH_RUNTIME, else berth-runtime); forwards calls about known containers to their own runtime. */
    readonly driver: RoutingDriver,
    readonly network: NetworkProvider,
    readonly volumes: VolumeManager,
    readonly env: NodeJS.ProcessEnv,
    /** True when the runtime was chosen (`--runtime` or BERTH_RUNTIME): new containers use it even in a project that uses another. */
    readonly runtimeExplicit: boolean,
    events?: EventSink,
  ) {
    this.events = events;
  }

  /** Opens the image store, picks the runtime, loads the network and volume layers. */
  static async open(options: EngineOpenOptions = {}): Promise<Engine> {
    const binary = runtimeBinaryFor(options.runtime);
    // The runtime goes into the environment so the supervisor (and anything spawned) uses the same one.
    const env = binary ? { ...(options.env ?? process.env), BERTH_RUNTIME: binary } : options.env ?? process.env;
    const root = stateRoot(env);
    const store = await ImageStore.open(path.join(root, 'images'));
    const driver = new RoutingDriver({ env });
    const explicit = Boolean(binary ?? (options.env ?? process.env).BERTH_RUNTIME);
    const network = createNetworkProvider({ root, runRoot: runRoot(env) });
    const volumes = new VolumeManager(root);
    // Image gc must never delete the layers of an existing container.
    registerImageUsage(env);
    return new Engine(store, driver, network, volumes, env, explicit, options.events);
  }

  /** The driver of a runtime binary (the default driver for the default binary). */
  driverForBinary(binary: string | undefined): RuntimeDriver {
    if (!binary || binary === this.driver.binary) return this.driver;
    let driver = this.drivers.get(binary);
    if (!driver) {
      driver = new RuntimeDriver({ env: this.env, binary });
      this.drivers.set(binary, driver);
    }
    return driver;
  }

  /** The driver of the runtime a container was created with (the default for records older than `runtime`). */
  driverFor(record: Pick<ContainerRecord, 'id' | 'runtime'>): RuntimeDriver {
    const driver = this.driverForBinary(record.runtime);
    this.driver.route(record.id, driver);
    return driver;
  }

  /** The runtime new containers of a project get: the chosen one, else the one its containers use, else the default. */
  driverForNew(projectName: string): RuntimeDriver {
    if (this.runtimeExplicit) return this.driver;
    if (!this.projectRuntimes.has(projectName)) this.noteRuntimes(projectName, listRecords(projectName, this.env));
    return this.driverForBinary(this.projectRuntimes.get(projectName));
  }

  private noteRuntimes(projectName: string, records: ReadonlyArray<Pick<ContainerRecord, 'runtime' | 'oneoff'>>): void {
    const used = records.filter((r) => !r.oneoff && r.runtime).map((r) => r.runtime);
    this.projectRuntimes.set(projectName, used[0]);
  }

  /** Emits an event to the sink and to the project's event log. Never throws. */
  emit(projectName: string, event: EngineEvent): void {
    try {
      this.events?.(event);
    } catch {
      // A broken reporter must not break the engine.
    }
    appendEvent(projectName, event, { env: this.env });
  }

  /** Builds the ContainerSpec and record fields of a container (the container-spec module). */
  buildSpec(input: SpecInput): Promise<BuiltSpec> {
    return buildContainerSpec(input);
  }

  /** The project's containers as they are now (all by default; `{ all: false }`: running only; `oneoff` adds `run` containers). */
  observe(projectName: string, options: Omit<ObserveOptions, 'env'> = {}): Promise<ObservedContainer[]> {
    return observeProject((record) => this.driverFor(record), projectName, { ...options, env: this.env }).then((observed) => {
      // What the project's service containers run on, for the containers `up` is about to create.
      if (observed.some((c) => !c.record.oneoff) || options.all !== false) this.noteRuntimes(projectName, observed.map((c) => c.record));
      return observed;
    });
  }

  /** Creates one container of a service (not started). */
  createContainer(project: Project, service: Service, number: number, options: CreateOptions = {}): Promise<ContainerRecord> {
    return createContainer(this, project, service, number, options);
  }

  /** Starts a created or stopped container; updates run.json. */
  startContainer(record: ContainerRecord, options: StartOptions = {}): Promise<void> {
    return startContainer(this, record, options);
  }

  /** Stops a container (stop signal, SIGKILL after the grace period). */
  stopContainer(record: ContainerRecord, options: StopOptions = {}): Promise<void> {
    return stopContainer(this, record, options);
  }

  /** Sends a signal to a container. */
  killContainer(record: ContainerRecord, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this, record, signal);
  }

  /** Freezes a container. */
  pauseContainer(record: ContainerRecord): Promise<void> {
    return pauseContainer(this, record);
  }

  /** Thaws a container. */
  unpauseContainer(record: ContainerRecord): Promise<void> {
    return unpauseContainer(this, record);
  }

  /** Removes a container and everything it holds on the host. */
  removeContainer(record: ContainerRecord, options: RemoveOptions = {}): Promise<void> {
    return removeContainer(this, record, options);
  }

  /** Undoes half-finished creates of a killed berth (hold the project lock). */
  cleanupPending(projectName: string): Promise<string[]> {
    return cleanupPending(this, projectName);
  }

  /** Runs `fn` holding the project's lock (reentrant within this process). */
  withProjectLock<T>(projectName: string, fn: () => Promise<T>): Promise<T> {
    return withProjectLock(projectName, fn, { env: this.env });
  }

  /** Converges the project: networks, volumes, then services in dependency order. */
  up(project: Project, options: UpOptions = {}): Promise<UpResult> {
    return up(this, project, options);
  }

  /** Stops and removes the project's containers and networks (and volumes, images when asked). */
  down(project: Project | string, options: DownOptions = {}): Promise<void> {
    return down(this, project, options);
  }

  /**
   * Makes sure the project's supervisor runs. `wait: false` returns once it is spawned (it
   * adopts the containers it finds when it comes up), for commands that do not need it now.
   */
  async ensureSupervisor(projectName: string, options: { wait?: boolean } = {}): Promise<void> {
    // The supervisor watches (and probes through) the runtime the project's containers were created with.
    const runtime = this.projectRuntimeBinary(projectName) ?? this.driver.binary;
    await ensureSupervisor(projectName, { env: { ...this.env, BERTH_RUNTIME: runtime }, wait: options.wait });
  }

  /**
   * Has the project's supervisor (spawned or running) serve DNS on the project's networks now;
   * waits for it to answer. Resolves to the addresses served, undefined when none answered.
   */
  supervisorDns(projectName: string): Promise<string[] | undefined> {
    return supervisorDnsReady(projectName, { env: this.env });
  }

  /** The runtime binary the project's service containers use, when they agree on one. */
  projectRuntimeBinary(projectName: string): string | undefined {
    const runtimes = new Set(listRecords(projectName, this.env).filter((r) => !r.oneoff).map((r) => r.runtime ?? this.driver.binary));
    return runtimes.size === 1 ? [...runtimes][0] : undefined;
  }

  /** Stops the project's supervisor (when the supervisor module is present). */
  async stopSupervisor(projectName: string): Promise<void> {
    await stopSupervisor(projectName, { env: this.env });
  }
}
