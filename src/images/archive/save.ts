/**
 * `berth save`: writes images as one tarball that is both an OCI image layout (oci-layout,
 * index.json, blobs/) and a `docker save` archive (manifest.json pointing into blobs/), the
 * layout Docker 25+ writes, so `docker load`, `skopeo` and `berth load` all read it. Blobs are
 * written as stored (layers may stay compressed; loaders sniff compression), in sorted order
 * with fixed mtimes so the same images always give the same bytes.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ImageError } from '../../errors.js';
import { tarStream, type TarWriteEntry } from '../layers/index.js';
import { familiarReference, normalizeReference, parseReference } from '../reference.js';
import type { ImageStore, StoredImage } from '../store/index.js';
import { MediaTypes, type OciDescriptor, type OciIndex } from '../types.js';

interface SaveItem {
  image: StoredImage;
  /** The normalized reference the user asked for, when it was a name and not an id. */
  ref?: string;
}

async function resolveAll(store: ImageStore, refs: readonly string[]): Promise<SaveItem[]> {
  const items: SaveItem[] = [];
  for (const name of refs) {
    const image = await store.resolve(name);
    if (!image) throw new ImageError(`no such image "${name}"`, name, { hint: 'list images with "berth images"' });
    let ref: string | undefined;
    try {
      const normalized = normalizeReference(name);
      if (image.refs.includes(normalized) && parseReference(name).tag !== undefined) ref = normalized;
    } catch {
      ref = undefined;
    }
    items.push({ image, ref });
  }
  return items;
}

function blobName(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/** The tar entries of a save archive for the given images. */
export async function saveEntries(store: ImageStore, refs: readonly string[]): Promise<TarWriteEntry[]> {
  const items = await resolveAll(store, refs);
  const digests = new Set<string>();
  const indexEntries: OciDescriptor[] = [];
  const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  for (const { image, ref } of items) {
    for (const digest of [image.manifestDigest, image.manifest.config.digest, ...image.manifest.layers.map((layer) => layer.digest)]) digests.add(digest);
    const manifestSize = (await stat(store.blobPath(image.manifestDigest))).size;
    const annotations = ref ? { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': parseReference(ref).tag ?? 'latest' } : undefined;
    indexEntries.push({ mediaType: image.manifest.mediaType ?? MediaTypes.ociManifest, digest: image.manifestDigest, size: manifestSize, ...(annotations ? { annotations } : {}) });
    const existing = dockerManifest.find((entry) => entry.Config === blobName(image.manifest.config.digest));
    if (existing && ref) existing.RepoTags = [...(existing.RepoTags ?? []), familiarReference(ref)];
    else if (!existing) dockerManifest.push({ Config: blobName(image.manifest.config.digest), RepoTags: ref ? [familiarReference(ref)] : null, Layers: image.manifest.layers.map((layer) => blobName(layer.digest)) });
  }
  const entries: TarWriteEntry[] = [
    { path: 'blobs', type: 'directory', mode: 0o755 },
    { path: 'blobs/sha256', type: 'directory', mode: 0o755 },
  ];
  for (const digest of [...digests].sort()) {
    const file = store.blobPath(digest);
    const { size } = await stat(file).catch(() => {
      throw new ImageError(`cannot save: blob ${digest} is missing from the image store`, undefined, { hint: 'pull the image again' });
    });
    entries.push({ path: blobName(digest), type: 'file', mode: 0o444, size, body: () => createReadStream(file) as AsyncIterable<Buffer> });
  }
  const index: OciIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: indexEntries };
  entries.push(
    { path: 'index.json', type: 'file', mode: 0o444, body: `${JSON.stringify(index)}\n` },
    { path: 'manifest.json', type: 'file', mode: 0o444, body: `${JSON.stringify(dockerManifest)}\n` },
    { path: 'oci-layout', type: 'file', mode: 0o444, body: `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n` },
  );
  return entries;
}

/** Streams a save archive of `refs` (names or ids); resolves all refs before writing a byte. */
export async function saveImages(store: ImageStore, refs: readonly string[]): Promise<NodeJS.ReadableStream> {
  if (refs.length === 0) throw new ImageError('nothing to save: name at least one image');
  return tarStream(await saveEntries(store, refs));
}
