/**
 * Garbage collection of the image store: drop dangling (or, with `all`, unused) images, then
 * delete blobs and unpacked layers nothing reachable needs, and leftovers of crashed work in tmp/.
 * Leases (files naming a live pid and the digests a running pull needs) keep content alive.
 */
import { lstat, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OciImageConfig, OciManifest } from '../types.js';
import { diskUsage, processAlive, supportedAlgorithms, writeFileAtomic } from './files.js';
import type { ImageStore } from './image-store.js';
import { readStoreState, refsOf, writeStoreState } from './state.js';

/** What gc removed. */
export interface GcResult {
  removedBlobs: number;
  removedLayers: number;
  freedBytes: number;
}

/** Options of gc: `all` also drops named images not in use; `inUse` holds image ids, manifest digests or refs. */
export interface GcOptions {
  all?: boolean;
  inUse?: Set<string>;
  keepDangling?: boolean;
}

/** A lease: digests gc must keep until release. */
export interface Lease {
  add(digest: string): Promise<void>;
  release(): Promise<void>;
}

let leaseCounter = 0;

/** Protects `digests` (blobs and diff ids) from gc until released; the file names our pid so a crash frees it. */
export async function createLease(root: string, digests: Iterable<string>): Promise<Lease> {
  const file = path.join(root, 'leases', `${process.pid}-${++leaseCounter}.json`);
  const held = new Set(digests);
  await writeFileAtomic(file, JSON.stringify([...held]));
  return {
    add: async (digest: string) => {
      held.add(digest);
      await writeFileAtomic(file, JSON.stringify([...held]));
    },
    release: async () => {
      await rm(file, { force: true });
    },
  };
}

/** Digests held by leases of live processes; leases of dead ones are removed. */
export async function leasedDigests(root: string): Promise<Set<string>> {
  const result = new Set<string>();
  const dir = path.join(root, 'leases');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!processAlive(Number.parseInt(name, 10))) {
      await rm(path.join(dir, name), { force: true });
      continue;
    }
    const digests = JSON.parse(await readFile(path.join(dir, name), 'utf8').catch(() => '[]')) as string[];
    for (const digest of digests) result.add(digest);
  }
  return result;
}

/** Runs gc on `store`; the caller holds the store lock. */
export async function collectGarbage(store: ImageStore, options: GcOptions): Promise<GcResult> {
  const inUse = options.inUse ?? new Set<string>();
  const state = await readStoreState(store.root);
  const keepImage = async (manifestDigest: string, refs: string[]): Promise<boolean> => {
    if (inUse.has(manifestDigest) || refs.some((ref) => inUse.has(ref))) return true;
    const manifest = (await store.hasBlob(manifestDigest)) ? await store.readJson<OciManifest>(manifestDigest).catch(() => undefined) : undefined;
    return manifest?.config?.digest !== undefined && inUse.has(manifest.config.digest);
  };
  const dangling: string[] = [];
  for (const digest of state.dangling) if (options.keepDangling || (await keepImage(digest, []))) dangling.push(digest);
  state.dangling = dangling;
  if (options.all) {
    for (const [ref, digest] of Object.entries(state.refs)) {
      if (!(await keepImage(digest, refsOf(state, digest)))) {
        delete state.refs[ref];
        delete state.pulls[ref];
      }
    }
  }
  await writeStoreState(store.root, state);

  const keepBlobs = await leasedDigests(store.root);
  const keepLayers = new Set(keepBlobs);
  const keepConfig = async (configDigest: string) => {
    keepBlobs.add(configDigest);
    if (!(await store.hasBlob(configDigest))) return;
    const config = await store.readJson<OciImageConfig>(configDigest).catch(() => undefined);
    for (const diffId of config?.rootfs?.diff_ids ?? []) keepLayers.add(diffId);
  };
  for (const digest of new Set([...Object.values(state.refs), ...state.dangling])) {
    keepBlobs.add(digest);
    if (!(await store.hasBlob(digest))) continue;
    const manifest = await store.readJson<OciManifest>(digest).catch(() => undefined);
    if (!manifest?.config) continue;
    await keepConfig(manifest.config.digest);
    for (const layer of manifest.layers ?? []) keepBlobs.add(layer.digest);
  }
  for (const id of inUse) if (/^sha(256|512):/.test(id)) await keepConfig(id);

  const result: GcResult = { removedBlobs: 0, removedLayers: 0, freedBytes: 0 };
  for (const algorithm of supportedAlgorithms) {
    const blobDir = path.join(store.root, 'blobs', algorithm);
    for (const hex of await readdir(blobDir).catch(() => [] as string[])) {
      if (keepBlobs.has(`${algorithm}:${hex}`)) continue;
      const file = path.join(blobDir, hex);
      result.freedBytes += (await stat(file).catch(() => undefined))?.size ?? 0;
      await rm(file, { force: true });
      await rm(path.join(store.root, 'layerdb', algorithm, hex), { force: true });
      result.removedBlobs++;
    }
    const layerRoot = path.join(store.root, 'layers', algorithm);
    for (const hex of await readdir(layerRoot).catch(() => [] as string[])) {
      if (keepLayers.has(`${algorithm}:${hex}`)) continue;
      const dir = path.join(layerRoot, hex);
      result.freedBytes += await diskUsage(dir);
      await rm(dir, { recursive: true, force: true });
      result.removedLayers++;
    }
  }
  // Leftovers of crashed pulls and unpacks. Temp entries carry their creator's pid and stay
  // while it lives; partial downloads stay a day (for resuming) unless a running pull leases them.
  const tmpDir = path.join(store.root, 'tmp');
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    const file = path.join(tmpDir, name);
    const partial = /^partial-([a-z0-9]+)-([a-f0-9]+)/.exec(name);
    if (partial) {
      if (keepBlobs.has(`${partial[1]}:${partial[2]}`)) continue;
      const info = await lstat(file).catch(() => undefined);
      if (info && (options.all || Date.now() - info.mtimeMs > 24 * 3600_000)) await rm(file, { recursive: true, force: true });
      continue;
    }
    const pid = Number.parseInt(/^[a-z]+-(\d+)-/.exec(name)?.[1] ?? '', 10);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    await rm(file, { recursive: true, force: true });
  }
  return result;
}
