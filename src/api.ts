/**
 * The typed API for integration tests: bring a compose stack up, talk to it, tear it down.
 *
 *   import { up } from 'berth';
 *   const stack = await up({ cwd: 'test/fixtures/app' });   // waits until healthy
 *   const { host, port } = await stack.port('web', 8080);
 *   await stack.down({ volumes: true });
 *
 * Every stack gets a unique project name unless one is given, so test files running in parallel
 * never share containers, networks or volumes. The same engine as the CLI does the work.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { BerthError } from './errors.js';
import { Engine } from './engine/engine.js';
import { captureExec } from './engine/exec.js';
import { readLogs } from './engine/logs.js';
import type { EngineEvent, ObservedContainer, Project } from './engine/types.js';
import { loadProject } from './project/index.js';

/** Options of up(). */
export interface StackOptions {
  /** Directory the compose files are looked up from (default process.cwd()). */
  cwd?: string;
  /** Compose files (relative to cwd); default: compose.yaml etc. discovered from cwd. */
  files?: string[];
  /** Project name; default `<directory name>-<8 hex>`, unique per call. */
  projectName?: string;
  /** Extra variables for interpolation (over process.env and .env). */
  env?: Record<string, string>;
  /** Profiles to enable. */
  profiles?: string[];
  /** Only these services (and their dependencies). */
  services?: string[];
  /** Wait until every service is running, healthy when it has a healthcheck, or exited 0 (default true). */
  wait?: boolean;
  /** Give up waiting after this many seconds (default 120). */
  waitTimeout?: number;
  /** `always`, `missing`, `never`, `build` (default: each service's pull_policy). */
  pull?: string;
  /** `berth`, `runc`, `crun` or a path to a runc-compatible runtime. */
  runtime?: string;
  /** Receives every engine event (container created, started, healthy, ...). */
  onEvent?: (event: EngineEvent) => void;
}

/** Output and exit code of a process run with Stack.exec(). */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A published port as reachable from the host. */
export interface HostPort {
  /** Address to connect to: 127.0.0.1 when the port is published on all addresses. */
  host: string;
  port: number;
  /** `host:port`, handy for URLs. */
  address: string;
}

/** A running stack. */
export interface Stack extends AsyncDisposable {
  /** The project name (unique unless given). */
  readonly name: string;
  /** The loaded project. */
  readonly project: Project;
  /** Names of the services that were brought up. */
  readonly services: string[];
  /** The host side of `containerPort` of a service's replica (`index`, default 1). */
  port(service: string, containerPort: number, options?: { protocol?: 'tcp' | 'udp'; index?: number }): Promise<HostPort>;
  /** The service's log (all replicas, stdout and stderr interleaved by time), as text. */
  logs(service: string, options?: { tail?: number }): Promise<string>;
  /** Runs a command in a service's container and collects its output. */
  exec(service: string, command: string[] | string, options?: { env?: Record<string, string>; user?: string; workingDir?: string; index?: number; input?: string }): Promise<ExecResult>;
  /** The project's containers as observed now. */
  ps(): Promise<ObservedContainer[]>;
  /** Stops services (all when none given) without removing them. */
  stop(services?: string[]): Promise<void>;
  /** Starts stopped services again. */
  start(services?: string[]): Promise<void>;
  /** Removes everything of the stack; `volumes: true` removes its volumes too. */
  down(options?: { volumes?: boolean; timeout?: number }): Promise<void>;
}

function uniqueName(cwd: string): string {
  const base = path.basename(cwd).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '') || 'stack';
  return `${base}-${randomBytes(4).toString('hex')}`;
}

/** Brings a compose project up (detached) and returns a handle to it. */
export async function up(options: StackOptions = {}): Promise<Stack> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const project = await loadProject({
    cwd,
    files: options.files,
    projectName: options.projectName ?? uniqueName(cwd),
    profiles: options.profiles,
    env: { ...process.env, ...options.env },
    servicesNamed: options.services,
  });
  const engine = await Engine.open({ runtime: options.runtime, events: options.onEvent });
  try {
    await engine.up(project, {
      detach: true,
      wait: options.wait ?? true,
      waitTimeout: options.waitTimeout ?? 120,
      pull: options.pull,
      services: options.services,
    });
  } catch (err) {
    // A stack that failed to come up is removed: a test run must not leave half a stack behind.
    await engine.down(project, { volumes: true, timeout: 5 }).catch(() => undefined);
    throw err;
  }
  return stackHandle(engine, project, options.services ?? [...project.services.keys()]);
}

function stackHandle(engine: Engine, project: Project, services: string[]): Stack {
  const containerOf = async (service: string, index = 1): Promise<ObservedContainer> => {
    const containers = await engine.observe(project.name, {});
    const found = containers.find((c) => c.record.service === service && c.record.number === index && !c.record.oneoff);
    if (!found) throw new BerthError(`stack "${project.name}" has no container for service "${service}" (index ${index})`, { hint: `services are ${[...project.services.keys()].join(', ')}` });
    return found;
  };
  const named = (list?: string[]) => (list && list.length > 0 ? list : [...project.services.keys()]);
  let downed = false;
  const stack: Stack = {
    name: project.name,
    project,
    services,
    async port(service, containerPort, options = {}) {
      const container = await containerOf(service, options.index);
      const protocol = options.protocol ?? 'tcp';
      const published = container.record.network.ports.find((p) => p.target === containerPort && p.protocol === protocol);
      if (!published) throw new BerthError(`service "${service}" does not publish ${containerPort}/${protocol}`, { hint: `add "ports: ['${containerPort}']" to the service` });
      const host = published.hostIp === '0.0.0.0' || published.hostIp === '' ? '127.0.0.1' : published.hostIp === '::' ? '::1' : published.hostIp;
      return { host, port: published.hostPort, address: host.includes(':') ? `[${host}]:${published.hostPort}` : `${host}:${published.hostPort}` };
    },
    async logs(service, options = {}) {
      const containers = (await engine.observe(project.name, {})).filter((c) => c.record.service === service && !c.record.oneoff);
      const lines = (await Promise.all(containers.map((c) => readLogs(c.record, {})))).flat().sort((a, b) => a.timeMs - b.timeMs);
      const kept = options.tail !== undefined ? lines.slice(-options.tail) : lines;
      return kept.map((line) => `${line.message}\n`).join('');
    },
    async exec(service, command, options = {}) {
      const container = await containerOf(service, options.index);
      return captureExec(engine.driverFor(container.record), container.record, {
        command: typeof command === 'string' ? ['/bin/sh', '-c', command] : command,
        env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
        user: options.user,
        workingDir: options.workingDir,
        input: options.input,
      });
    },
    ps: () => engine.observe(project.name, {}),
    async stop(list) {
      const wanted = named(list);
      const containers = (await engine.observe(project.name, {})).filter((c) => wanted.includes(c.record.service) && c.status === 'running');
      await Promise.all(containers.map((c) => engine.stopContainer(c.record)));
    },
    async start(list) {
      const wanted = named(list);
      const containers = (await engine.observe(project.name, {})).filter((c) => wanted.includes(c.record.service) && c.status !== 'running');
      for (const c of containers) await engine.startContainer(c.record);
    },
    async down(options = {}) {
      downed = true;
      await engine.down(project, { volumes: options.volumes, timeout: options.timeout });
    },
    async [Symbol.asyncDispose]() {
      if (!downed) await stack.down({ volumes: true });
    },
  };
  return stack;
}
