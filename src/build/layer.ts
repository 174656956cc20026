/**
 * Build snapshots: an overlay of a stage's layers with a fresh upper directory for one step,
 * and the commit of that upper directory as a new layer (a tar of the diff, overlayfs whiteouts
 * turned into `.wh.` entries and opaque markers) stored in the image store like a pulled layer.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { directoryEntries, tarStream } from '../images/layers/index.js';
import { mountRootfs, unmountRootfs } from '../images/rootfs/index.js';
import type { ImageStore } from '../images/store/index.js';
import { MediaTypes } from '../images/types.js';
import { BuildError } from './errors.js';

/** A layer of a build result (same shape as StoredImage.layers). */
export interface LayerRef {
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
}

/** A mounted snapshot: `rootfs` shows the layers plus `upper`; release() unmounts and deletes it. */
export interface Snapshot {
  rootfs: string;
  upper: string;
  dir: string;
  release(): Promise<void>;
}

/** Where build snapshots live: under the store root, so layer directories are on the same file system. */
export function snapshotRoot(store: ImageStore): string {
  return path.join(store.root, 'build');
}

/** Mounts an overlay of `layers` (bottom first) with a fresh upper directory. */
export async function mountSnapshot(store: ImageStore, layers: readonly LayerRef[]): Promise<Snapshot> {
  const dir = path.join(snapshotRoot(store), `${process.pid}-${randomBytes(6).toString('hex')}`);
  const lowerDirs: string[] = [];
  for (const layer of layers) lowerDirs.unshift((await store.ensureLayer(layer.digest, layer.mediaType)).dir);
  if (lowerDirs.length === 0) {
    await mkdir(path.join(dir, 'empty'), { recursive: true });
    lowerDirs.push(path.join(dir, 'empty'));
  }
  const rootfs = path.join(dir, 'rootfs');
  const upper = path.join(dir, 'upper');
  try {
    await mountRootfs({ lowerDirs, upperDir: upper, workDir: path.join(dir, 'work'), target: rootfs, linkDir: path.join(dir, 'lower') });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new BuildError(`cannot assemble the build filesystem: ${(err as Error).message}`, { hint: 'berth builds need root and overlayfs (the state directory must not itself be on overlayfs)', cause: err });
  }
  let released = false;
  return {
    rootfs, upper, dir,
    async release() {
      if (released) return;
      released = true;
      await unmountRootfs(rootfs, path.join(dir, 'lower'));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes snapshot directories left by build processes that no longer run. */
export async function cleanStaleSnapshots(store: ImageStore): Promise<void> {
  const root = snapshotRoot(store);
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const pid = Number.parseInt(name.split('-')[0], 10);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch {
      // The process is gone.
    }
    const dir = path.join(root, name);
    await unmountRootfs(path.join(dir, 'rootfs'), path.join(dir, 'lower')).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** True when `upper` holds no change at all. */
export async function isEmptyDiff(upper: string): Promise<boolean> {
  return (await readdir(upper).catch(() => [] as string[])).length === 0;
}

/**
 * Commits an upper directory as a layer: an uncompressed tar (so the blob digest is the diff id
 * and no time goes into gzip; `berth push` sends it as an OCI tar layer) put into the store and
 * unpacked as a layer directory like any pulled layer.
 */
export async function commitLayer(store: ImageStore, upper: string): Promise<LayerRef> {
  const blob = await store.putBlob(tarStream(directoryEntries(upper, { overlayWhiteouts: true, xattrs: true })));
  const mediaType = MediaTypes.ociLayer;
  const { diffId } = await store.ensureLayer(blob.digest, mediaType);
  return { digest: blob.digest, diffId, mediaType, size: blob.size };
}
