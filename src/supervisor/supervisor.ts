/**
 * The supervisor's work for one project: watch every container (poll its runtime state a few
 * times a second), record exits in run.json, apply restart policies with backoff, restart
 * `depends_on: {restart: true}` dependents, run healthchecks, and host the project's DNS server.
 * It keeps nothing that matters in memory: run.json says what is pending (restartingAt), so a
 * supervisor started after another was killed picks up where that one stopped.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../errors.js';
import { withProjectLock } from '../engine/lock.js';
import { containerDir, listContainerDirs, readRecord, readRunInfo, updateRunInfo } from '../engine/records.js';
import type { ContainerRecord, ContainerRunInfo, EngineEvent, HealthState } from '../engine/types.js';
import { RuntimeDriver } from '../runtime/driver.js';
import { appendEvent } from './events.js';
import { applyProbe, healthcheckDisabled, initialHealth, nextProbeAt, probeCommand, type ProbeResult } from './health.js';
import { nextBackoff, shouldRestart, type Backoff } from './restart-policy.js';
import { runtimeStatus, type RuntimeStatus } from './runtime-status.js';

/** Identifies one run: the runtime's start time (runc/crun report none: the process id instead). */
function runIdentity(rt: RuntimeStatus): string {
  return rt.startedAt ?? `pid:${rt.pid ?? 0}`;
}

/** Identifies one exit: the runtime's finishedAt (runc/crun report none: the run it ended instead). */
function exitKey(rt: RuntimeStatus, runStartedAt: string | undefined): string {
  return rt.finishedAt ?? `after:${rt.startedAt ?? runStartedAt ?? ''}`;
}

/** Options of a Supervisor. */
export interface SupervisorOptions {
  project: string;
  env?: NodeJS.ProcessEnv;
  /** Poll period of container states (default 250 ms). */
  pollMs?: number;
  /** Exit after this long with nothing running and nothing pending (default 5 s). */
  idleMs?: number;
  /** Diagnostics (the supervisor's log file). */
  log?: (line: string) => void;
}

/** The part of the engine the supervisor restarts containers with. */
interface RestartEngine {
  startContainer(record: ContainerRecord, options?: { byPolicy?: boolean }): Promise<unknown>;
  stopContainer(record: ContainerRecord, options?: { timeoutMs?: number; signal?: string }): Promise<unknown>;
}

/** What the supervisor tracks about one container. */
interface Watched {
  record: ContainerRecord;
  /** record.json's mtime, to notice a recreate under the same name. */
  recordMtime: number;
  status: RuntimeStatus['status'];
  /** startedAt of the run being watched (runtime's time); a new value means it was (re)started. */
  runStartedAt?: string;
  /** finishedAt of the last exit handled, so one exit is handled once. */
  handledExit?: string;
  backoff: Backoff;
  restartTimer?: NodeJS.Timeout;
  restartDueAt?: number;
  restarting: boolean;
  probeDueAt?: number;
  probing: boolean;
  /** When this run began, for the health start period (ms since epoch). */
  runStartMs: number;
  /** False until the first observation, which judges what happened while nobody watched. */
  adopted: boolean;
}

/** Snapshot for `status` requests. */
export interface SupervisorSnapshot {
  project: string;
  pid: number;
  rssBytes: number;
  containers: Array<{ name: string; status: string; restartPendingInMs?: number; health?: string }>;
  dns: boolean;
}

/** One project's supervisor loop. */
export class Supervisor {
  readonly project: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pollMs: number;
  private readonly idleMs: number;
  private readonly log: (line: string) => void;
  /** Runtime drivers by binary: each container is watched, probed and restarted with the runtime it was created with. */
  private readonly drivers = new Map<string, RuntimeDriver>();
  private readonly watched = new Map<string, Watched>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  /** Last time something ran, waited for a restart, or a berth command pinged. */
  private touchedAt = Date.now();
  private engine?: Promise<RestartEngine | undefined>;
  private dns?: { close(): Promise<void>; refresh?(): Promise<void>; addresses?(): string[] };
  private dnsRetryAt = 0;
  private dnsStarting?: Promise<void>;
  private stopped = false;
  private onIdle?: () => void;

