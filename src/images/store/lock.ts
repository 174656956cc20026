/**
 * A cross-process lock: a lock file holding the owner's pid, created with O_EXCL. A lock whose
 * owner is gone (crashed berth) is stale and taken over, so a kill -9 never wedges the store.
 * Within one process, callers queue on a promise chain, and a nested call from inside the lock
 * runs at once instead of deadlocking on itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { ImageError } from '../../errors.js';
import { processAlive } from '../../processes.js';

const held = new AsyncLocalStorage<Set<string>>();
const queues = new Map<string, Promise<unknown>>();


async function tryCreate(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx', 0o644);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Removes `file` if its owner is dead; a just-created, still empty file counts as alive for 10 s. */
async function clearIfStale(file: string): Promise<void> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await readFile(file, 'utf8');
    mtimeMs = (await stat(file)).mtimeMs;
  } catch {
    return;
  }
  const pid = Number.parseInt(text.trim(), 10);
  const stale = Number.isInteger(pid) && pid > 0 ? !processAlive(pid) : Date.now() - mtimeMs > 10_000;
  if (!stale) return;
  // Move it aside first so two processes that both saw it stale cannot remove a fresh lock.
  const aside = `${file}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const movedText = await readFile(aside, 'utf8').catch(() => '');
  if (movedText === text) await rm(aside, { force: true });
  else await rename(aside, file).catch(() => rm(aside, { force: true }));
}

async function acquire(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(file)) return;
    await clearIfStale(file);
    if (Date.now() > deadline) {
      const owner = (await readFile(file, 'utf8').catch(() => '?')).trim();
      throw new ImageError(`image store is locked by process ${owner} (lock file "${file}")`, undefined, {
        hint: 'wait for the other berth command to finish; if no berth is running, remove the lock file',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(25 * (attempt + 1), 250)));
  }
}

/** Runs `fn` while holding the lock file `file`; waits up to `timeoutMs` for another holder. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  if (held.getStore()?.has(file)) return fn();
  const previous = queues.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => { release = resolve; });
  const tail = previous.then(() => mine);
  queues.set(file, tail);
  await previous;
  try {
    await acquire(file, timeoutMs);
    try {
      const set = new Set(held.getStore() ?? []);
      set.add(file);
      return await held.run(set, fn);
    } finally {
      await rm(file, { force: true });
    }
  } finally {
    release();
    if (queues.get(file) === tail) queues.delete(file);
  }
}
