/**
 * `berth cp`: files between the host and a container, through the host's view of the
 * container's filesystem. A running container is reached at /proc/<pid>/root (so its volumes,
 * binds and tmpfs mounts are visible); a stopped one through its rootfs, with bind and volume
 * mounts mapped to their host sources. Every container path is resolved component by component
 * with symlinks re-rooted inside the container (resolveInRootfs), and writes never follow a
 * symlink found in the container: an existing symlink in the way is replaced, files are opened
 * with O_NOFOLLOW | O_EXCL.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync, closeSync, constants, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync,
  utimesSync, writeSync, existsSync, readSync, realpathSync, statSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../errors.js';
import { resolveInRootfs, type OciConfig } from '../runtime/index.js';
import type { ObservedContainer } from './types.js';

/** Options of a copy. */
export interface CopyOptions {
  /** Keep uid/gid of the source (`-a`); otherwise files belong to root in the container, to the caller on the host. */
  archive?: boolean;
  /** Follow a symlink given as the source (`-L`). */
  followLink?: boolean;
}

/** Where a container path lives on the host: its root and the resolved host path. */
export function containerHostPath(container: ObservedContainer, containerPath: string, options: { followLast?: boolean } = {}): string {
  if (!containerPath.startsWith('/')) containerPath = `/${containerPath}`;
  const normalized = path.posix.normalize(containerPath);
  let root = container.record.rootfs;
  let rest = normalized;
  if (container.pid && (container.status === 'running' || container.status === 'paused')) {
    root = `/proc/${container.pid}/root`;
  } else {
    let config: OciConfig | undefined;
    try {
      config = JSON.parse(readFileSync(path.join(container.record.bundle, 'config.json'), 'utf8')) as OciConfig;
    } catch {
      config = undefined;
    }
    let best = '';
    for (const mount of config?.mounts ?? []) {
      if (mount.type !== 'bind' || !mount.source) continue;
      const destination = mount.destination.replace(/\/+$/, '') || '/';
      if ((normalized === destination || normalized.startsWith(`${destination}/`)) && destination.length > best.length) {
        best = destination;
        root = mount.source;
        rest = normalized.slice(destination.length) || '/';
      }
    }
  }
  if (options.followLast || rest === '/') return resolveInRootfs(root, rest);
  // Resolve the parent; keep the last component itself (a symlink is copied as a symlink).
  const parent = resolveInRootfs(root, path.posix.dirname(rest));
  const base = path.posix.basename(rest);
  if (base === '..') return path.dirname(parent);
  return base === '.' ? parent : path.join(parent, base);
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    // /proc/<pid>/root is a magic link to the container's root directory: look through it.
    return /^\/proc\/\d+\/root\/?$/.test(file) ? statSync(file) : lstatSync(file);
  } catch {
    return undefined;
  }
}

/** Copies `source` (a host path that is safe to read) to `dest` without following symlinks at the destination. */
function copyTree(source: string, dest: string, owner: (stats: Stats) => { uid: number; gid: number }): void {
  const stats = lstatSync(source);
  const existing = statOrUndefined(dest);
  if (existing && (existing.isSymbolicLink() || existing.isDirectory() !== stats.isDirectory())) rmSync(dest, { recursive: true, force: true });
  const { uid, gid } = owner(stats);
  if (stats.isDirectory()) {
    if (!existing || existing.isSymbolicLink() || !existing.isDirectory()) mkdirSync(dest, { mode: 0o700 });
    for (const name of readdirSync(source)) copyTree(path.join(source, name), path.join(dest, name), owner);
    lchownSync(dest, uid, gid);
    chmodSync(dest, stats.mode & 0o7777);
    utimesSync(dest, stats.atime, stats.mtime);
  } else if (stats.isSymbolicLink()) {
    if (existing && !existing.isDirectory()) rmSync(dest, { force: true });
    symlinkSync(readlinkSync(source), dest);
    lchownSync(dest, uid, gid);
  } else if (stats.isFile()) {
    if (existing) rmSync(dest, { force: true });
    const input = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW);
    const output = openSync(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (;;) {
        const n = readSync(input, buffer, 0, buffer.length, null);
        if (n === 0) break;
        writeSync(output, buffer, 0, n);
      }
    } finally {
      closeSync(input);
      closeSync(output);
    }
    lchownSync(dest, uid, gid);
    chmodSync(dest, stats.mode & 0o7777);
    utimesSync(dest, stats.atime, stats.mtime);
  } else {
    throw new BerthError(`cannot copy "${source}": only files, directories and symlinks are copied`);
  }
}

