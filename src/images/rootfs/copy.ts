/**
 * The copy snapshotter: merges layer directories into one plain directory when overlayfs cannot
 * be used (not root, no overlay module, state dir on a filesystem overlayfs refuses as upper).
 * It applies the same rules overlayfs does: an upper entry replaces a lower one of any type,
 * whiteouts delete, opaque directories hide everything below. Files are reflinked when the
 * filesystem can (btrfs, xfs), copied otherwise.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { applyXattrs, opaqueXattr, readXattrsRecursive, type XattrRecord } from '../layers/index.js';

const execFileAsync = promisify(execFile);

/** Copies `lowerDirs` (top-most first, as for overlayfs) into `target`, bottom layer first. */
export async function copyLayers(lowerDirs: readonly string[], target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  const dirMeta = new Map<string, { mode: number; mtime: Date }>();
  for (const layer of [...lowerDirs].reverse()) {
    const attrs = await readXattrsRecursive(layer);
    const opaque = new Set(attrs.filter((a) => a.name === opaqueXattr && a.value.toString() === 'y').map((a) => (a.path === '.' ? '' : a.path)));
    const copied: XattrRecord[] = attrs.filter((a) => !a.name.startsWith('trusted.overlay.'));
    const inodes = new Map<string, string>();
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(rel ? path.join(layer, rel) : layer)).sort();
      for (const name of names) {
        const childRel = rel ? `${rel}/${name}` : name;
        const source = path.join(layer, childRel);
        const dest = path.join(target, childRel);
        const stats = await lstat(source);
        const existing = await lstat(dest).catch(() => undefined);
        if (stats.isCharacterDevice() && stats.rdev === 0) {
          await rm(dest, { recursive: true, force: true });
          continue;
        }
        if (stats.isDirectory()) {
          if (existing && (!existing.isDirectory() || opaque.has(childRel))) await rm(dest, { recursive: true, force: true });
          if (!existing || !existing.isDirectory() || opaque.has(childRel)) {
            for (const key of [...dirMeta.keys()]) if (key.startsWith(`${childRel}/`)) dirMeta.delete(key);
            await mkdir(dest, { mode: 0o755 });
          }
          if (isRoot) await lchown(dest, stats.uid, stats.gid);
          dirMeta.set(childRel, { mode: stats.mode & 0o7777, mtime: stats.mtime });
          await walk(childRel);
          continue;
        }
        if (existing) await rm(dest, { recursive: true, force: true });
        const inodeKey = `${stats.dev}:${stats.ino}`;
        const firstLink = stats.nlink > 1 ? inodes.get(inodeKey) : undefined;
        if (firstLink) {
          await link(firstLink, dest);
          continue;
        }
        if (stats.isFile()) {
          await copyFile(source, dest, constants.COPYFILE_FICLONE);
          if (stats.nlink > 1) inodes.set(inodeKey, dest);
        } else if (stats.isSymbolicLink()) {
          await symlink(await readlink(source), dest);
        } else {
          const kind = stats.isFIFO() ? ['p'] : [stats.isCharacterDevice() ? 'c' : 'b', String(Math.floor(stats.rdev / 256) & 0xfff), String((stats.rdev & 0xff) | ((stats.rdev >> 12) & 0xfff00))];
          if (stats.isSocket()) continue;
          await execFileAsync('mknod', [dest, ...kind]);
        }
        if (isRoot) await lchown(dest, stats.uid, stats.gid);
        if (!stats.isSymbolicLink()) await chmod(dest, stats.mode & 0o7777);
        await lutimes(dest, stats.atime, stats.mtime);
      }
    };
    if (opaque.has('')) {
      for (const name of await readdir(target)) await rm(path.join(target, name), { recursive: true, force: true });
    }
    await walk('');
    if (copied.length) await applyXattrs(target, copied).catch((err: Error) => process.stderr.write(`warning: some extended attributes were not copied: ${err.message}\n`));
  }
  for (const [rel, meta] of [...dirMeta].sort((a, b) => b[0].split('/').length - a[0].split('/').length)) {
    const dest = path.join(target, rel);
    await chmod(dest, meta.mode);
    await utimes(dest, meta.mtime, meta.mtime);
  }
}
