/**
 * Cheap container status for the supervisor's poll loop. Under berth-runtime it reads the
 * runtime's state directory directly (state.json, started, exit.json, /proc/<pid>/stat and the
 * cgroup freezer: a few small reads, no process spawned), deciding exactly as `berth-runtime
 * state` does. Other runtimes (runc, crun) are asked with `state`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupMountRoot, cgroupVersion } from '../runtime/cgroup-stats.js';
import { isNotFoundError, type RuntimeDriver } from '../runtime/driver.js';

/** What the supervisor needs to know about one container right now. */
export interface RuntimeStatus {
  status: 'missing' | 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid?: number;
  startedAt?: string;
  exitCode?: number;
  finishedAt?: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Start time of a process (field 22 of /proc/<pid>/stat), undefined when it is gone. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Status of container `containerId` under `driver`. */
export async function runtimeStatus(driver: RuntimeDriver, containerId: string): Promise<RuntimeStatus> {
  if (driver.kind === 'berth') {
    const fast = berthRuntimeStatus(driver.root, containerId);
    if (fast) return fast;
  }
  try {
    const state = await driver.state(containerId);
    return { status: state.status, pid: state.pid || undefined, startedAt: state.startedAt, exitCode: state.exitCode, finishedAt: state.finishedAt };
  } catch (err) {
    if (isNotFoundError(err)) return { status: 'missing' };
    throw err;
  }
}

/** Reads berth-runtime's files; undefined when they are in a state only the runtime can judge (process gone, exit not recorded yet). */
export function berthRuntimeStatus(root: string, containerId: string): RuntimeStatus | undefined {
  const dir = path.join(root, containerId);
  const state = readJson<{ pid?: number; startTime?: number | string; cgroupPath?: string; cgroupRoot?: string }>(path.join(dir, 'state.json'));
  if (!state) return existsSync(dir) ? { status: 'creating' } : { status: 'missing' };
  const startedAt = readText(path.join(dir, 'started')) || undefined;
  const exit = readJson<{ exitCode?: number; finishedAt?: string }>(path.join(dir, 'exit.json'));
  if (exit) return { status: 'stopped', startedAt, exitCode: exit.exitCode, finishedAt: exit.finishedAt };
  const pid = state.pid ?? 0;
  if (pid <= 0) return { status: 'creating' };
  if (processStartTime(pid) !== String(state.startTime)) return undefined;
  if (existsSync(path.join(dir, 'exec.fifo'))) return { status: 'created', pid };
  if (state.cgroupPath && cgroupFrozen(state.cgroupRoot || cgroupMountRoot, state.cgroupPath)) return { status: 'paused', pid, startedAt };
  return { status: 'running', pid, startedAt };
}

/** Whether the container's cgroup is frozen (paused), read as berth-runtime reads it. */
function cgroupFrozen(root: string, cgroupPath: string): boolean {
  if (cgroupVersion(root) === 2) return /frozen 1/.test(readText(path.join(root, cgroupPath, 'cgroup.events')) ?? '');
  return /^(FROZEN|FREEZING)/.test(readText(path.join(root, 'freezer', cgroupPath, 'freezer.state')) ?? '');
}