/** Where a copy lands, following `cp -a` rules: into an existing directory, or as the named path. */
function finalDestination(source: string, sourceSpec: string, dest: string, destSpec: string, sourceIsDir: boolean, where: string): { target: string; contents: boolean } {
  const destStats = statOrUndefined(dest);
  const contents = sourceIsDir && /\/\.$/.test(sourceSpec);
  if (destStats?.isDirectory() && !destStats.isSymbolicLink()) {
    return contents ? { target: dest, contents: true } : { target: path.join(dest, path.basename(source)), contents: false };
  }
  if (destStats && sourceIsDir) throw new BerthError(`cannot copy a directory to "${destSpec}": it is a file ${where}`, { hint: 'name a directory or a path that does not exist' });
  if (!destStats && destSpec.endsWith('/') && !sourceIsDir) throw new BerthError(`destination directory "${destSpec}" does not exist ${where}`, { hint: 'create it first, or drop the trailing "/" to name the file' });
  const parent = statOrUndefined(path.dirname(dest));
  if (!parent?.isDirectory()) throw new BerthError(`destination "${destSpec}": parent directory does not exist ${where}`, { hint: 'create the parent directory first' });
  return { target: dest, contents: sourceIsDir };
}

function copyInto(source: string, destination: { target: string; contents: boolean }, owner: (stats: Stats) => { uid: number; gid: number }): void {
  if (!destination.contents) return copyTree(source, destination.target, owner);
  if (!existsSync(destination.target)) mkdirSync(destination.target, { mode: lstatSync(source).mode & 0o7777 });
  for (const name of readdirSync(source)) copyTree(path.join(source, name), path.join(destination.target, name), owner);
}

/** Container → host (`dest` '-' writes a tar stream to stdout). */
export async function copyFromContainer(container: ObservedContainer, sourcePath: string, dest: string, options: CopyOptions = {}): Promise<void> {
  const source = containerHostPath(container, sourcePath, { followLast: options.followLink });
  const stats = statOrUndefined(source);
  if (!stats) throw new BerthError(`no such file or directory in container "${container.record.name}": ${sourcePath}`);
  if (dest === '-') {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('tar', ['-C', path.dirname(source), '-cf', '-', path.basename(source)], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new BerthError(`tar exited with status ${code}`))));
    });
    return;
  }
  const hostDest = path.resolve(dest);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const destination = finalDestination(source, sourcePath, hostDest, dest, stats.isDirectory(), 'on the host');
  copyInto(source, destination, (s) => (options.archive ? { uid: s.uid, gid: s.gid } : { uid, gid }));
}

/** Host → container. */
export async function copyToContainer(container: ObservedContainer, source: string, destPath: string, options: CopyOptions = {}): Promise<void> {
  let hostSource = path.resolve(source);
  if (options.followLink && existsSync(hostSource)) hostSource = realpathSync(hostSource);
  const stats = statOrUndefined(hostSource);
  if (!stats) throw new BerthError(`no such file or directory on the host: ${source}`);
  const dest = containerHostPath(container, destPath, { followLast: true });
  const destination = finalDestination(hostSource, source, dest, destPath, stats.isDirectory(), `in container "${container.record.name}"`);
  copyInto(hostSource, destination, (s) => (options.archive ? { uid: s.uid, gid: s.gid } : { uid: 0, gid: 0 }));
}
