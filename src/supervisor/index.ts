/**
 * The per-project supervisor, as berth commands use it: ensureSupervisor() before or after
 * changing a project's containers (idempotent; one control-socket round trip when it runs),
 * stopSupervisor(), supervisorStatus(); and the project's event journal.
 *
 * The supervisor is a detached `node <this build>/src/supervisor/main.js <project>` process. It
 * owns nothing the containers need: their monitors (berth-runtime) capture logs and exit codes,
 * and every fact it derives goes to run.json and events.jsonl. Killing it loses nothing; the next
 * ensureSupervisor() starts a new one, which adopts what it finds.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../errors.js';
import { listRecords, readRunInfo } from '../engine/records.js';
import type { ContainerRecord, ContainerRunInfo, ContainerStatus } from '../engine/types.js';
import { RuntimeDriver } from '../runtime/driver.js';
import { controlRequest } from './control.js';
import { shouldRestart } from './restart-policy.js';
import { runtimeStatus } from './runtime-status.js';
import { supervisorPaths } from './paths.js';
import type { SupervisorSnapshot } from './supervisor.js';

export { appendEvent, readEvents, followEvents, formatEventText, formatEventJson, dockerAction, eventsMaxBytes, type StoredEvent, type EventFilter, type EventsOptions } from './events.js';
export { supervisorPaths, type SupervisorPaths } from './paths.js';
export type { SupervisorSnapshot } from './supervisor.js';

/**
 * The supervisor entry script of this very build (so a dist-x build never starts dist's):
 * main.cjs next to the bundle, main.js next to the compiled modules.
 */
export function supervisorMain(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.join(here, 'main.cjs');
  return existsSync(bundled) ? bundled : path.join(here, 'main.js');
}

/** Options of ensureSupervisor() and friends. */
export interface SupervisorOptions {
  /** Environment of the supervisor (BERTH_ROOT, BERTH_RUN_ROOT, BERTH_RUNTIME ...); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Wait until the supervisor answers (default true); false returns right after spawning it. */
  wait?: boolean;
  /** How long to wait for a new supervisor to answer (default 10 s). */
  timeoutMs?: number;
}

/** What supervisorStatus() reports. */
export interface SupervisorStatus {
  running: boolean;
  pid?: number;
  socket: string;
  /** Resident memory of the supervisor process. */
  rssBytes?: number;
  containers?: SupervisorSnapshot['containers'];
  dns?: boolean;
}

/**
 * Makes sure the project's supervisor runs: asks it over its socket (which also keeps it from
 * exiting for a few seconds, so a command about to start containers is not raced by an idle
 * exit), and starts one when none answers. Safe to call concurrently: only one can hold the
 * project's supervisor lock; extra ones exit at once.
 */
export async function ensureSupervisor(project: string, options: SupervisorOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const paths = supervisorPaths(project, env);
  if (await controlRequest(paths.socket, { cmd: 'ping' }, 1000)) return;
  mkdirSync(paths.dir, { recursive: true });
  const logFd = openSync(paths.log, 'a');
  try {
    const child = spawn(process.execPath, [...nodeFlags(env), supervisorMain(), project], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env,
      cwd: '/',
    });
    child.on('error', () => undefined);
    child.unref();
  } finally {
    closeSync(logFd);
  }
  if (options.wait === false) return;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let delay = 10;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
    if (await controlRequest(paths.socket, { cmd: 'ping' }, 1000)) return;
  }
  throw new BerthError(`the supervisor of project "${project}" did not start`, {
    hint: `see its log ${paths.log}; restart policies and healthchecks need it, containers run regardless`,
  });
}

/**
 * V8 flags of the supervisor, which lives as long as the stack and does little: a small young
 * generation, no optimizing compiler and no helper threads keep it ~5 MiB smaller. A space
 * separated BERTH_SUPERVISOR_NODE_FLAGS replaces them (for measuring).
 */
export const supervisorNodeFlags: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=96', '--single-threaded', '--no-opt'];

function nodeFlags(env: NodeJS.ProcessEnv): readonly string[] {
  const custom = env.BERTH_SUPERVISOR_NODE_FLAGS;
  return custom !== undefined ? custom.split(' ').filter(Boolean) : supervisorNodeFlags;
}

/**
 * Asks the project's supervisor to serve DNS on the project's networks now, waiting (up to
 * timeoutMs, default 3 s, as long as `up` waits for a new supervisor anyway) for one that is
 * still booting. Resolves to the addresses it serves; undefined when no supervisor answered.
 */
