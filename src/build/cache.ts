/**
 * The build cache: one small JSON file per step key under `<stateRoot>/build-cache/steps/`.
 * A key is the sha256 of the parent step's key, the instruction and its inputs (COPY/ADD
 * source checksums, build args in scope), so a change anywhere invalidates that step and
 * every step after it, and nothing before it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../images/store/index.js';
import type { ImageStore } from '../images/store/index.js';
import type { LayerRef } from './layer.js';

/** What a cached step produced. */
export interface CacheEntry {
  /** The layer, or none when the step changed nothing. */
  layer?: LayerRef;
  /** When the step first ran (kept, so a fully cached rebuild yields the same image id). */
  created: string;
}

/** The cache directory under a state root. */
export function cacheDir(stateRoot: string): string {
  return path.join(stateRoot, 'build-cache');
}

/** Key of a step from its parent's key and what it depends on. */
export function stepKey(parent: string, parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify([parent, ...parts])).digest('hex');
}

/** The step cache of one state root. */
export class BuildCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, 'steps', key.slice(0, 2), `${key}.json`);
  }

  /** The cached result of `key` whose layer is still in `store`, or undefined. */
  async get(key: string, store: ImageStore): Promise<CacheEntry | undefined> {
    const text = await readFile(this.file(key), 'utf8').catch(() => undefined);
    if (!text) return undefined;
    let entry: CacheEntry;
    try {
      entry = JSON.parse(text) as CacheEntry;
    } catch {
      return undefined;
    }
    if (entry.layer) {
      if (!(await store.hasBlob(entry.layer.digest))) return undefined;
      try {
        await store.ensureLayer(entry.layer.digest, entry.layer.mediaType);
      } catch {
        return undefined;
      }
    }
    return entry;
  }

  /** Records the result of step `key`. */
  async put(key: string, entry: CacheEntry): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(entry)}\n`);
  }

  /** Forgets every cached step (`berth builder prune`). */
  async clear(): Promise<void> {
    await rm(path.join(this.dir, 'steps'), { recursive: true, force: true });
  }
}
