/**
 * Observation: what a project's containers are right now, from their records, run info and the
 * runtime's live state. Nothing is cached; every command observes afresh.
 *
 * Reading the runtime's state must be cheap for large stacks: under berth-runtime the state
 * directory is read directly (state.json, started, exit.json, /proc: no process spawned), and
 * `state` is asked only for the rare moments only the runtime can judge (the process just died
 * and its monitor has not recorded the exit yet). Under runc and crun one `list` answers for
 * every container of the project.
 */
import { isNotFoundError, type RuntimeDriver } from '../runtime/index.js';
import type { OciState } from '../runtime/oci-types.js';
import { berthRuntimeStatus } from '../supervisor/runtime-status.js';
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

/** The state `berth-runtime state` would print, read from its state directory; undefined when only the runtime can tell. */
function berthStateFromFiles(driver: RuntimeDriver, containerId: string): { known: true; state: OciState | undefined } | undefined {
  const fast = berthRuntimeStatus(driver.root, containerId);
  if (!fast) return undefined;
  if (fast.status === 'missing') return { known: true, state: undefined };
  return {
    known: true,
    state: {
      ociVersion: '1.2.0', id: containerId, status: fast.status, pid: fast.pid ?? 0, bundle: '',
      startedAt: fast.startedAt, exitCode: fast.exitCode, finishedAt: fast.finishedAt,
    },
  };
}

/** The runtime state of one container, or undefined when the runtime does not know it. */
export async function runtimeState(driver: RuntimeDriver, containerId: string): Promise<OciState | undefined> {
  if (driver.kind === 'berth') {
    const fast = berthStateFromFiles(driver, containerId);
    if (fast) return fast.state;
  }
  try {
    return await driver.state(containerId);
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/**
 * Runtime states of many containers, each under its own driver, with as few runtime processes
 * as possible: berth-runtime's files are read; runc/crun are asked once per driver with `list`.
 */
export async function runtimeStates(containers: ReadonlyArray<{ id: string; driver: RuntimeDriver }>): Promise<Map<string, OciState | undefined>> {
  const states = new Map<string, OciState | undefined>();
  const listed = new Map<RuntimeDriver, Promise<Map<string, OciState>> >();
  await Promise.all(containers.map(async ({ id, driver }) => {
    if (driver.kind === 'berth') {
      states.set(id, await runtimeState(driver, id));
      return;
    }
    let list = listed.get(driver);
    if (!list) {
      list = driver.list().then((entries) => new Map(entries.map((e) => [e.id, { ociVersion: '1.0.2', id: e.id, status: e.status as OciState['status'], pid: e.pid, bundle: e.bundle }])));
      listed.set(driver, list);
    }
    const entry = (await list).get(id);
    // A stopped container's exit code only `state` knows (berth-runtime extras); runc/crun have none.
    states.set(id, entry);
  }));
  return states;
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

/** Observes every container of a project (see ObserveOptions for which); `driverFor` picks each container's runtime. */
export async function observeProject(driverFor: (record: ContainerRecord) => RuntimeDriver, projectName: string, options: ObserveOptions = {}): Promise<ObservedContainer[]> {
  const records = listRecords(projectName, options.env).filter((record) => options.oneoff || !record.oneoff);
  const states = await runtimeStates(records.map((record) => ({ id: record.id, driver: driverFor(record) })));
  const observed = records.map((record) => observeOne(record, readRunInfo(record.project, record.name, options.env), states.get(record.id)));
  if (options.all === false) return observed.filter((c) => c.status === 'running' || c.status === 'paused' || c.status === 'restarting');
  return observed;
}
