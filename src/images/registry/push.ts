/**
 * `pushImage`: upload a stored image's blobs the registry lacks (HEAD first, so re-pushes move
 * only new layers), then its manifest under the target tag.
 */
import { ImageError } from '../../errors.js';
import { formatReference, looksLikeImageId, parseReference, repositoryName } from '../reference.js';
import type { ImageStore } from '../store/index.js';
import { MediaTypes } from '../types.js';
import { mapLimit, registryClient, type RegistryOptions } from './pull.js';
import { loadRegistryConfig, registryEndpoints } from './registry-config.js';

/** What a push reports while it runs. */
export type PushProgress = { kind: 'blob'; digest: string; phase: 'exists' | 'mounted' | 'uploading' | 'done'; current?: number; total: number };

/** Options of pushImage. */
export interface PushOptions extends RegistryOptions {
  onProgress?: (event: PushProgress) => void;
  /** Upload in PATCH chunks of this many bytes instead of one PUT. */
  chunkSize?: number;
  /** Blobs uploaded at once (default 3). */
  concurrency?: number;
}

/** Pushes stored image `refText` to `targetRefText` (default: the same reference); returns the manifest digest and the target. */
export async function pushImage(store: ImageStore, refText: string, targetRefText?: string, options: PushOptions = {}): Promise<{ digest: string; ref: string }> {
  const image = await store.resolve(refText);
  if (!image) throw new ImageError(`no such image "${refText}"`, refText, { hint: 'list local images with "berth images"' });
  if (targetRefText === undefined && looksLikeImageId(refText) && image.refs.length === 0) {
    throw new ImageError(`cannot push image id "${refText}" without a target reference`, refText, { hint: 'tag it first or name the target: berth push ID registry/repo:tag' });
  }
  const target = parseReference(targetRefText ?? refText);
  if (target.digest && target.digest !== image.manifestDigest) {
    throw new ImageError(`cannot push "${refText}" as "${formatReference(target)}": the digest names other content`, refText);
  }
  const endpoint = registryEndpoints(target.domain, loadRegistryConfig(options.env), 'push')[0];
  const client = registryClient(target, endpoint, 'push', formatReference(target), options);
  // Another repository of the same registry that has this image can lend its blobs (cross-repository mount).
  const mountFrom = image.refs.map((ref) => parseReference(ref)).find((ref) => ref.domain === target.domain && ref.path !== target.path)?.path;
  const blobs = new Map<string, number>([[image.manifest.config.digest, image.manifest.config.size]]);
  for (const layer of image.manifest.layers) blobs.set(layer.digest, layer.size);
  await mapLimit([...blobs], options.concurrency ?? 3, async ([digest, size]) => {
    if (await client.blobExists(digest)) {
      options.onProgress?.({ kind: 'blob', digest, phase: 'exists', total: size });
      return;
    }
    options.onProgress?.({ kind: 'blob', digest, phase: 'uploading', current: 0, total: size });
    const how = await client.uploadBlob(store, digest, {
      chunkSize: options.chunkSize,
      mountFrom,
      onBytes: (current) => options.onProgress?.({ kind: 'blob', digest, phase: 'uploading', current, total: size }),
    });
    options.onProgress?.({ kind: 'blob', digest, phase: how === 'mounted' ? 'mounted' : 'done', total: size });
  });
  const bytes = await store.readBlob(image.manifestDigest);
  const mediaType = image.manifest.mediaType ?? MediaTypes.ociManifest;
  await client.putManifest(target.tag ?? image.manifestDigest, bytes, mediaType);
  const pushedRef = target.tag ? formatReference({ ...target, digest: undefined }) : `${repositoryName(target)}@${image.manifestDigest}`;
  return { digest: image.manifestDigest, ref: pushedRef };
}
