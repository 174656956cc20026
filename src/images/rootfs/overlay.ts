/**
 * overlayfs mounts of a container rootfs. The kernel copies mount options into one page (4 KiB),
 * and 60 layer paths of ~90 bytes do not fit; so the layers are named through a directory of
 * one- or two-character symlinks and `mount` runs with that directory as its working directory,
 * which keeps the option string short for up to overlayfs's own limit of 500 layers.
 */
import { execFile } from 'node:child_process';
import { readFile, mkdir, rm, symlink, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImageError } from '../../errors.js';
import { hostStepsAvailable, runHostStep } from '../../host-batch.js';

const execFileAsync = promisify(execFile);

/** overlayfs refuses more lower layers than this (OVL_MAX_STACK). */
export const maxOverlayLayers = 500;

/** What to mount where. */
export interface OverlayMount {
  /** Layer directories, top-most first (the order of overlayfs's lowerdir). */
  lowerDirs: readonly string[];
  upperDir: string;
  workDir: string;
  /** Mount point; created when missing. */
  target: string;
  /** Directory for the short layer symlinks; `<target>.lower` by default. */
  linkDir?: string;
}

function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points currently visible to this process (from /proc/self/mountinfo). */
export async function listMountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').filter(Boolean).map((line) => unescapeMountinfo(line.split(' ')[4]));
}

/** True when `target` is a mount point. */
export async function isMountPoint(target: string): Promise<boolean> {
  const resolved = path.resolve(target);
  return (await listMountPoints()).includes(resolved);
}

/** True when the kernel lists overlayfs and we are root (mounting needs CAP_SYS_ADMIN here). */
export async function overlaySupported(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /\toverlay$/m.test(filesystems);
}

function checkOptionPath(value: string, what: string): string {
  if (/[,:\\]/.test(value)) throw new ImageError(`cannot mount overlay: ${what} path "${value}" contains ",", ":" or "\\"`, undefined, { hint: 'use a BERTH_ROOT without those characters' });
  return value;
}

/** Mounts an overlay of `lowerDirs` with `upperDir` on `target`. */
export async function mountRootfs(mount: OverlayMount): Promise<void> {
  const { lowerDirs, upperDir, workDir, target } = mount;
  if (lowerDirs.length === 0) throw new ImageError('cannot mount overlay: no layers given');
  if (lowerDirs.length > maxOverlayLayers) {
    throw new ImageError(`cannot mount overlay: the image has ${lowerDirs.length} layers, more than overlayfs's limit of ${maxOverlayLayers}`, undefined, { hint: 'squash the image or use BERTH_SNAPSHOTTER=copy' });
  }
  const linkDir = path.resolve(mount.linkDir ?? `${target}.lower`);
  await rm(linkDir, { recursive: true, force: true });
  await mkdir(linkDir, { recursive: true });
  await Promise.all(lowerDirs.map((dir, index) => symlink(path.resolve(dir), path.join(linkDir, index.toString(36)))));
  await mkdir(target, { recursive: true });
  await mkdir(upperDir, { recursive: true });
  await mkdir(workDir, { recursive: true });
  const options = [
    `lowerdir=${lowerDirs.map((_, index) => index.toString(36)).join(':')}`,
    `upperdir=${checkOptionPath(path.relative(linkDir, path.resolve(upperDir)), 'upper')}`,
    `workdir=${checkOptionPath(path.relative(linkDir, path.resolve(workDir)), 'work')}`,
  ].join(',');
  try {
    if (hostStepsAvailable()) await runHostStep({ kind: 'mount-overlay', dir: linkDir, options, target: path.resolve(target) });
    else await execFileAsync('mount', ['-t', 'overlay', 'overlay', '-o', options, path.resolve(target)], { cwd: linkDir });
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message;
    throw new ImageError(`cannot mount overlay rootfs at "${target}": ${stderr}`, undefined, {
      hint: 'berth needs root and a kernel with overlayfs; BERTH_SNAPSHOTTER=copy works without it',
      cause: err,
    });
  }
}

/** Unmounts `target` if it is mounted (lazily when busy), and removes its layer symlink directory. */
export async function unmountRootfs(target: string, linkDir = `${target}.lower`): Promise<void> {
  const resolved = path.resolve(target);
  // berth-runtime unmounts (lazily when busy) in the batch it shares with other containers.
  if (hostStepsAvailable()) await runHostStep({ kind: 'umount', target: resolved }).catch(() => undefined);
  for (let attempt = 0; attempt < 3 && (await isMountPoint(resolved)); attempt++) {
    try {
      await execFileAsync('umount', attempt === 0 ? [resolved] : ['-l', resolved]);
    } catch (err) {
      if (attempt === 2) {
        const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
        throw new ImageError(`cannot unmount rootfs "${target}": ${stderr}`, undefined, { cause: err });
      }
    }
  }
  if (await isMountPoint(resolved)) throw new ImageError(`rootfs "${target}" is still mounted`, undefined, { hint: `run "umount -l ${resolved}"` });
  const links = await readdir(linkDir).catch(() => undefined);
  if (links) await rm(linkDir, { recursive: true, force: true });
}
