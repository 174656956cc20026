/**
 * The per-project lock: `<stateRoot>/projects/<project>/lock`, created exclusively and holding
 * the owner's pid, its start time and the berth command it runs. A lock whose owner is dead (or
 * whose pid now belongs to another process) is taken over, so a berth killed with -9 never
 * wedges its project. Reentrant within one process: the engine's own nested calls (up → create
 * → start) take it once.
 */
import { mkdirSync, openSync, readFileSync, rmSync, rmdirSync, writeSync, closeSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../errors.js';
import { processStartTime, projectDir } from './records.js';

export { processStartTime };

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  /** Start time of the pid (clock ticks since boot, /proc/<pid>/stat field 22): guards against pid reuse. */
  start?: string;
  command: string;
  since: string;
}

/** Options of withProjectLock(). */
export interface LockOptions {
  env?: NodeJS.ProcessEnv;
  /** The berth command taking the lock, for the message others see (default: from process.argv). */
  command?: string;
  /** How long to wait for another holder before failing (default BERTH_LOCK_WAIT_MS or 10 s). */
  waitMs?: number;
}

const held = new Map<string, number>();

function ownerAlive(owner: LockOwner): boolean {
  const start = processStartTime(owner.pid);
  if (start === undefined) return false;
  return owner.start === undefined || owner.start === start;
}

const valueFlags = new Set(['-f', '--file', '-p', '--project-name', '--profile', '--env-file', '--project-directory', '--ansi', '--progress', '--runtime']);

/** The berth subcommand this process runs (`up`, `down`, ...), guessed from argv; `api` for library use. */
export function currentCommand(argv: readonly string[] = process.argv): string {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i];
    if (valueFlags.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return arg;
  }
  return 'api';
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

async function acquire(name: string, file: string, options: LockOptions): Promise<void> {
  const waitMs = options.waitMs ?? Number(options.env?.BERTH_LOCK_WAIT_MS ?? process.env.BERTH_LOCK_WAIT_MS ?? 10_000);
  const deadline = Date.now() + waitMs;
  const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid), command: options.command ?? currentCommand(), since: new Date().toISOString() };
  for (;;) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(file);
    if (!owner) {
      // Just created by someone who has not written it yet, or torn by a crash between open and write.
      await sleep(50);
      const again = readOwner(file);
      if (!again) rmSync(file, { force: true });
      continue;
    }
    if (!ownerAlive(owner)) {
      // Re-read right before removing: another taker may have replaced the stale lock already.
      const current = readOwner(file);
      if (current && current.pid === owner.pid && current.since === owner.since) rmSync(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new BerthError(`project "${name}" is locked by berth ${owner.command} (pid ${owner.pid})`, {
        hint: `wait for that command to finish, or stop it (kill ${owner.pid}); the lock is ${file}`,
      });
    }
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `fn` holding the project's lock. Nested calls in the same process share the lock. On
 * release the project directory is removed when nothing else is left in it (after `down`).
 */
export async function withProjectLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const dir = projectDir(name, options.env);
  const file = path.join(dir, 'lock');
  const count = held.get(file) ?? 0;
  if (count === 0) await acquire(name, file, options);
  held.set(file, count + 1);
  try {
    return await fn();
  } finally {
    const left = (held.get(file) ?? 1) - 1;
    if (left > 0) held.set(file, left);
    else {
      held.delete(file);
      rmSync(file, { force: true });
      removeIfEmpty(dir);
    }
  }
}

/** True when this process holds the project's lock. */
export function holdsProjectLock(name: string, env?: NodeJS.ProcessEnv): boolean {
  return (held.get(path.join(projectDir(name, env), 'lock')) ?? 0) > 0;
}

function removeIfEmpty(dir: string): void {
  try {
    const containers = path.join(dir, 'containers');
    try {
      if (readdirSync(containers).length === 0) rmdirSync(containers);
    } catch {
      // no containers dir
    }
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Another process wrote into it meanwhile: keep it.
  }
}
