/**
 * The content-addressed image store under `<stateRoot>/images`:
 *
 *   blobs/sha256/<hex>        manifests, configs and layer blobs exactly as pulled (verified)
 *   layers/sha256/<hex>/      one unpacked layer per diff id, shared by every image using it
 *   layerdb/sha256/<hex>      blob digest -> diff id, so a known blob is never unpacked twice
 *   images.json               refs -> manifest digest, dangling images, last-pull times
 *   leases/<pid>-<n>.json     digests an in-flight pull still needs (gc keeps them)
 *   tmp/                      partial downloads and unpacks, renamed into place when complete
 *
 * Everything lands by rename, so a crash leaves at most junk in tmp/, never a half blob or layer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError } from '../../errors.js';
import { stateRoot } from '../../paths.js';
import { formatReference, looksLikeImageId, normalizeReference, parseReference } from '../reference.js';
import { ociLayerMediaType, type OciImageConfig, type OciManifest } from '../types.js';
import { unpackLayer } from '../layers/index.js';
import { exists, splitDigest, writeFileAtomic } from './files.js';
import { collectGarbage, createLease, type GcOptions, type GcResult, type Lease } from './gc.js';
import { withFileLock } from './lock.js';
import { readStoreState, refsOf, writeStoreState } from './state.js';
import { compareStrings } from '../../compare.js';

/** An image known to the store: one manifest with its config and layers. */
export interface StoredImage {
  /** Image id: the config digest. */
  id: string;
  /** Normalized references pointing at this image (empty for a dangling image). */
  refs: string[];
  manifestDigest: string;
  manifest: OciManifest;
  config: OciImageConfig;
  layers: { digest: string; diffId: string; mediaType: string; size: number }[];
  created?: string;
  /** Bytes of the blobs (config + compressed layers) as stored. */
  size: number;
}




const unpacking = new Map<string, Promise<{ diffId: string; dir: string }>>();

/** The image store; open it with `ImageStore.open()`. Safe to share between processes. */
export class ImageStore {
  private constructor(readonly root: string) {}

  /** Opens (creating if needed) the store at `root`, default `<stateRoot>/images`. */
  static async open(root: string = path.join(stateRoot(), 'images')): Promise<ImageStore> {
    const store = new ImageStore(path.resolve(root));
    for (const sub of ['blobs/sha256', 'layers/sha256', 'layerdb/sha256', 'leases', 'tmp']) {
      await mkdir(path.join(store.root, sub), { recursive: true });
    }
    return store;
  }

