/**
 * `berth import`: a root filesystem tarball (plain, gzip or zstd) becomes a one-layer image.
 * The tarball is stored as the layer blob unchanged and unpacked through the same hardened
 * unpacker as pulled layers, so a hostile tarball is rejected before anything is tagged.
 */
import { Readable } from 'node:stream';
import { peekStream, sniffCompression } from '../layers/index.js';
import { normalizeReference } from '../reference.js';
import type { ImageStore } from '../store/index.js';
import { MediaTypes, type OciImageConfig, type OciManifest } from '../types.js';
import { applyChanges } from './changes.js';
import { hostArchitecture, registerManifest, withLeasedStore, type LoadedImage } from './register.js';

/** Options of importRootfs. */
export interface ImportOptions {
  /** Reference to tag the image with; untagged when absent. */
  ref?: string;
  /** Dockerfile instructions applied to the config (`--change`). */
  changes?: readonly string[];
  /** Commit message (`-m`), kept in the image history. */
  message?: string;
  /** Where the tarball came from, for the history entry (`-` for stdin). */
  sourceName?: string;
  /** Creation time; now by default (tests pin it for stable ids). */
  created?: Date;
}

/** Imports a rootfs tarball stream as a one-layer image and tags it. */
export async function importRootfs(store: ImageStore, input: NodeJS.ReadableStream, options: ImportOptions = {}): Promise<LoadedImage> {
  return withLeasedStore(store, (leased) => importLeased(leased, input, options));
}

async function importLeased(store: ImageStore, input: NodeJS.ReadableStream, options: ImportOptions): Promise<LoadedImage> {
  const ref = options.ref === undefined ? undefined : normalizeReference(options.ref);
  const config = applyChanges({}, options.changes ?? []);
  const { head, stream } = await peekStream(input as AsyncIterable<Buffer>, 4);
  const compression = sniffCompression(head);
  const mediaType = compression === 'gzip' ? MediaTypes.ociLayerGzip : compression === 'zstd' ? MediaTypes.ociLayerZstd : MediaTypes.ociLayer;
  const layer = await store.putBlob(Readable.from(stream));
  const { diffId } = await store.ensureLayer(layer.digest, mediaType);
  const created = (options.created ?? new Date()).toISOString();
  const imageConfig: OciImageConfig & { comment?: string } = {
    created,
    architecture: hostArchitecture(),
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: `berth import ${options.sourceName ?? '-'}`, comment: options.message || `Imported from ${options.sourceName ?? '-'}` }],
  };
  if (options.message) imageConfig.comment = options.message;
  const configBlob = await store.putBlob(Buffer.from(JSON.stringify(imageConfig)));
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers: [{ mediaType, digest: layer.digest, size: layer.size }],
  };
  const manifestBlob = await store.putBlob(Buffer.from(JSON.stringify(manifest)));
  const [loaded] = await registerManifest(store, manifestBlob.digest, ref ? [ref] : [], 'import');
  return loaded;
}
