/**
 * The engine's state on disk: one directory per project, one per container, JSON files written
 * atomically (temp file + rename) so a killed berth never leaves half a record. The layout is
 * described in types.ts. Every function takes an optional environment so a library user can
 * point one Engine at another BERTH_ROOT than the process's.
 */
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setImageUsageProvider } from '../images/store/in-use.js';
import { stateRoot } from '../paths.js';
import type { ContainerRecord, ContainerRunInfo, ProjectRecord } from './types.js';
import { compareStrings } from '../compare.js';
import { writeJsonAtomic } from '../atomic-write.js';

export { writeJsonAtomic };

/** `<stateRoot>/projects`. */
export function projectsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateRoot(env), 'projects');
}

/** `<stateRoot>/projects/<name>`. */
export function projectDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(projectsRoot(env), name);
}

/** `<stateRoot>/projects/<project>/containers/<name>`: record, run info, bundle and logs of one container. */
export function containerDir(project: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(projectDir(project, env), 'containers', name);
}

function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // Only a torn write could do this, and writes are atomic: treat as absent rather than wedging every command.
    return undefined;
  }
}

/** Names of the projects berth has state for, sorted. */
export function listProjects(env: NodeJS.ProcessEnv = process.env): string[] {
  try {
    return readdirSync(projectsRoot(env), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** The project's record, if berth ever created something for it. */
export function readProjectRecord(name: string, env: NodeJS.ProcessEnv = process.env): ProjectRecord | undefined {
  return readJson<ProjectRecord>(path.join(projectDir(name, env), 'project.json'));
}

/** Writes project.json. */
export function writeProjectRecord(record: ProjectRecord, env: NodeJS.ProcessEnv = process.env): void {
  writeJsonAtomic(path.join(projectDir(record.name, env), 'project.json'), record);
}

/** Names of the container directories of a project (records or half-created ones), sorted. */
export function listContainerDirs(project: string, env: NodeJS.ProcessEnv = process.env): string[] {
  try {
    return readdirSync(path.join(projectDir(project, env), 'containers'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Every container record of a project, sorted by service then number then name. */
export function listRecords(project: string, env: NodeJS.ProcessEnv = process.env): ContainerRecord[] {
  const records: ContainerRecord[] = [];
  for (const name of listContainerDirs(project, env)) {
    const record = readRecord(project, name, env);
    if (record) records.push(record);
  }
  return records.sort((a, b) => compareStrings(a.service, b.service) || a.number - b.number || compareStrings(a.name, b.name));
}

/** One container's record, or undefined when there is none (or it is still being created). */
export function readRecord(project: string, name: string, env: NodeJS.ProcessEnv = process.env): ContainerRecord | undefined {
  return readJson<ContainerRecord>(path.join(containerDir(project, name, env), 'record.json'));
}

/** Writes record.json of a container (once, at create). */
export function writeRecord(record: ContainerRecord, env: NodeJS.ProcessEnv = process.env): void {
  writeJsonAtomic(path.join(containerDir(record.project, record.name, env), 'record.json'), record);
}

/** The container's mutable facts; a container never started has `{ restartCount: 0 }`. */
export function readRunInfo(project: string, name: string, env: NodeJS.ProcessEnv = process.env): ContainerRunInfo {
  return readJson<ContainerRunInfo>(path.join(containerDir(project, name, env), 'run.json')) ?? { restartCount: 0 };
}

/**
 * Replaces run.json with `update(current)`; returns the new info. Does nothing when the
 * container's directory is gone.
 *
 * The engine (start, stop) and the supervisor (exits, restarts, health) both rewrite run.json,
 * from different processes. The read-modify-write runs under a short per-container lock file
 * (`run.json.lock`, created with O_EXCL, holding the owner's pid and start time) so one writer
 * never loses another's fields. A lock whose owner died is taken over; one held longer than
 * BERTH_RUNINFO_LOCK_MS (default 2 s: a sane holder keeps it well under a millisecond) by a
 * stopped process is taken over too, so a frozen writer never wedges the others.
 */
export function updateRunInfo(project: string, name: string, update: (info: ContainerRunInfo) => ContainerRunInfo, env: NodeJS.ProcessEnv = process.env): ContainerRunInfo {
  const dir = containerDir(project, name, env);
  const unlock = lockRunInfo(dir, env);
  try {
    const next = update(readRunInfo(project, name, env));
    if (unlock === undefined) return next; // the directory is gone: nothing to write
    writeJsonAtomic(path.join(dir, 'run.json'), next);
    return next;
  } finally {
    unlock?.();
  }
}

/** Containers whose run.json this process holds the lock of (the lock is reentrant). */
const runInfoLocks = new Set<string>();
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Takes `<dir>/run.json.lock`; returns its release, a no-op when this process already holds it,
 * or undefined when the container directory does not exist.
 */
function lockRunInfo(dir: string, env: NodeJS.ProcessEnv): (() => void) | undefined {
  const file = path.join(dir, 'run.json.lock');
  if (runInfoLocks.has(file)) return () => undefined;
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`;
  const staleMs = Number(env.BERTH_RUNINFO_LOCK_MS ?? 2000);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code !== 'EEXIST') throw err;
      let owner: string;
      let age = 0;
      try {
        owner = readFileSync(file, 'utf8');
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      const [pid, start] = owner.trim().split(' ');
      // An empty file is an owner between open and write: wait for it like any other.
      const ownerStart = owner.trim() === '' ? '' : processStartTime(Number(pid));
      const dead = ownerStart === undefined || (ownerStart !== '' && start !== undefined && start !== '' && ownerStart !== start);
      if (dead || age > staleMs) {
        try {
          // Only the stale lock read above is removed, never a fresh one that replaced it.
          if (readFileSync(file, 'utf8') === owner) unlinkSync(file);
        } catch {
          // someone else removed it
        }
        continue;
      }
      Atomics.wait(pause, 0, 0, Math.min(1 + attempt, 10));
      continue;
    }
    try {
      writeSync(fd, me);
    } finally {
      closeSync(fd);
    }
    runInfoLocks.add(file);
    return () => {
      runInfoLocks.delete(file);
      try {
        // A lock taken over from a frozen holder is not this process's to remove.
        if (readFileSync(file, 'utf8') === me) unlinkSync(file);
      } catch {
        // gone with its directory
      }
    };
  }
}

/** Deletes a container's directory (record, run info, bundle, logs). */
export function removeContainerDir(project: string, name: string, env: NodeJS.ProcessEnv = process.env): void {
  rmSync(containerDir(project, name, env), { recursive: true, force: true });
}

/** Marker of a container being created; lets a later command undo a create that was killed half-way. */
export interface PendingCreate {
  id: string;
  name: string;
  service: string;
  /** Set once the network layer attached it, so the undo can detach. */
  network?: ContainerRecord['network'];
  /** pid of the berth process creating it. */
  pid: number;
  /** Runtime binary the container is being created with. */
  runtime?: string;
}

/** Reads pending.json of a container directory. */
export function readPending(project: string, name: string, env: NodeJS.ProcessEnv = process.env): PendingCreate | undefined {
  return readJson<PendingCreate>(path.join(containerDir(project, name, env), 'pending.json'));
}

/** Writes pending.json. */
export function writePending(project: string, pending: PendingCreate, env: NodeJS.ProcessEnv = process.env): void {
  writeJsonAtomic(path.join(containerDir(project, pending.name, env), 'pending.json'), pending);
}

/** Removes pending.json once the record is written. */
export function clearPending(project: string, name: string, env: NodeJS.ProcessEnv = process.env): void {
  rmSync(path.join(containerDir(project, name, env), 'pending.json'), { force: true });
}

/** Image id → names of the containers (of every project) created from it. */
export async function imageUsage(env: NodeJS.ProcessEnv = process.env): Promise<ReadonlyMap<string, readonly string[]>> {
  const usage = new Map<string, string[]>();
  for (const project of listProjects(env)) {
    for (const record of listRecords(project, env)) {
      if (!record.imageId) continue;
      const names = usage.get(record.imageId) ?? [];
      names.push(record.name);
      usage.set(record.imageId, names);
    }
  }
  return usage;
}

/** Registers imageUsage() with the image store, so image gc, `rmi` and `image prune` spare images containers use. */
export function registerImageUsage(env: NodeJS.ProcessEnv = process.env): void {
  setImageUsageProvider(() => imageUsage(env));
}
