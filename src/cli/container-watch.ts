/**
 * Watches a project's containers for `logs -f` and attached `up`: new containers (scale, recreate),
 * starts and exits. It polls the records and the runtime's state files every half second (reads
 * of small files under berth-runtime, no process spawned), so it needs no daemon and no events.
 */
import { listRecords, readRunInfo } from '../engine/records.js';
import type { ContainerRecord, ContainerRunInfo } from '../engine/types.js';
import type { RuntimeDriver } from '../runtime/driver.js';
import { shouldRestart } from '../supervisor/restart-policy.js';
import { runtimeStatus } from '../supervisor/runtime-status.js';

/** One container as the watcher last saw it. */
export interface WatchedContainer {
  record: ContainerRecord;
  run: ContainerRunInfo;
  /** Running, paused or being created. */
  alive: boolean;
  /** Exited and its restart policy will bring it back (the supervisor restarts it). */
  willRestart: boolean;
  exitCode?: number;
  /** Identifies one run: a restart changes it. */
  runKey: string;
}

/** What the watcher reports. */
export interface ContainerWatchHandlers {
  /** A container appeared (also called for every container at the first poll). */
  onContainer?(container: WatchedContainer): void;
  /** A run of a container ended. */
  onExit?(container: WatchedContainer): void | Promise<void>;
  /** After each poll, with every selected container. */
  onPoll?(containers: WatchedContainer[]): void | Promise<void>;
}

/** Options of watchContainers. */
export interface ContainerWatchOptions {
  driver: RuntimeDriver;
  project: string;
  /** Which containers matter (default: all but one-offs). */
  select?: (record: ContainerRecord) => boolean;
  env?: NodeJS.ProcessEnv;
  intervalMs?: number;
}

/** Observes one container cheaply. */
export async function watchOne(driver: RuntimeDriver, record: ContainerRecord, env?: NodeJS.ProcessEnv): Promise<WatchedContainer> {
  const run = readRunInfo(record.project, record.name, env);
  const state = await runtimeStatus(driver, record.id).catch(() => ({ status: 'missing' as const, exitCode: undefined, startedAt: undefined }));
  const alive = state.status === 'running' || state.status === 'paused' || state.status === 'creating';
  // Created again after having run: a restart (or `start`) is between re-create and start.
  const between = state.status === 'created' && run.startedAt !== undefined;
  const ended = !alive && state.status !== 'created' && (state.status !== 'missing' || run.startedAt !== undefined);
  const exitCode = ended ? state.exitCode ?? run.exitCode : undefined;
  const willRestart = between || (ended && (run.restartingAt !== undefined || shouldRestart(record.restart, exitCode, run)));
  // One run of the container: the runtime's start time changes with every (re)start.
  const startedAt = state.startedAt ?? run.startedAt ?? '';
  return { record, run, alive, willRestart, exitCode, runKey: `${record.id}@${record.created}@${startedAt}` };
}

/** Polls until stop(); handlers run in order and one poll waits for the previous one. */
export function watchContainers(options: ContainerWatchOptions, handlers: ContainerWatchHandlers): { stop(): void; poll(): Promise<WatchedContainer[]> } {
  const select = options.select ?? ((record: ContainerRecord) => !record.oneoff);
  const known = new Set<string>();
  const reportedExits = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<WatchedContainer[]> = Promise.resolve([]);

  const pollOnce = async (): Promise<WatchedContainer[]> => {
    const records = listRecords(options.project, options.env).filter(select);
    const containers = await Promise.all(records.map((record) => watchOne(options.driver, record, options.env)));
    for (const container of containers) {
      const identity = `${container.record.id}@${container.record.created}`;
      if (!known.has(identity)) {
        known.add(identity);
        handlers.onContainer?.(container);
      }
      if (!container.alive && container.exitCode !== undefined && !reportedExits.has(container.runKey)) {
        reportedExits.add(container.runKey);
        await handlers.onExit?.(container);
      }
    }
    await handlers.onPoll?.(containers);
    return containers;
  };

  const poll = () => {
    chain = chain.then(pollOnce, pollOnce);
    return chain;
  };
  const loop = () => {
    if (stopped) return;
    poll().catch(() => undefined).finally(() => { if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 500); });
  };
  loop();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    poll,
  };
}