  /** A fresh path under tmp/ (same filesystem as the store, so rename works). */
  tempPath(prefix: string): string {
    return path.join(this.root, 'tmp', `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /** Where a partial download of `digest` is kept between attempts, so a retry can resume it. */
  partialPath(digest: string): string {
    const { algorithm, hex } = splitDigest(digest);
    return path.join(this.root, 'tmp', `partial-${algorithm}-${hex}`);
  }

  /** The file holding blob `digest` (whether or not it exists). */
  blobPath(digest: string): string {
    const { algorithm, hex } = splitDigest(digest);
    return path.join(this.root, 'blobs', algorithm, hex);
  }

  /** True when blob `digest` is stored. */
  async hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  /** Stores a blob, hashing while streaming; on digest or size mismatch nothing is stored. */
  async putBlob(data: Buffer | NodeJS.ReadableStream, expected: { digest?: string; size?: number } = {}): Promise<{ digest: string; size: number }> {
    const algorithm = expected.digest ? splitDigest(expected.digest).algorithm : 'sha256';
    const tmp = this.tempPath('blob');
    const hash = createHash(algorithm);
    let size = 0;
    const source = Buffer.isBuffer(data) ? Readable.from([data]) : data;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp));
      return await this.commitBlobFile(tmp, expected, { digest: `${algorithm}:${hash.digest('hex')}`, size });
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Moves a completely written file into the store as a blob. `computed` is the digest and size
   * the caller measured while writing every byte; without it the file is hashed here.
   */
  async commitBlobFile(file: string, expected: { digest?: string; size?: number }, computed?: { digest: string; size: number }): Promise<{ digest: string; size: number }> {
    let actual = computed;
    if (!actual) {
      const algorithm = expected.digest ? splitDigest(expected.digest).algorithm : 'sha256';
      const hash = createHash(algorithm);
      let size = 0;
      for await (const chunk of createReadStream(file)) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      actual = { digest: `${algorithm}:${hash.digest('hex')}`, size };
    }
    if (expected.size !== undefined && actual.size !== expected.size) {
      await rm(file, { force: true });
      throw new ImageError(`blob ${expected.digest ?? actual.digest} has ${actual.size} bytes, expected ${expected.size}`, undefined, {
        hint: 'the data was truncated or altered on the way; nothing was stored, try again',
      });
    }
    if (expected.digest !== undefined && actual.digest !== expected.digest) {
      await rm(file, { force: true });
      throw new ImageError(`blob content has digest ${actual.digest}, expected ${expected.digest}`, undefined, {
        hint: 'the data was corrupted on the way or the source is broken; nothing was stored',
      });
    }
    const target = this.blobPath(actual.digest);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file, target);
    return actual;
  }

  /** Reads blob `digest` whole; ImageError when missing. */
  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ImageError(`blob ${digest} is not in the image store`, undefined, { hint: 'pull the image again' });
      }
      throw err;
    }
  }

  /** Reads blob `digest` as JSON. */
  async readJson<T>(digest: string): Promise<T> {
    const data = await this.readBlob(digest);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (err) {
      throw new ImageError(`blob ${digest} is not valid JSON`, undefined, { cause: err });
    }
  }

  /** Points `ref` (normalized first) at a stored manifest; the image it pointed at before becomes dangling if nothing else names it. */
  async setRef(ref: string, manifestDigest: string): Promise<void> {
    const normalized = normalizeReference(ref);
    if (!(await this.hasBlob(manifestDigest))) {
      throw new ImageError(`manifest ${manifestDigest} is not in the image store`, normalized);
    }
    await this.withLock(async () => {
      const state = await readStoreState(this.root);
      const previous = state.refs[normalized];
      state.refs[normalized] = manifestDigest;
      state.dangling = state.dangling.filter((digest) => digest !== manifestDigest);
      if (previous && previous !== manifestDigest && !Object.values(state.refs).includes(previous)) state.dangling.push(previous);
      await writeStoreState(this.root, state);
    });
  }

  /** Records an image that has no name (an untagged `load` or `import`) so `images` lists it and its id resolves. */
  async addUntagged(manifestDigest: string): Promise<void> {
    if (!(await this.hasBlob(manifestDigest))) throw new ImageError(`manifest ${manifestDigest} is not in the image store`);
    await this.withLock(async () => {
      const state = await readStoreState(this.root);
      if (Object.values(state.refs).includes(manifestDigest) || state.dangling.includes(manifestDigest)) return;
      state.dangling.push(manifestDigest);
      await writeStoreState(this.root, state);
    });
  }

  /** Removes `ref`; the image is forgotten when no other ref names it (its blobs go at the next gc). */
  async removeRef(ref: string): Promise<void> {
    const normalized = normalizeReference(ref);
    await this.withLock(async () => {
      const state = await readStoreState(this.root);
      if (!(normalized in state.refs)) throw new ImageError(`no such image "${ref}"`, ref);
      delete state.refs[normalized];
      delete state.pulls[normalized];
      await writeStoreState(this.root, state);
    });
  }

  /** Forgets an image entirely: every ref naming its manifest and its dangling entry. */
  async removeImage(manifestDigest: string): Promise<string[]> {
    return this.withLock(async () => {
      const state = await readStoreState(this.root);
      const removed = Object.keys(state.refs).filter((ref) => state.refs[ref] === manifestDigest);
      for (const ref of removed) {
        delete state.refs[ref];
        delete state.pulls[ref];
      }
      state.dangling = state.dangling.filter((digest) => digest !== manifestDigest);
      await writeStoreState(this.root, state);
      return removed;
    });
  }

  /** Records that `ref` was just pulled (for pull_policy daily/weekly/every_<duration>). */
  async recordPull(ref: string, when: Date = new Date()): Promise<void> {
    const normalized = normalizeReference(ref);
    await this.withLock(async () => {
      const state = await readStoreState(this.root);
      state.pulls[normalized] = when.toISOString();
      await writeStoreState(this.root, state);
    });
  }

  /** When `ref` was last pulled, if ever. */
  async lastPull(ref: string): Promise<Date | undefined> {
    const when = (await readStoreState(this.root)).pulls[normalizeReference(ref)];
    return when ? new Date(when) : undefined;
  }

  private async loadImage(manifestDigest: string, refs: string[]): Promise<StoredImage | undefined> {
    if (!(await this.hasBlob(manifestDigest))) return undefined;
    const manifest = await this.readJson<OciManifest>(manifestDigest);
    if (!manifest.config || !Array.isArray(manifest.layers)) return undefined;
    if (!(await this.hasBlob(manifest.config.digest))) return undefined;
    const config = await this.readJson<OciImageConfig>(manifest.config.digest);
    const diffIds = config.rootfs?.diff_ids ?? [];
    const layers = manifest.layers.map((layer, index) => ({
      digest: layer.digest,
      diffId: diffIds[index] ?? '',
      mediaType: layer.mediaType,
      size: layer.size,
    }));
    const size = manifest.config.size + layers.reduce((sum, layer) => sum + layer.size, 0);
    return { id: manifest.config.digest, refs: [...refs].sort(), manifestDigest, manifest, config, layers, created: config.created, size };
  }

  /** Every image: those named by refs, then dangling ones; newest first. */
  async listImages(): Promise<StoredImage[]> {
    const state = await readStoreState(this.root);
    const byManifest = new Map<string, string[]>();
    for (const [ref, digest] of Object.entries(state.refs)) byManifest.set(digest, [...(byManifest.get(digest) ?? []), ref]);
    for (const digest of state.dangling) if (!byManifest.has(digest)) byManifest.set(digest, []);
    const images: StoredImage[] = [];
    for (const [digest, refs] of byManifest) {
      const image = await this.loadImage(digest, refs);
      if (image) images.push(image);
    }
    return images.sort((a, b) => compareStrings(b.created ?? '', a.created ?? '') || compareStrings(a.id, b.id));
  }

  /**
   * Finds an image by reference (`busybox`, `host:5000/a:b`, `name@sha256:...`), by image id
   * (full or at least 4 hex digits, with or without `sha256:`) or by manifest digest.
   */
  async resolve(refOrId: string): Promise<StoredImage | undefined> {
    const state = await readStoreState(this.root);
    let parsed;
    try {
      parsed = parseReference(refOrId);
    } catch {
      parsed = undefined;
    }
    if (parsed) {
      const normalized = formatReference(parsed);
      const digest = state.refs[normalized];
      if (digest) return this.loadImage(digest, refsOf(state, digest));
      if (parsed.digest) {
        const match = Object.entries(state.refs).find(([ref, manifest]) => manifest === parsed.digest && ref.startsWith(`${parsed.domain}/${parsed.path}`));
        if (match || state.dangling.includes(parsed.digest)) return this.loadImage(parsed.digest, refsOf(state, parsed.digest));
      }
    }
    if (!looksLikeImageId(refOrId)) return undefined;
    const wanted = refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`;
    const images = await this.listImages();
    const matches = images.filter((image) => image.id.startsWith(wanted) || image.manifestDigest.startsWith(wanted));
    const ids = new Set(matches.map((image) => image.id));
    if (ids.size > 1) {
      throw new ImageError(`image id prefix "${refOrId}" is ambiguous: it matches ${ids.size} images`, refOrId, { hint: 'give more digits of the id' });
    }
    return matches[0];
  }

  /** Directory of the unpacked layer with diff id `diffId` (whether or not it exists). */
  layerDir(diffId: string): string {
    const { algorithm, hex } = splitDigest(diffId);
    return path.join(this.root, 'layers', algorithm, hex);
  }

  /** True when layer `diffId` is unpacked (directories appear by rename, so present means complete). */
  async hasLayer(diffId: string): Promise<boolean> {
    return exists(this.layerDir(diffId));
  }

  private layerDbPath(blobDigest: string): string {
    const { algorithm, hex } = splitDigest(blobDigest);
    return path.join(this.root, 'layerdb', algorithm, hex);
  }

  /** Unpacks layer blob `blobDigest` unless already done; returns its diff id and directory. */
  async ensureLayer(blobDigest: string, mediaType: string): Promise<{ diffId: string; dir: string }> {
    // Two pulls of one image in this process (two services) share one unpack.
    const key = `${this.root}\0${blobDigest}`;
    const running = unpacking.get(key);
    if (running) return running;
    const work = this.unpackOnce(blobDigest, mediaType).finally(() => unpacking.delete(key));
    unpacking.set(key, work);
    return work;
  }

  private async unpackOnce(blobDigest: string, mediaType: string): Promise<{ diffId: string; dir: string }> {
    const known = (await readFile(this.layerDbPath(blobDigest), 'utf8').catch(() => '')).trim();
    if (known && (await this.hasLayer(known))) return { diffId: known, dir: this.layerDir(known) };
    if (!(await this.hasBlob(blobDigest))) {
      throw new ImageError(`layer blob ${blobDigest} is not in the image store`, undefined, { hint: 'pull the image again' });
    }
    const dest = this.tempPath('layer');
    try {
      const { diffId } = await unpackLayer(createReadStream(this.blobPath(blobDigest)), { dest, mediaType: ociLayerMediaType(mediaType), digest: blobDigest });
      const dir = this.layerDir(diffId);
      await mkdir(path.dirname(dir), { recursive: true });
      try {
        await rename(dest, dir);
      } catch (err) {
        // Another process unpacked the same layer first; its copy is as good as ours.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
      await writeFileAtomic(this.layerDbPath(blobDigest), `${diffId}\n`);
      return { diffId, dir };
    } finally {
      await rm(dest, { recursive: true, force: true });
    }
  }

  /** Runs `fn` holding the store's cross-process lock (`<root>/lock`); nested calls do not deadlock. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(path.join(this.root, 'lock'), fn);
  }

  /** Protects `digests` (blobs and diff ids) from gc until the returned release function runs. */
  async lease(digests: Iterable<string>): Promise<Lease> {
    return createLease(this.root, digests);
  }

  /**
   * Removes unreachable content. Without `all`, dangling images go; with `all`, every image whose
   * id, manifest digest or ref is not in `inUse` goes too. Then blobs and unpacked layers no
   * remaining image (nor an in-use image id, nor a running pull) needs are deleted. `keepDangling`
   * only collects unreferenced content (what `rmi` wants).
   */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    return this.withLock(() => collectGarbage(this, options));
  }
}
