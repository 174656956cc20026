/** The store's index file `images.json`: refs, dangling images and last-pull times. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from '../../errors.js';
import { writeFileAtomic } from './files.js';

/** Contents of images.json. */
export interface StoreState {
  version: 1;
  refs: Record<string, string>;
  dangling: string[];
  pulls: Record<string, string>;
}

function statePath(root: string): string {
  return path.join(root, 'images.json');
}

/** Reads images.json (empty state when missing). */
export async function readStoreState(root: string): Promise<StoreState> {
  try {
    const parsed = JSON.parse(await readFile(statePath(root), 'utf8')) as Partial<StoreState>;
    return { version: 1, refs: parsed.refs ?? {}, dangling: parsed.dangling ?? [], pulls: parsed.pulls ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, refs: {}, dangling: [], pulls: {} };
    throw new ImageError(`image store index "${statePath(root)}" is unreadable`, undefined, { cause: err });
  }
}

/** Writes images.json atomically; callers hold the store lock. */
export async function writeStoreState(root: string, state: StoreState): Promise<void> {
  await writeFileAtomic(statePath(root), `${JSON.stringify(state, null, 2)}\n`);
}

/** The refs in `state` naming `manifestDigest`. */
export function refsOf(state: StoreState, manifestDigest: string): string[] {
  return Object.keys(state.refs).filter((ref) => state.refs[ref] === manifestDigest);
}