  constructor(options: SupervisorOptions) {
    this.project = options.project;
    this.env = options.env ?? process.env;
    this.pollMs = options.pollMs ?? 250;
    this.idleMs = options.idleMs ?? 5000;
    this.log = options.log ?? (() => undefined);
  }

  /** The driver of the runtime `record` was created with (records without `runtime`: the default, BERTH_RUNTIME else berth-runtime). */
  private driverFor(record: Pick<ContainerRecord, 'runtime'>): RuntimeDriver {
    const key = record.runtime ?? '';
    let driver = this.drivers.get(key);
    if (!driver) {
      driver = new RuntimeDriver({ env: this.env, ...(record.runtime ? { binary: record.runtime } : {}) });
      this.drivers.set(key, driver);
    }
    return driver;
  }

  /** Starts polling; `onIdle` is called once the project has been idle for idleMs. */
  start(onIdle: () => void): void {
    this.onIdle = onIdle;
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      await this.tick().catch((err) => this.log(`tick: ${(err as Error).stack ?? err}`));
      if (!this.stopped) this.timer = setTimeout(loop, this.pollMs);
    };
    void loop();
  }

  /** Stops polling, cancels pending restart timers (run.json keeps them pending) and closes DNS. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watched.values()) if (w.restartTimer) clearTimeout(w.restartTimer);
    await this.dns?.close().catch(() => undefined);
  }

  /** A berth command announced itself: do not exit for another idle period. */
  touch(): void {
    this.touchedAt = Date.now();
  }

  /** True when something runs or waits for a restart. */
  busy(): boolean {
    for (const w of this.watched.values()) {
      if (w.status === 'running' || w.status === 'paused' || w.status === 'creating') return true;
      if (w.restartTimer || w.restarting) return true;
    }
    return false;
  }

  /** What is watched right now. */
  snapshot(): SupervisorSnapshot {
    const now = Date.now();
    return {
      project: this.project,
      pid: process.pid,
      rssBytes: process.memoryUsage.rss(),
      dns: this.dns !== undefined,
      containers: [...this.watched.values()].map((w) => ({
        name: w.record.name,
        status: w.restarting ? 'restarting' : w.status,
        restartPendingInMs: w.restartDueAt !== undefined ? Math.max(0, w.restartDueAt - now) : undefined,
        health: readRunInfo(this.project, w.record.name, this.env).health?.status,
      })),
    };
  }

  private emit(event: EngineEvent, record?: ContainerRecord): void {
    appendEvent(this.project, event, { env: this.env, image: record?.image });
  }

  /** One round: follow the records on disk, observe each container, act on what changed. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.syncRecords();
      await Promise.all([...this.watched.values()].map((w) => this.observe(w).catch((err) => this.log(`observe ${w.record.name}: ${(err as Error).message}`))));
      await this.maintainDns();
      this.checkIdle();
    } finally {
      this.ticking = false;
    }
  }

  private syncRecords(): void {
    const names = new Set(listContainerDirs(this.project, this.env));
    for (const [name, w] of this.watched) {
      if (!names.has(name)) this.forget(name, w);
    }
    for (const name of names) {
      let mtime: number;
      try {
        mtime = statSync(path.join(containerDir(this.project, name, this.env), 'record.json')).mtimeMs;
      } catch {
        continue; // being created: no record yet
      }
      const existing = this.watched.get(name);
      if (existing && existing.recordMtime === mtime) continue;
      const record = readRecord(this.project, name, this.env);
      if (!record) continue;
      if (existing) this.forget(name, existing); // recreated under the same name: a new container
      this.watched.set(name, { record, recordMtime: mtime, status: 'missing', backoff: { lastDelayMs: 0 }, restarting: false, probing: false, runStartMs: 0, adopted: false });
      this.adopt(this.watched.get(name)!);
    }
  }

  private forget(name: string, w: Watched): void {
    if (w.restartTimer) clearTimeout(w.restartTimer);
    this.watched.delete(name);
  }

  /** A container seen for the first time: a pending restart (restartingAt) is resumed. */
  private adopt(w: Watched): void {
    const run = readRunInfo(this.project, w.record.name, this.env);
    if (run.restartingAt && !run.stoppedByUser) this.scheduleRestart(w, Math.max(0, Date.parse(run.restartingAt) - Date.now()));
  }

  private async observe(w: Watched): Promise<void> {
    if (w.restartTimer) {
      // A berth command stopped or started it during the backoff: that command decided.
      const run = readRunInfo(this.project, w.record.name, this.env);
      if (run.stoppedByUser || !run.restartingAt) {
        clearTimeout(w.restartTimer);
        w.restartTimer = undefined;
        w.restartDueAt = undefined;
        this.log(`${w.record.name}: pending restart cancelled (${run.stoppedByUser ? 'stopped by user' : 'started by a berth command'})`);
      }
    }
    const rt = await runtimeStatus(this.driverFor(w.record), w.record.id);
    const previous = w.status;
    w.status = rt.status;
    if (!w.adopted) {
      w.adopted = true;
      // An exit already in run.json (by a stop, or by an earlier supervisor) was handled; one that
      // is not happened while no supervisor ran and is handled now.
      const run = readRunInfo(this.project, w.record.name, this.env);
      const recorded = run.finishedAt !== undefined && (run.startedAt === undefined || Date.parse(run.finishedAt) >= Date.parse(run.startedAt));
      if (rt.status === 'stopped' && (recorded || w.restartTimer)) w.handledExit = exitKey(rt, undefined);
    }
    if ((rt.status === 'running' || rt.status === 'paused') && runIdentity(rt) !== w.runStartedAt) {
      this.onStarted(w, rt);
    }
    if (rt.status === 'stopped' && exitKey(rt, w.runStartedAt) !== w.handledExit) {
      w.handledExit = exitKey(rt, w.runStartedAt);
      this.onExited(w, rt, previous);
    }
    if (rt.status === 'running' && !healthcheckDisabled(w.record.healthcheck) && !w.probing && w.probeDueAt !== undefined && Date.now() >= w.probeDueAt) {
      w.probing = true;
      void this.probe(w).finally(() => { w.probing = false; });
    }
  }

  /** A new run began (started by a berth command or by us): reset the health check for it. */
  private onStarted(w: Watched, rt: RuntimeStatus): void {
    const first = w.runStartedAt === undefined;
    w.runStartedAt = runIdentity(rt);
    w.runStartMs = rt.startedAt ? Date.parse(rt.startedAt) : Date.now();
    if (Number.isNaN(w.runStartMs)) w.runStartMs = Date.now();
    const spec = w.record.healthcheck;
    if (healthcheckDisabled(spec) || !spec) return;
    const run = readRunInfo(this.project, w.record.name, this.env);
    // Adopting a running container: keep the health this run already has, probe on schedule.
    let health: HealthState = run.health ?? initialHealth();
    const lastProbe = run.health?.log.at(-1);
    const healthOfThisRun = first && lastProbe !== undefined && Date.parse(lastProbe.end) >= w.runStartMs;
    if (!healthOfThisRun) {
      health = { ...initialHealth(), log: run.health?.log ?? [] };
      // The engine's start usually reset it already; write only when it did not (fewer writers, fewer races).
      if (run.health?.status !== 'starting' || run.health.failingStreak !== 0) {
        updateRunInfo(this.project, w.record.name, (info) => ({ ...info, health }), this.env);
      }
    }
    const last = health.log.length > 0 ? Date.parse(health.log[health.log.length - 1].end) : w.runStartMs;
    w.probeDueAt = nextProbeAt(health, spec, Math.max(last, w.runStartMs), w.runStartMs);
  }

  private onExited(w: Watched, rt: RuntimeStatus, previous: RuntimeStatus['status']): void {
    w.probeDueAt = undefined;
    let decided = false;
    let delayMs = 0;
    const ranForMs = rt.startedAt && rt.finishedAt ? Date.parse(rt.finishedAt) - Date.parse(rt.startedAt) : undefined;
    const run = updateRunInfo(this.project, w.record.name, (info) => {
      const next: ContainerRunInfo = { ...info, finishedAt: rt.finishedAt, exitCode: rt.exitCode };
      if (!w.record.oneoff && shouldRestart(w.record.restart, rt.exitCode, info)) {
        const step = nextBackoff(w.backoff, ranForMs);
        w.backoff = step.backoff;
        delayMs = step.delayMs;
        decided = true;
        next.restartingAt = new Date(Date.now() + delayMs).toISOString();
      }
      return next;
    }, this.env);
    this.log(`${w.record.name} exited with ${rt.exitCode} (was ${previous}); ${decided ? `restart in ${delayMs} ms` : 'no restart'}${run.stoppedByUser ? ' (stopped by user)' : ''}`);
    this.emit({ type: 'container', action: 'exited', service: w.record.service, name: w.record.name, exitCode: rt.exitCode, time: Date.now() }, w.record);
    if (decided) this.scheduleRestart(w, delayMs);
  }

  private scheduleRestart(w: Watched, delayMs: number): void {
    if (w.restartTimer) clearTimeout(w.restartTimer);
    w.restartDueAt = Date.now() + delayMs;
    w.restartTimer = setTimeout(() => {
      w.restartTimer = undefined;
      w.restartDueAt = undefined;
      void this.restart(w);
    }, delayMs);
  }

  /** Restarts a container whose backoff elapsed, holding the project lock; a berth command holding it postpones the restart. */
  private async restart(w: Watched): Promise<void> {
    if (this.stopped || this.watched.get(w.record.name) !== w) return;
    w.restarting = true;
    let entered = false;
    try {
      await withProjectLock(this.project, async () => {
        entered = true;
        await this.restartLocked(w);
      }, { env: this.env, waitMs: 0, command: 'supervisor' });
    } catch (err) {
      if (!entered && err instanceof BerthError) {
        this.scheduleRestart(w, 500); // a berth command is busy with the project: try again next round
        return;
      }
      this.log(`restart ${w.record.name}: ${(err as Error).message}`);
      this.afterFailedRestart(w);
    } finally {
      w.restarting = false;
    }
  }

  private async restartLocked(w: Watched): Promise<void> {
    const record = readRecord(this.project, w.record.name, this.env);
    const run = readRunInfo(this.project, w.record.name, this.env);
    if (!record || record.id !== w.record.id || record.created !== w.record.created || run.stoppedByUser || !run.restartingAt) {
      this.log(`${w.record.name}: restart cancelled (${!record ? 'removed' : run.stoppedByUser ? 'stopped by user' : 'handled elsewhere'})`);
      if (record && run.restartingAt) updateRunInfo(this.project, w.record.name, (info) => ({ ...info, restartingAt: undefined }), this.env);
      return;
    }
    const rt = await runtimeStatus(this.driverFor(record), record.id);
    if (rt.status === 'running' || rt.status === 'paused') {
      updateRunInfo(this.project, record.name, (info) => ({ ...info, restartingAt: undefined }), this.env);
      return;
    }
    this.emit({ type: 'container', action: 'restarting', service: record.service, name: record.name, time: Date.now() }, record);
    await this.startContainer(record);
    updateRunInfo(this.project, record.name, (info) => ({ ...info, restartCount: run.restartCount + 1, restartingAt: undefined, stoppedByUser: false }), this.env);
    this.log(`${record.name} restarted (restart count ${run.restartCount + 1})`);
    await this.restartDependents(record);
  }

  /** depends_on with `restart: true`: a restarted dependency restarts the containers that depend on it. */
  private async restartDependents(dependency: ContainerRecord): Promise<void> {
    for (const w of this.watched.values()) {
      const dependent = w.record;
      if (dependent.oneoff || dependent.name === dependency.name) continue;
      if (!dependent.dependsOn?.[dependency.service]?.restart) continue;
      const rt = await runtimeStatus(this.driverFor(dependent), dependent.id);
      if (rt.status !== 'running') continue;
      this.log(`${dependent.name}: restarting because its dependency ${dependency.name} restarted`);
      this.emit({ type: 'container', action: 'restarting', service: dependent.service, name: dependent.name, time: Date.now(), reasons: [`dependency "${dependency.service}" restarted`] }, dependent);
      try {
        const engine = await this.loadEngine();
        if (engine) await engine.stopContainer(dependent);
        else await this.stopDirect(dependent);
        await this.startContainer(dependent);
        updateRunInfo(this.project, dependent.name, (info) => ({ ...info, stoppedByUser: false }), this.env);
      } catch (err) {
        this.log(`restart dependent ${dependent.name}: ${(err as Error).message}`);
      }
    }
  }

  private afterFailedRestart(w: Watched): void {
    const run = readRunInfo(this.project, w.record.name, this.env);
    if (run.stoppedByUser || !shouldRestart(w.record.restart, run.exitCode ?? 1, run)) {
      updateRunInfo(this.project, w.record.name, (info) => ({ ...info, restartingAt: undefined }), this.env);
      return;
    }
    const step = nextBackoff(w.backoff, 0);
    w.backoff = step.backoff;
    updateRunInfo(this.project, w.record.name, (info) => ({ ...info, restartCount: info.restartCount + 1, restartingAt: new Date(Date.now() + step.delayMs).toISOString() }), this.env);
    this.scheduleRestart(w, step.delayMs);
  }

  private async startContainer(record: ContainerRecord): Promise<void> {
    const engine = await this.loadEngine();
    if (engine) {
      await engine.startContainer(record, { byPolicy: true });
      return;
    }
    // Without the engine module (a trimmed build): re-create the runtime container from its bundle.
    const driver = this.driverFor(record);
    await driver.delete(record.id, { force: true, ignoreMissing: true });
    await driver.create(record.id, record.bundle);
    await driver.start(record.id);
    updateRunInfo(this.project, record.name, (info) => ({ ...info, startedAt: new Date().toISOString(), finishedAt: undefined, exitCode: undefined }), this.env);
  }

  private async stopDirect(record: ContainerRecord): Promise<void> {
    const driver = this.driverFor(record);
    await driver.kill(record.id, record.stopSignal || 'SIGTERM').catch(() => undefined);
    try {
      await driver.waitStopped(record.id, record.stopGraceMs || 10_000);
    } catch {
      await driver.kill(record.id, 'SIGKILL').catch(() => undefined);
      await driver.waitStopped(record.id, 5000).catch(() => undefined);
    }
  }

  /** The engine, loaded on the first restart only (it is large; an idle supervisor never pays for it). */
  private loadEngine(): Promise<RestartEngine | undefined> {
    this.engine ??= (async () => {
      try {
        // A literal specifier, so the bundler keeps the engine as a lazily loaded chunk.
        const mod = (await import('../engine/engine.js')) as { Engine?: { open(opts?: { env?: NodeJS.ProcessEnv; events?: (e: EngineEvent) => void }): Promise<RestartEngine> } };
        if (!mod.Engine) return undefined;
        return await mod.Engine.open({ env: this.env });
      } catch (err) {
        this.log(`engine not available, restarting through the runtime directly: ${(err as Error).message}`);
        return undefined;
      }
    })();
    return this.engine;
  }

  private async probe(w: Watched): Promise<void> {
    const spec = w.record.healthcheck!;
    const runStartedAt = w.runStartedAt;
    // A paused container cannot answer (an exec would hang): skip this round.
    const rt = await runtimeStatus(this.driverFor(w.record), w.record.id).catch(() => undefined);
    if (rt?.status !== 'running') {
      w.probeDueAt = Date.now() + spec.intervalMs;
      return;
    }
    const start = Date.now();
    let result: ProbeResult;
    try {
      const out = await this.driverFor(w.record).exec(w.record.id, probeCommand(spec), { timeoutMs: spec.timeoutMs });
      result = { start, end: Date.now(), exitCode: out.exitCode, output: out.stdout + out.stderr };
    } catch (err) {
      const timedOut = /did not finish within/.test((err as Error).message);
      result = { start, end: Date.now(), exitCode: -1, output: timedOut ? `Health check exceeded timeout (${spec.timeoutMs / 1000}s)` : (err as Error).message };
    }
    if (w.runStartedAt !== runStartedAt || this.watched.get(w.record.name) !== w) return; // restarted meanwhile
    let before = 'starting' as HealthState['status'];
    const run = updateRunInfo(this.project, w.record.name, (info) => {
      before = info.health?.status ?? 'starting';
      return { ...info, health: applyProbe(info.health ?? initialHealth(), spec, result, w.runStartMs) };
    }, this.env);
    const health = run.health!;
    w.probeDueAt = nextProbeAt(health, spec, Date.now(), w.runStartMs);
    if (health.status !== before && health.status !== 'starting') {
      this.log(`${w.record.name} is ${health.status} (streak ${health.failingStreak})`);
      this.emit({ type: 'container', action: health.status, service: w.record.service, name: w.record.name, time: Date.now(), detail: result.output.slice(0, 200) }, w.record);
    }
  }

  /** Runs the project's DNS server (from the network layer, when present) while containers run; restarts it after a failure. */
  private async maintainDns(): Promise<void> {
    // Also while a command that is about to start containers keeps us (dnsReady, ping).
    const wanted = this.busy() || Date.now() - this.touchedAt < this.idleMs;
    if (!wanted) {
      if (this.dns) {
        const dns = this.dns;
        this.dns = undefined;
        await dns.close().catch(() => undefined);
      }
      return;
    }
    if (this.dns || Date.now() < this.dnsRetryAt) return;
    await this.startDns();
  }

  /**
   * Serves DNS on every network of the project now, for a command about to start containers:
   * a container that looks up a service name as soon as it starts must get an answer. Resolves
   * to the addresses served (none when the network layer has no DNS server).
   */
  async dnsReady(): Promise<string[]> {
    this.touch();
    if (!this.dns) await this.startDns();
    const dns = this.dns;
    await dns?.refresh?.();
    return dns?.addresses?.() ?? [];
  }

  private async startDns(): Promise<void> {
    if (this.dnsStarting) return this.dnsStarting;
    this.dnsStarting = this.launchDns().finally(() => { this.dnsStarting = undefined; });
    return this.dnsStarting;
  }

  private async launchDns(): Promise<void> {
    if (this.dns) return;
    this.dnsRetryAt = Date.now() + 5000;
    let mod: { startDnsServer?: (opts: { project: string; root?: string; env?: NodeJS.ProcessEnv }) => Promise<{ close(): Promise<void>; closed?: Promise<unknown>; refresh?(): Promise<void>; addresses?(): string[] }> };
    try {
      // A literal specifier, so the bundler includes the network layer; it loads only when DNS is wanted.
      mod = await import('../network/index.js');
    } catch (err) {
      this.log(`dns server: cannot load the network layer: ${(err as Error).message}; retrying in 5 s`);
      return;
    }
    if (!mod.startDnsServer) return;
    try {
      const server = await mod.startDnsServer({ project: this.project, env: this.env });
      this.dns = server;
      this.log('dns server started');
      // A server that reports its end is restarted at the next round.
      void server.closed?.then(() => {
        if (this.dns === server) this.dns = undefined;
        this.log('dns server stopped; restarting it');
      }, () => {
        if (this.dns === server) this.dns = undefined;
      });
    } catch (err) {
      this.log(`dns server: ${(err as Error).message}; retrying in 5 s`);
    }
  }

  private checkIdle(): void {
    const now = Date.now();
    if (this.busy()) this.touchedAt = now;
    if (now - this.touchedAt >= this.idleMs && this.onIdle) {
      const onIdle = this.onIdle;
      this.onIdle = undefined;
      onIdle();
    }
  }

  /** Re-arms the idle callback after an exit attempt found new work. */
  rearm(onIdle: () => void): void {
    this.touchedAt = Date.now();
    this.onIdle = onIdle;
  }
}
