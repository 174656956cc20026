/**
 * `pullImage`: resolve a reference through mirrors and the registry, pick the platform from an
 * index, then fetch config and layers (bounded parallelism, skipping layers already unpacked),
 * unpack each into the store, and finally point the ref at the manifest. The ref moves last, so
 * an interrupted pull never leaves a ref to a half image.
 */
import { ImageError, RegistryError } from '../../errors.js';
import { formatReference, parseReference, repositoryName, type ImageReference } from '../reference.js';
import { isLayerMediaType } from '../layers/index.js';
import type { ImageStore, StoredImage } from '../store/index.js';
import { isIndexMediaType, isManifestMediaType, MediaTypes, type OciImageConfig, type OciIndex, type OciManifest } from '../types.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import type { Credentials } from './credentials.js';
import { formatPlatform, hostPlatform, parsePlatform, selectManifest, type Platform } from './platform.js';
import { loadRegistryConfig, registryEndpoints, type RegistryEndpoint } from './registry-config.js';

/** What a pull reports while it runs. */
export type PullProgress =
  | { kind: 'resolved'; ref: string; manifestDigest: string; endpoint: string; layers: { digest: string; size: number }[] }
  | { kind: 'layer'; digest: string; phase: 'exists' | 'waiting' | 'downloading' | 'extracting' | 'done'; current?: number; total?: number };

/** Options shared by pull and push. */
export interface RegistryOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Retries per request (default 4). */
  retries?: number;
  /** Credentials to use instead of the Docker config's (null: none). */
  credentials?: Credentials | null;
}

/** Options of pullImage. */
export interface PullOptions extends RegistryOptions {
  /** `os/arch[/variant]`; default: the host's platform. */
  platform?: string | Platform;
  onProgress?: (event: PullProgress) => void;
  /** Layers fetched at once (default 3). */
  concurrency?: number;
}

/** Runs `worker` over `items` with at most `limit` at once; the first failure stops new work. */
export async function mapLimit<T>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const run = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await worker(items[index], index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  const rejected = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** A client for `ref`'s repository on `endpoint`. */
export function registryClient(ref: ImageReference, endpoint: RegistryEndpoint, access: 'pull' | 'push', imageRef: string, options: RegistryOptions = {}): RegistryClient {
  return new RegistryClient({ imageRef, endpoint, repository: ref.path, access, credentials: options.credentials, retries: options.retries, signal: options.signal, env: options.env });
}

/** A push-capable client for the repository of `refText` (for pushing indexes and the like). */
export function pushClient(refText: string, options: RegistryOptions = {}): RegistryClient {
  const ref = parseReference(refText);
  const endpoint = registryEndpoints(ref.domain, loadRegistryConfig(options.env), 'push')[0];
  return registryClient(ref, endpoint, 'push', refText, options);
}

async function resolveManifest(client: RegistryClient, ref: ImageReference, refText: string, wanted: Platform): Promise<FetchedManifest> {
  const fetched = await client.getManifest(ref.digest ?? ref.tag ?? 'latest');
  if (isManifestMediaType(fetched.mediaType)) return fetched;
  if (!isIndexMediaType(fetched.mediaType)) {
    throw new RegistryError(`"${refText}" is not a container image: its manifest has media type "${fetched.mediaType}"`, refText);
  }
  const index = JSON.parse(fetched.bytes.toString('utf8')) as OciIndex;
  const entry = selectManifest(index.manifests ?? [], wanted);
  if (!entry) {
    const available = (index.manifests ?? []).filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => formatPlatform(m.platform!));
    throw new ImageError(`image "${refText}" has no variant for platform ${formatPlatform(wanted)}`, refText, {
      hint: available.length > 0 ? `available platforms: ${[...new Set(available)].join(', ')}; choose one with --platform` : 'the index lists no platforms',
    });
  }
  const chosen = await client.getManifest(entry.digest);
  if (!isManifestMediaType(chosen.mediaType)) {
    throw new RegistryError(`"${refText}" for ${formatPlatform(wanted)} points at "${chosen.mediaType}", not an image manifest`, refText);
  }
  return chosen;
}

