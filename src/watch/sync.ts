/**
 * Writing host files into a running container. The container's filesystem is reached through
 * `/proc/<pid>/root` (its own mount namespace, so volumes and tmpfs mounts are seen as the
 * container sees them), or its rootfs mount when it has no process. Every path is resolved
 * inside that root; symlinks never lead out of it. Files land by rename, so a reader in the
 * container sees the old or the new content, never half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, lstat, mkdir, readlink, rename, rm, symlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { resolveInRootfs } from '../runtime/index.js';

/** Owner for files that do not exist yet in the container. */
export interface SyncOwner {
  uid: number;
  gid: number;
}

/** mkdir -p of `containerDir` inside `root`; new directories take `owner`. */
async function ensureDir(root: string, containerDir: string, owner: SyncOwner): Promise<string> {
  let current = '/';
  let host = root;
  for (const part of containerDir.split('/').filter(Boolean)) {
    current = path.posix.join(current, part);
    host = resolveInRootfs(root, current);
    const stats = await lstat(host).catch(() => undefined);
    if (stats?.isDirectory()) continue;
    if (stats) await rm(host, { recursive: true, force: true });
    await mkdir(host, { mode: 0o755 });
    await chown(host, owner.uid, owner.gid);
  }
  return host;
}

/**
 * Copies host file or directory `source` to `containerPath` inside `root`. An existing file keeps
 * its owner; a new one gets `owner`. Directories are created (their contents are synced by
 * their own events). Returns false when the source vanished meanwhile.
 */
export async function syncInto(root: string, source: string, containerPath: string, owner: SyncOwner): Promise<boolean> {
  const stats = await lstat(source).catch(() => undefined);
  if (!stats) return false;
  if (stats.isDirectory()) {
    await ensureDir(root, containerPath, owner);
    return true;
  }
  const parent = await ensureDir(root, path.posix.dirname(containerPath), owner);
  const target = path.join(parent, path.posix.basename(containerPath));
  const existing = await lstat(target).catch(() => undefined);
  const finalOwner = existing && !existing.isDirectory() ? { uid: existing.uid, gid: existing.gid } : owner;
  if (existing?.isDirectory()) await rm(target, { recursive: true, force: true });
  const temp = path.join(parent, `.berth-sync-${randomBytes(6).toString('hex')}`);
  try {
    if (stats.isSymbolicLink()) await symlink(await readlink(source), temp);
    else {
      await copyFile(source, temp);
      await chmod(temp, stats.mode & 0o7777);
    }
    await chown(temp, finalOwner.uid, finalOwner.gid).catch(async (err) => {
      if (!stats.isSymbolicLink()) throw err;
    });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  return true;
}

/** Removes `containerPath` (file or directory tree) inside `root`; a missing path is fine. */
export async function removeFrom(root: string, containerPath: string): Promise<void> {
  const parent = resolveInRootfs(root, path.posix.dirname(containerPath));
  const target = path.join(parent, path.posix.basename(containerPath));
  await rm(target, { recursive: true, force: true });
}

/** True when `root` is usable (the process still runs or the rootfs exists). */
export async function rootUsable(root: string): Promise<boolean> {
  return (await stat(root).catch(() => undefined))?.isDirectory() ?? false;
}
