/**
 * The Engine: one object holding what every stack command needs (image store, runtime driver,
 * network provider, volume manager, event sink) and the operations on a project's containers.
 * It keeps no state of its own between calls: everything is re-read from disk and the runtime.
 */
import path from 'node:path';
import { ImageStore } from '../images/index.js';
import { stateRoot, runRoot, runtimeBinary } from '../paths.js';
import { RuntimeDriver } from '../runtime/index.js';
import type { Project, Service } from '../model/types.js';
import {
  cleanupPending, createContainer, killContainer, pauseContainer, removeContainer, startContainer, stopContainer, unpauseContainer,
  type CreateOptions, type RemoveOptions, type StopOptions,
} from './lifecycle.js';
import { withProjectLock } from './lock.js';
import { createNetworkProvider } from '../network/index.js';
import { observeProject, type ObserveOptions } from './observe.js';
import { registerImageUsage } from './records.js';
import { buildContainerSpec, type BuiltSpec, type SpecInput } from './container-spec.js';
import { VolumeManager } from './volumes.js';
import { appendEvent } from '../supervisor/events.js';
import { ensureSupervisor, stopSupervisor } from '../supervisor/index.js';
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

/** The stack engine. Open one per command (cheap). */
export class Engine {
  /** Where events go; may be replaced (e.g. by a progress reporter) after open. */
  events?: EventSink;

  private constructor(
    readonly store: ImageStore,
    readonly driver: RuntimeDriver,
    readonly network: NetworkProvider,
    readonly volumes: VolumeManager,
    readonly env: NodeJS.ProcessEnv,
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
    const driver = new RuntimeDriver({ env });
    const network = createNetworkProvider({ root, runRoot: runRoot(env) });
    const volumes = new VolumeManager(root);
    // Image gc must never delete the layers of an existing container.
    registerImageUsage(env);
    return new Engine(store, driver, network, volumes, env, options.events);
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
    return observeProject(this.driver, projectName, { ...options, env: this.env });
  }

  /** Creates one container of a service (not started). */
  createContainer(project: Project, service: Service, number: number, options: CreateOptions = {}): Promise<ContainerRecord> {
    return createContainer(this, project, service, number, options);
  }

  /** Starts a created or stopped container; updates run.json. */
  startContainer(record: ContainerRecord): Promise<void> {
    return startContainer(this, record);
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

  /** Makes sure the project's supervisor runs (when the supervisor module is present). */
  async ensureSupervisor(projectName: string): Promise<void> {
    // The supervisor must watch (and restart through) the runtime this engine uses, --runtime included.
    await ensureSupervisor(projectName, { env: { ...this.env, BERTH_RUNTIME: this.driver.binary } });
  }

  /** Stops the project's supervisor (when the supervisor module is present). */
  async stopSupervisor(projectName: string): Promise<void> {
    await stopSupervisor(projectName, { env: this.env });
  }
}
