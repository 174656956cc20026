/**
 * A container's root filesystem under `<store.root>/containers/<id>/`: `rootfs/` (what the
 * runtime pivots into), `upper/` and `work/` (overlayfs), `lower/` (short layer symlinks) and
 * `snapshotter` (which of overlay or copy made it, so removal knows what to undo).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from '../../errors.js';
import type { ImageStore, StoredImage } from '../store/index.js';
import { copyLayers } from './copy.js';
import { isMountPoint, listMountPoints, mountRootfs, overlaySupported, unmountRootfs } from './overlay.js';

/** How a rootfs is assembled from layers. */
export type Snapshotter = 'overlay' | 'copy';

/** Paths of a prepared container rootfs. */
export interface ContainerRootfs {
  rootfs: string;
  /** Where the container's changes land (the rootfs itself for the copy snapshotter). */
  upper: string;
  work: string;
  snapshotter: Snapshotter;
}

/** The directory holding everything of one container's rootfs. */
export function containerDir(store: ImageStore, containerId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) throw new ImageError(`invalid container id "${containerId}"`);
  return path.join(store.root, 'containers', containerId);
}

/** The snapshotter asked for by BERTH_SNAPSHOTTER (`overlay`, `copy`), or `auto`. */
export function requestedSnapshotter(env: NodeJS.ProcessEnv = process.env): Snapshotter | 'auto' {
  const value = env.BERTH_SNAPSHOTTER ?? 'auto';
  if (value === 'overlay' || value === 'copy' || value === 'auto') return value;
  throw new ImageError(`invalid BERTH_SNAPSHOTTER "${value}"`, undefined, { hint: 'use "overlay", "copy" or "auto"' });
}

/**
 * Unpacks the image's layers if needed and assembles the container's rootfs. Idempotent: a
 * prepared rootfs is returned as is (an overlay that is no longer mounted, e.g. after a reboot,
 * is mounted again). With `auto`, overlayfs is tried first and the copy snapshotter used when
 * the kernel refuses.
 */
export async function prepareContainerRootfs(
  store: ImageStore,
  image: StoredImage,
  containerId: string,
  options: { snapshotter?: Snapshotter | 'auto'; warn?: (message: string) => void } = {},
): Promise<ContainerRootfs> {
  const dir = containerDir(store, containerId);
  const paths = { rootfs: path.join(dir, 'rootfs'), upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), lower: path.join(dir, 'lower') };
  const recorded = (await readFile(path.join(dir, 'snapshotter'), 'utf8').catch(() => '')).trim();
  const lowerDirs: string[] = [];
  for (const layer of image.layers) lowerDirs.unshift((await store.ensureLayer(layer.digest, layer.mediaType)).dir);
  if (recorded === 'copy') return { rootfs: paths.rootfs, upper: paths.rootfs, work: paths.work, snapshotter: 'copy' };
  const emptyLayer = path.join(dir, 'empty');
  if (lowerDirs.length === 0) {
    await mkdir(emptyLayer, { recursive: true });
    lowerDirs.push(emptyLayer);
  }
  if (recorded === 'overlay') {
    if (!(await isMountPoint(paths.rootfs))) await mountRootfs({ lowerDirs, upperDir: paths.upper, workDir: paths.work, target: paths.rootfs, linkDir: paths.lower });
    return { rootfs: paths.rootfs, upper: paths.upper, work: paths.work, snapshotter: 'overlay' };
  }
  const wanted = options.snapshotter ?? requestedSnapshotter();
  await mkdir(dir, { recursive: true });
  try {
    if (wanted === 'overlay' || (wanted === 'auto' && (await overlaySupported()))) {
      try {
        await mountRootfs({ lowerDirs, upperDir: paths.upper, workDir: paths.work, target: paths.rootfs, linkDir: paths.lower });
        await writeFile(path.join(dir, 'snapshotter'), 'overlay\n');
        return { rootfs: paths.rootfs, upper: paths.upper, work: paths.work, snapshotter: 'overlay' };
      } catch (err) {
        if (wanted === 'overlay') throw err;
        (options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`)))(`overlayfs mount failed, copying layers instead: ${(err as Error).message}`);
        await rm(paths.upper, { recursive: true, force: true });
        await rm(paths.work, { recursive: true, force: true });
        await rm(paths.lower, { recursive: true, force: true });
      }
    }
    await rm(paths.rootfs, { recursive: true, force: true });
    await copyLayers(lowerDirs.filter((layer) => layer !== emptyLayer), paths.rootfs);
    await writeFile(path.join(dir, 'snapshotter'), 'copy\n');
    return { rootfs: paths.rootfs, upper: paths.rootfs, work: paths.work, snapshotter: 'copy' };
  } catch (err) {
    await removeContainerRootfs(store, containerId).catch(() => undefined);
    throw err;
  }
}

/** Unmounts and deletes a container's rootfs; refuses to delete while anything under it is still mounted. */
export async function removeContainerRootfs(store: ImageStore, containerId: string): Promise<void> {
  const dir = containerDir(store, containerId);
  const rootfs = path.join(dir, 'rootfs');
  await unmountRootfs(rootfs, path.join(dir, 'lower'));
  const prefix = `${dir}/`;
  const stillMounted = (await listMountPoints()).filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(prefix));
  // Deleting through a live mount would delete the image's shared layers: stop instead.
  if (stillMounted.length) throw new ImageError(`cannot remove rootfs of container "${containerId}": "${stillMounted[0]}" is still mounted`, undefined, { hint: `unmount it with "umount -l ${stillMounted[0]}"` });
  await rm(dir, { recursive: true, force: true });
}
