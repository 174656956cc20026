/** Small filesystem helpers of the image store: digests to paths, atomic writes, liveness of pids. */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from '../../errors.js';
import { processAlive } from '../../processes.js';

export { processAlive };

/** Digest algorithms the store accepts. */
export const supportedAlgorithms = new Set(['sha256', 'sha512']);

/** Splits `sha256:<hex>` into algorithm and hex; ImageError for anything else. */
export function splitDigest(digest: string): { algorithm: string; hex: string } {
  const match = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  if (!match || !supportedAlgorithms.has(match[1]) || match[2].length !== (match[1] === 'sha256' ? 64 : 128)) {
    throw new ImageError(`invalid digest "${digest}"`, undefined, { hint: 'digests look like "sha256:" followed by 64 hex digits' });
  }
  return { algorithm: match[1], hex: match[2] };
}

/** True when `file` exists (without following a final symlink). */
export async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Bytes of regular files under `target` (not following symlinks). */
export async function diskUsage(target: string): Promise<number> {
  let total = 0;
  const stack = [target];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const current = stack.pop()!;
    const info = await lstat(current).catch(() => undefined);
    if (!info) continue;
    total += info.isFile() ? info.size : 0;
    if (info.isDirectory()) for (const name of await readdir(current).catch(() => [])) stack.push(path.join(current, name));
  }
  return total;
}

/** Writes `data` to `file` atomically (temp file in the same directory, then rename). */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, file);
}

