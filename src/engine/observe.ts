/**
 * Observation: what a project's containers are right now, from their records, run info and the
 * runtime's live state. Nothing is cached; every command observes afresh.
 */
import { isNotFoundError, type RuntimeDriver } from '../runtime/index.js';
import type { OciState } from '../runtime/oci-types.js';
import { listRecords, readRunInfo } from './records.js';
import type { ContainerRecord, ContainerStatus, ObservedContainer } from './types.js';

/** Options of observe(). */
export interface ObserveOptions {
  /** false: only running, paused and restarting containers (like `ps` without -a). Default true: all. */
  all?: boolean;
  /** Include one-off containers (`berth run`). Default false. */
  oneoff?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The runtime state of one container, or undefined when the runtime does not know it. */
export async function runtimeState(driver: RuntimeDriver, containerId: string): Promise<OciState | undefined> {
  try {
    return await driver.state(containerId);
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/** Combines a record, its run info and the runtime state into what `ps` shows. */
export function observeOne(record: ContainerRecord, run: ObservedContainer['run'], state: OciState | undefined): ObservedContainer {
  const merged = { ...run };
  let status: ContainerStatus;
  let exitCode: number | undefined;
  let pid: number | undefined;
  if (!state) {
    // The runtime forgot it (deleted after it stopped, or a reboot): its last known facts stand.
    status = run.startedAt ? 'exited' : 'created';
    exitCode = run.exitCode;
  } else {
    switch (state.status) {
      case 'creating':
      case 'created':
        // A container that ran before and was re-created by the runtime but not started yet.
        status = run.startedAt && run.finishedAt ? 'exited' : 'created';
        exitCode = run.exitCode;
        break;
      case 'running':
        status = 'running';
        pid = state.pid || undefined;
        break;
      case 'paused':
        status = 'paused';
        pid = state.pid || undefined;
        break;
      default:
        status = 'exited';
        exitCode = state.exitCode ?? run.exitCode;
        if (state.finishedAt && !run.finishedAt) merged.finishedAt = state.finishedAt;
        if (state.finishedAt && run.finishedAt && state.finishedAt > run.finishedAt) merged.finishedAt = state.finishedAt;
        if (exitCode !== undefined) merged.exitCode = exitCode;
    }
  }
  if (status === 'exited' && run.restartingAt) status = 'restarting';
  return { record, run: merged, status, pid, exitCode };
}

/** Observes every container of a project (see ObserveOptions for which). */
export async function observeProject(driver: RuntimeDriver, projectName: string, options: ObserveOptions = {}): Promise<ObservedContainer[]> {
  const records = listRecords(projectName, options.env).filter((record) => options.oneoff || !record.oneoff);
  const observed = await Promise.all(records.map(async (record) => {
    const state = await runtimeState(driver, record.id);
    return observeOne(record, readRunInfo(record.project, record.name, options.env), state);
  }));
  if (options.all === false) return observed.filter((c) => c.status === 'running' || c.status === 'paused' || c.status === 'restarting');
  return observed;
}
