/**
 * `berth load`: reads `docker save` tarballs (the legacy manifest.json form and the OCI form
 * Docker 25+ writes) and OCI image layouts (as a tar or a directory). The archive is streamed
 * once: blobs go straight into the store as they pass, small JSON files are kept in memory, and
 * the images are assembled once the whole archive was read (manifest.json comes last in
 * `docker save` output).
 */
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, ImageError } from '../../errors.js';
import { ByteReader, decompressStream, readTar, sniffCompression, TarFormatError } from '../layers/index.js';
import { parseReference } from '../reference.js';
import type { ImageStore } from '../store/index.js';
import { MediaTypes, type OciDescriptor, type OciImageConfig, type OciIndex, type OciManifest } from '../types.js';
import { registerManifest, selectManifest, withLeasedStore, type LoadedImage } from './register.js';

/** Largest metadata file (manifest.json, index.json, configs) kept in memory. */
const maxMetadataBytes = 16 * 1024 * 1024;

/** Where an archive's files ended up: blobs in the store, metadata in memory. */
interface ArchiveFiles {
  blobs: Map<string, { digest: string; size: number }>;
  metadata: Map<string, Buffer>;
  links: Map<string, string>;
}

interface DockerManifestItem {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

function archivePath(name: string): string {
  return path.posix.normalize(name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** Reads a tar archive, putting blobs (`blobs/<alg>/<hex>`, layer tars, anything big) into the store. */
async function readArchive(store: ImageStore, input: AsyncIterable<Buffer>): Promise<ArchiveFiles> {
  const files: ArchiveFiles = { blobs: new Map(), metadata: new Map(), links: new Map() };
  const reader = new ByteReader(decompressStream(input));
  let metadataBytes = 0;
  for await (const entry of readTar(reader)) {
    const name = archivePath(entry.path);
    if (entry.type === 'symlink') {
      files.links.set(name, path.posix.join(path.posix.dirname(name), entry.linkname));
      continue;
    }
    if (entry.type === 'link') {
      files.links.set(name, archivePath(entry.linkname));
      continue;
    }
    if (entry.type !== 'file') continue;
    const blob = /^blobs\/(sha256|sha512)\/([a-f0-9]{64,128})$/.exec(name);
    const isMetadata = !blob && (name.endsWith('.json') || name === 'oci-layout' || name === 'repositories');
    if (isMetadata && entry.size <= maxMetadataBytes) {
      metadataBytes += entry.size;
      if (metadataBytes > 4 * maxMetadataBytes) throw new ImageError('the archive has more than 64 MiB of metadata files; refusing to keep them in memory');
      files.metadata.set(name, await collect(entry.body()));
    } else if (blob || !/(^|\/)(VERSION|json)$/.test(name)) {
      // Layer tars have many names (`<id>/layer.tar`, `<hex>.tar`): anything not metadata is a blob candidate.
      const expected = blob ? { digest: `${blob[1]}:${blob[2]}`, size: entry.size } : { size: entry.size };
      files.blobs.set(name, await store.putBlob(Readable.from(entry.body()), expected));
    }
  }
  await reader.drain();
  return files;
}

function resolveLink(files: ArchiveFiles, name: string): string {
  let current = archivePath(name);
  for (let hops = 0; hops < 16 && files.links.has(current); hops++) current = archivePath(files.links.get(current)!);
  return current;
}

function parseJson<T>(data: Buffer | undefined, name: string): T {
  if (!data) throw new ImageError(`archive has no "${name}"`);
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (err) {
    throw new ImageError(`archive file "${name}" is not valid JSON`, undefined, { cause: err });
  }
}

/** The stored blob for an archive path: a blob already put, or a metadata file put now. */
async function blobFor(store: ImageStore, files: ArchiveFiles, name: string): Promise<{ digest: string; size: number }> {
  const resolved = resolveLink(files, name);
  const blob = files.blobs.get(resolved);
  if (blob) return blob;
  const data = files.metadata.get(resolved);
  if (data) return store.putBlob(data);
  throw new ImageError(`archive references "${name}" but does not contain it`);
}

async function layerMediaType(store: ImageStore, digest: string): Promise<string> {
  const handle = await open(store.blobPath(digest), 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const compression = sniffCompression(head.subarray(0, bytesRead));
    return compression === 'gzip' ? MediaTypes.ociLayerGzip : compression === 'zstd' ? MediaTypes.ociLayerZstd : MediaTypes.ociLayer;
  } finally {
    await handle.close();
  }
}

/**
 * A ref name from index annotations. `org.opencontainers.image.ref.name` may be a bare tag
 * ("latest"), which names no repository: only values with a "/" or ":" count.
 */
function refFromAnnotations(annotations: Record<string, string> | undefined): string | undefined {
  for (const candidate of [annotations?.['io.containerd.image.name'], annotations?.['org.opencontainers.image.ref.name']]) {
    if (!candidate || !/[/:]/.test(candidate)) continue;
    try {
      parseReference(candidate);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Registers the images of an OCI index.json (tags from annotations, or from a docker manifest.json beside it). */
async function loadIndex(store: ImageStore, index: OciIndex, tagsByConfig: Map<string, string[]>): Promise<LoadedImage[]> {
  const loaded: LoadedImage[] = [];
  for (const descriptor of index.manifests ?? []) {
    const manifestDescriptor = await selectManifest(store, descriptor, 'load');
    const manifest = await store.readJson<OciManifest>(manifestDescriptor.digest);
    const annotated = refFromAnnotations(descriptor.annotations);
    const refs = annotated ? [annotated] : tagsByConfig.get(manifest.config.digest) ?? [];
    loaded.push(...(await registerManifest(store, manifestDescriptor.digest, refs, 'load')));
  }
  return loaded;
}

/** Registers the images of a legacy docker manifest.json, writing an OCI manifest for each. */
async function loadDockerManifest(store: ImageStore, files: ArchiveFiles, items: DockerManifestItem[]): Promise<LoadedImage[]> {
  const loaded: LoadedImage[] = [];
  for (const item of items) {
    const config = await blobFor(store, files, item.Config);
    const parsed = await store.readJson<OciImageConfig>(config.digest);
    if (!parsed.rootfs) throw new ImageError(`archive config "${item.Config}" is not an image config`);
    const layers: OciDescriptor[] = [];
    for (const layerPath of item.Layers) {
      const blob = await blobFor(store, files, layerPath);
      layers.push({ mediaType: await layerMediaType(store, blob.digest), digest: blob.digest, size: blob.size });
    }
    const manifest: OciManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: config.digest, size: config.size }, layers };
    const { digest } = await store.putBlob(Buffer.from(JSON.stringify(manifest)));
    loaded.push(...(await registerManifest(store, digest, item.RepoTags ?? [], 'load')));
  }
  return loaded;
}

async function loadFiles(store: ImageStore, files: ArchiveFiles): Promise<LoadedImage[]> {
  const items = files.metadata.has('manifest.json') ? parseJson<DockerManifestItem[]>(files.metadata.get('manifest.json'), 'manifest.json') : undefined;
  if (files.metadata.has('index.json')) {
    const tagsByConfig = new Map<string, string[]>();
    for (const item of items ?? []) {
      const config = files.blobs.get(resolveLink(files, item.Config));
      if (config && item.RepoTags?.length) tagsByConfig.set(config.digest, item.RepoTags);
    }
    return loadIndex(store, parseJson<OciIndex>(files.metadata.get('index.json'), 'index.json'), tagsByConfig);
  }
  if (items) return loadDockerManifest(store, files, items);
  throw new ImageError('the archive is neither a "docker save" tarball nor an OCI image layout', undefined, { hint: 'it has no manifest.json and no index.json' });
}

/** Loads an OCI image layout directory: only blobs reachable from index.json are copied in. */
async function loadLayoutDirectory(store: ImageStore, dir: string): Promise<LoadedImage[]> {
  const readMeta = async (name: string) => readFile(path.join(dir, name)).catch(() => undefined);
  const index = parseJson<OciIndex>(await readMeta('index.json'), 'index.json');
  const putFromLayout = async (descriptor: { digest: string; size?: number }) => {
    if (await store.hasBlob(descriptor.digest)) return;
    const [algorithm, hex] = descriptor.digest.split(':');
    if (!/^(sha256|sha512)$/.test(algorithm) || !/^[a-f0-9]+$/.test(hex ?? '')) throw new ImageError(`invalid digest "${descriptor.digest}" in the image layout`);
    await store.putBlob(createReadStream(path.join(dir, 'blobs', algorithm, hex)), { digest: descriptor.digest, size: descriptor.size });
  };
  const visit = async (descriptor: OciDescriptor, depth: number): Promise<void> => {
    if (depth > 4) throw new ImageError('image layout indexes are nested too deeply');
    await putFromLayout(descriptor);
    const blob = await store.readJson<{ manifests?: OciDescriptor[]; config?: OciDescriptor; layers?: OciDescriptor[] }>(descriptor.digest);
    if (blob.config) for (const child of [blob.config, ...(blob.layers ?? [])]) await putFromLayout(child);
    for (const child of blob.manifests ?? []) if (!child.platform || child.platform.os === 'linux') await visit(child, depth + 1).catch(() => undefined);
  };
  for (const descriptor of index.manifests ?? []) await visit(descriptor, 0);
  const items = (await readMeta('manifest.json')) ? parseJson<DockerManifestItem[]>(await readMeta('manifest.json'), 'manifest.json') : [];
  const tagsByConfig = new Map<string, string[]>();
  for (const item of items) {
    const hex = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(archivePath(item.Config))?.[1];
    if (hex && item.RepoTags?.length) tagsByConfig.set(`sha256:${hex}`, item.RepoTags);
  }
  return loadIndex(store, index, tagsByConfig);
}

/** Loads images from a file or directory path, or from a stream (stdin); returns what was loaded. */
export async function loadArchive(store: ImageStore, input: string | NodeJS.ReadableStream): Promise<LoadedImage[]> {
  return withLeasedStore(store, (leased) => loadLeased(leased, input));
}

async function loadLeased(store: ImageStore, input: string | NodeJS.ReadableStream): Promise<LoadedImage[]> {
  if (typeof input === 'string') {
    const stats = await stat(input).catch(() => undefined);
    if (!stats) throw new ImageError(`cannot load "${input}": no such file or directory`);
    if (stats.isDirectory()) return loadLayoutDirectory(store, input);
    input = createReadStream(input);
  }
  let files: ArchiveFiles;
  try {
    files = await readArchive(store, input as AsyncIterable<Buffer>);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    const why = err instanceof TarFormatError ? `is not a valid tar archive: ${err.message}` : `could not be read: ${(err as Error).message}`;
    throw new ImageError(`the archive ${why}`, undefined, { hint: 'berth load reads "docker save" tarballs and OCI image layouts, plain, gzip or zstd' });
  }
  return loadFiles(store, files);
}
