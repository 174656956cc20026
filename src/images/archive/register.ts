/**
 * Shared last step of load and import: a manifest whose blobs are all in the store gets its
 * layers unpacked (which validates them), its diff ids checked against the config, and its refs.
 */
import { ImageError } from '../../errors.js';
import { isIndexMediaType, isManifestMediaType, type OciDescriptor, type OciImageConfig, type OciIndex, type OciManifest, type OciPlatform } from '../types.js';
import type { ImageStore } from '../store/index.js';

/** One image that ended up in the store. */
export interface LoadedImage {
  /** Normalized reference it was tagged with, if any. */
  ref?: string;
  manifestDigest: string;
  /** Image id: the config digest. */
  id: string;
}

/** The OCI architecture name of this machine. */
export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

/** True when a platform can run here (linux on this architecture). */
export function matchesHost(platform: OciPlatform | undefined): boolean {
  return !platform || (platform.os === 'linux' && platform.architecture === hostArchitecture());
}

/** Follows an index down to the manifest for this platform; returns the manifest descriptor. */
export async function selectManifest(store: ImageStore, descriptor: OciDescriptor, what: string, depth = 0): Promise<OciDescriptor> {
  if (depth > 4) throw new ImageError(`${what}: indexes nested too deeply`);
  if (!(await store.hasBlob(descriptor.digest))) throw new ImageError(`${what}: blob ${descriptor.digest} is missing from the archive`);
  if (isManifestMediaType(descriptor.mediaType)) return descriptor;
  if (!isIndexMediaType(descriptor.mediaType)) {
    // Some writers leave out media types in index entries: look at the blob itself.
    const blob = await store.readJson<{ mediaType?: string; manifests?: unknown; layers?: unknown }>(descriptor.digest);
    if (Array.isArray(blob.layers)) return descriptor;
    if (!Array.isArray(blob.manifests)) throw new ImageError(`${what}: ${descriptor.digest} is neither a manifest nor an index`);
  }
  const index = await store.readJson<OciIndex>(descriptor.digest);
  const candidates = index.manifests.filter((entry) => entry.platform && matchesHost(entry.platform) && entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
  const chosen = candidates.find((entry) => isManifestMediaType(entry.mediaType)) ?? candidates[0];
  if (!chosen) {
    const platforms = index.manifests.map((entry) => entry.platform ? `${entry.platform.os}/${entry.platform.architecture}` : 'unknown').join(', ');
    throw new ImageError(`${what}: no image for linux/${hostArchitecture()} (the archive has ${platforms})`);
  }
  return selectManifest(store, chosen, what, depth + 1);
}

/**
 * Unpacks every layer of a stored manifest, checks that each computed diff id matches the
 * config, and tags it. Nothing is tagged when a layer is rejected.
 */
export async function registerManifest(store: ImageStore, manifestDigest: string, refs: readonly string[], what: string): Promise<LoadedImage[]> {
  const manifest = await store.readJson<OciManifest>(manifestDigest);
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new ImageError(`${what}: ${manifestDigest} is not an image manifest`);
  for (const blob of [manifest.config, ...manifest.layers]) {
    if (!(await store.hasBlob(blob.digest))) throw new ImageError(`${what}: blob ${blob.digest} is missing from the archive`);
  }
  const config = await store.readJson<OciImageConfig>(manifest.config.digest);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(`${what}: the manifest has ${manifest.layers.length} layers but the config lists ${diffIds.length} diff ids`);
  }
  for (const [index, layer] of manifest.layers.entries()) {
    const { diffId } = await store.ensureLayer(layer.digest, layer.mediaType);
    if (diffId !== diffIds[index]) {
      throw new ImageError(`${what}: layer ${index + 1} (${layer.digest}) unpacks to ${diffId}, but the image config says ${diffIds[index]}`, undefined, { hint: 'the archive is corrupt or was altered' });
    }
  }
  const loaded: LoadedImage[] = [];
  for (const ref of refs) {
    await store.setRef(ref, manifestDigest);
    loaded.push({ ref, manifestDigest, id: manifest.config.digest });
  }
  if (refs.length === 0) {
    await store.addUntagged(manifestDigest);
    loaded.push({ manifestDigest, id: manifest.config.digest });
  }
  return loaded;
}

/**
 * Runs `fn` with a view of `store` whose putBlob and ensureLayer also add what they stored to
 * a gc lease, so a concurrent `image prune` cannot delete blobs of an image that is not tagged
 * yet; the lease is released when `fn` settles.
 */
export async function withLeasedStore<T>(store: ImageStore, fn: (leased: ImageStore) => Promise<T>): Promise<T> {
  const lease = await store.lease([]);
  const leased = new Proxy(store, {
    get(target, property) {
      if (property === 'putBlob') {
        return async (...args: Parameters<ImageStore['putBlob']>) => {
          const blob = await target.putBlob(...args);
          await lease.add(blob.digest);
          return blob;
        };
      }
      if (property === 'ensureLayer') {
        return async (...args: Parameters<ImageStore['ensureLayer']>) => {
          const layer = await target.ensureLayer(...args);
          await lease.add(layer.diffId);
          return layer;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  try {
    return await fn(leased);
  } finally {
    await lease.release();
  }
}