/** Pulls `refText` into `store` and returns the stored image. */
export async function pullImage(store: ImageStore, refText: string, options: PullOptions = {}): Promise<StoredImage> {
  const ref = parseReference(refText);
  const wanted = typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform ?? hostPlatform();
  const endpoints = registryEndpoints(ref.domain, loadRegistryConfig(options.env), 'pull');
  let client: RegistryClient | undefined;
  let fetched: FetchedManifest | undefined;
  for (const endpoint of endpoints) {
    const candidate = registryClient(ref, endpoint, 'pull', refText, options);
    try {
      fetched = await resolveManifest(candidate, ref, refText, wanted);
      client = candidate;
      break;
    } catch (err) {
      // A mirror that fails or lacks the image is skipped; the registry's own answer is final.
      if (!endpoint.mirror || options.signal?.aborted) throw err;
    }
  }
  if (!client || !fetched) throw new RegistryError(`cannot resolve "${refText}"`, refText);

  const manifest = JSON.parse(fetched.bytes.toString('utf8')) as OciManifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
    throw new RegistryError(`manifest of "${refText}" lacks a config or layers`, refText);
  }
  if (manifest.config.mediaType !== MediaTypes.ociConfig && manifest.config.mediaType !== MediaTypes.dockerConfig) {
    throw new ImageError(`"${refText}" is not a container image: its config has media type "${manifest.config.mediaType}"`, refText, {
      hint: 'it may be another kind of OCI artifact (a Helm chart, a signature, an SBOM)',
    });
  }
  const unsupported = manifest.layers.find((layer) => !isLayerMediaType(layer.mediaType));
  if (unsupported) {
    throw new ImageError(`image "${refText}" has a layer of unsupported media type "${unsupported.mediaType}"`, refText, {
      hint: 'berth unpacks tar layers, plain or compressed with gzip or zstd',
    });
  }
  options.onProgress?.({ kind: 'resolved', ref: formatReference(ref), manifestDigest: fetched.digest, endpoint: client.endpoint.url.origin, layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size })) });
  const lease = await store.lease([fetched.digest, manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]);
  try {
    await client.downloadBlob(store, manifest.config.digest, manifest.config.size);
    const config = await store.readJson<OciImageConfig>(manifest.config.digest);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new ImageError(`image "${refText}" is inconsistent: ${manifest.layers.length} layers but ${diffIds.length} diff ids in its config`, refText);
    }
    for (const diffId of diffIds) await lease.add(diffId);
    for (const layer of manifest.layers) options.onProgress?.({ kind: 'layer', digest: layer.digest, phase: 'waiting', total: layer.size });
    await mapLimit(manifest.layers, options.concurrency ?? 3, async (layer, index) => {
      if (await store.hasLayer(diffIds[index])) {
        options.onProgress?.({ kind: 'layer', digest: layer.digest, phase: 'exists', total: layer.size });
        return;
      }
      await client.downloadBlob(store, layer.digest, layer.size, (current) => {
        options.onProgress?.({ kind: 'layer', digest: layer.digest, phase: 'downloading', current, total: layer.size });
      });
      options.onProgress?.({ kind: 'layer', digest: layer.digest, phase: 'extracting', total: layer.size });
      const { diffId } = await store.ensureLayer(layer.digest, layer.mediaType);
      if (diffId !== diffIds[index]) {
        throw new ImageError(`layer ${layer.digest} of "${refText}" unpacks to ${diffId}, but the image config says ${diffIds[index]}`, refText, {
          hint: 'the image was built wrongly or tampered with',
        });
      }
      options.onProgress?.({ kind: 'layer', digest: layer.digest, phase: 'done', total: layer.size });
    });
    await store.putBlob(fetched.bytes, { digest: fetched.digest });
    const storedRef = ref.digest ? `${repositoryName(ref)}@${ref.digest}` : formatReference(ref);
    await store.setRef(storedRef, fetched.digest);
    await store.recordPull(storedRef);
    const image = await store.resolve(storedRef);
    if (!image) throw new ImageError(`pulled "${refText}" but cannot read it back from the store`, refText);
    return image;
  } finally {
    await lease.release();
  }
}