export async function supervisorDnsReady(project: string, options: SupervisorOptions = {}): Promise<string[] | undefined> {
  const paths = supervisorPaths(project, options.env);
  const deadline = Date.now() + (options.timeoutMs ?? 3000);
  let delay = 5;
  for (;;) {
    const reply = await controlRequest<{ ok: boolean; addresses?: string[] }>(paths.socket, { cmd: 'dns' }, 3000);
    if (reply?.ok) return reply.addresses ?? [];
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Stops the project's supervisor (it exits after closing its socket); true when one was running. */
export async function stopSupervisor(project: string, options: SupervisorOptions = {}): Promise<boolean> {
  const paths = supervisorPaths(project, options.env);
  const reply = await controlRequest<{ ok: boolean; pid?: number }>(paths.socket, { cmd: 'stop' }, 2000);
  const pid = reply?.pid ?? readSupervisorPid(paths.pidFile);
  if (!reply && pid === undefined) return false;
  if (!reply && pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return false;
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (pid !== undefined && isSupervisorProcess(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return true;
}

/** Whether the project's supervisor runs, with its pid, memory and what it watches. */
export async function supervisorStatus(project: string, options: SupervisorOptions = {}): Promise<SupervisorStatus> {
  const paths = supervisorPaths(project, options.env);
  const reply = await controlRequest<{ ok: boolean } & SupervisorSnapshot>(paths.socket, { cmd: 'status' }, 2000);
  if (!reply?.ok) return { running: false, socket: paths.socket };
  return { running: true, pid: reply.pid, socket: paths.socket, rssBytes: reply.rssBytes, containers: reply.containers, dns: reply.dns };
}

function readSupervisorPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && isSupervisorProcess(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a berth supervisor (guards against a recycled pid in a stale pid file). */
function isSupervisorProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-supervisor');
  } catch {
    return false;
  }
}

/**
 * The environment a project's supervisor runs with: `env` with BERTH_RUNTIME set to the runtime
 * the project's service containers were created with, when they agree on one (the supervisor
 * uses each container's own runtime anyway; this is its default for records that name none).
 */
export function supervisorEnv(project: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const runtimes = new Set(listRecords(project, env).filter((r) => !r.oneoff && r.runtime).map((r) => r.runtime));
  return runtimes.size === 1 ? { ...env, BERTH_RUNTIME: [...runtimes][0] } : env;
}

/** A container as reviveSupervisor() judges it. */
export interface SupervisedContainer {
  record: ContainerRecord;
  status: ContainerStatus;
  exitCode?: number;
}

/**
 * Whether a container needs a living supervisor: it runs (or is paused), waits for a restart, or
 * exited while no supervisor watched and its restart policy brings it back.
 */
export function needsSupervisor(container: SupervisedContainer, env: NodeJS.ProcessEnv = process.env): boolean {
  if (container.record.oneoff) return false;
  if (container.status === 'running' || container.status === 'paused' || container.status === 'restarting') return true;
  if (container.status !== 'exited' || container.record.restart.name === 'no') return false;
  const run: ContainerRunInfo = readRunInfo(container.record.project, container.record.name, env);
  const unrecorded = run.finishedAt === undefined || (run.startedAt !== undefined && Date.parse(run.finishedAt) < Date.parse(run.startedAt));
  return unrecorded && shouldRestart(container.record.restart, container.exitCode ?? run.exitCode, run);
}

/**
 * Brings back a killed supervisor without waiting for it (`ps`, `logs`, `exec` call this): when
 * one of the project's containers needs one (see needsSupervisor) and none answers, one is
 * spawned with the project's runtime. Costs two small file reads when it runs (its pid file and
 * /proc/<pid>/cmdline), nothing when nothing of the project lives. Pass the containers when the caller observed them already.
 * Never throws.
 */
export async function reviveSupervisor(project: string, options: { env?: NodeJS.ProcessEnv; containers?: readonly SupervisedContainer[] } = {}): Promise<void> {
  const env = options.env ?? process.env;
  try {
    let containers = options.containers;
    if (!containers) {
      const drivers = new Map<string, RuntimeDriver>();
      containers = await Promise.all(listRecords(project, env).filter((r) => !r.oneoff).map(async (record) => {
        let driver = drivers.get(record.runtime ?? '');
        if (!driver) drivers.set(record.runtime ?? '', driver = new RuntimeDriver({ env, ...(record.runtime ? { binary: record.runtime } : {}) }));
        const rt = await runtimeStatus(driver, record.id).catch(() => ({ status: 'missing' as const, exitCode: undefined }));
        const run = readRunInfo(record.project, record.name, env);
        const status: ContainerStatus = rt.status === 'running' || rt.status === 'paused' ? rt.status
          : rt.status === 'stopped' ? (run.restartingAt ? 'restarting' : 'exited') : run.restartingAt ? 'restarting' : run.startedAt ? 'exited' : 'created';
        return { record, status, exitCode: rt.exitCode };
      }));
    }
    if (!containers.some((c) => needsSupervisor(c, env))) return;
    // Its pid file naming a live supervisor process is enough here (two small reads instead of a
    // socket round trip): an exiting supervisor removes the file before it stops answering.
    if (readSupervisorPid(supervisorPaths(project, env).pidFile) !== undefined) return;
    await ensureSupervisor(project, { env: supervisorEnv(project, env), wait: false });
  } catch {
    // Only a convenience: the next up/start starts it too.
  }
}
