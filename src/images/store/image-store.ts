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
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError } from '../../errors.js';
import { stateRoot } from '../../paths.js';
import { formatReference, looksLikeImageId, normalizeReference, parseReference } from '../reference.js';
import { ociLayerMediaType, type OciImageConfig, type OciManifest } from '../types.js';
import { unpackLayer } from '../layers/index.js';
import { withFileLock } from './lock.js';

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

/** What gc removed. */
export interface GcResult {
  removedBlobs: number;
  removedLayers: number;
  freedBytes: number;
}

interface StoreState {
  version: 1;
  refs: Record<string, string>;
  dangling: string[];
  pulls: Record<string, string>;
}

const supportedAlgorithms = new Set(['sha256', 'sha512']);

function splitDigest(digest: string): { algorithm: string; hex: string } {
  const match = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  if (!match || !supportedAlgorithms.has(match[1]) || match[2].length !== (match[1] === 'sha256' ? 64 : 128)) {
    throw new ImageError(`invalid digest "${digest}"`, undefined, { hint: 'digests look like "sha256:" followed by 64 hex digits' });
  }
  return { algorithm: match[1], hex: match[2] };
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

async function diskUsage(target: string): Promise<number> {
  let total = 0;
  const stack = [target];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const current = stack.pop()!;
    const info = await lstat(current).catch(() => undefined);
    if (!info) continue;
    total += info.isFile() ? info.size : 0;
    if (info.isDirectory()) for (const name of await readdir(current).catch(() => [])) stack.push(path.join(current, name));
  }
  return total;
}

/** Writes `data` to `file` atomically (temp file in the same directory, then rename). */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, file);
}

let leaseCounter = 0;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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

  private statePath(): string {
    return path.join(this.root, 'images.json');
  }

  private async readState(): Promise<StoreState> {
    try {
      const parsed = JSON.parse(await readFile(this.statePath(), 'utf8')) as Partial<StoreState>;
      return { version: 1, refs: parsed.refs ?? {}, dangling: parsed.dangling ?? [], pulls: parsed.pulls ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, refs: {}, dangling: [], pulls: {} };
      throw new ImageError(`image store index "${this.statePath()}" is unreadable`, undefined, { cause: err });
    }
  }

  private async writeState(state: StoreState): Promise<void> {
    await writeFileAtomic(this.statePath(), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Points `ref` (normalized first) at a stored manifest; the image it pointed at before becomes dangling if nothing else names it. */
  async setRef(ref: string, manifestDigest: string): Promise<void> {
    const normalized = normalizeReference(ref);
    if (!(await this.hasBlob(manifestDigest))) {
      throw new ImageError(`manifest ${manifestDigest} is not in the image store`, normalized);
    }
    await this.withLock(async () => {
      const state = await this.readState();
      const previous = state.refs[normalized];
      state.refs[normalized] = manifestDigest;
      state.dangling = state.dangling.filter((digest) => digest !== manifestDigest);
      if (previous && previous !== manifestDigest && !Object.values(state.refs).includes(previous)) state.dangling.push(previous);
      await this.writeState(state);
    });
  }

  /** Removes `ref`; the image is forgotten when no other ref names it (its blobs go at the next gc). */
  async removeRef(ref: string): Promise<void> {
    const normalized = normalizeReference(ref);
    await this.withLock(async () => {
      const state = await this.readState();
      if (!(normalized in state.refs)) throw new ImageError(`no such image "${ref}"`, ref);
      delete state.refs[normalized];
      delete state.pulls[normalized];
      await this.writeState(state);
    });
  }

  /** Forgets an image entirely: every ref naming its manifest and its dangling entry. */
  async removeImage(manifestDigest: string): Promise<string[]> {
    return this.withLock(async () => {
      const state = await this.readState();
      const removed = Object.keys(state.refs).filter((ref) => state.refs[ref] === manifestDigest);
      for (const ref of removed) {
        delete state.refs[ref];
        delete state.pulls[ref];
      }
      state.dangling = state.dangling.filter((digest) => digest !== manifestDigest);
      await this.writeState(state);
      return removed;
    });
  }

  /** Records that `ref` was just pulled (for pull_policy daily/weekly/every_<duration>). */
  async recordPull(ref: string, when: Date = new Date()): Promise<void> {
    const normalized = normalizeReference(ref);
    await this.withLock(async () => {
      const state = await this.readState();
      state.pulls[normalized] = when.toISOString();
      await this.writeState(state);
    });
  }

  /** When `ref` was last pulled, if ever. */
  async lastPull(ref: string): Promise<Date | undefined> {
    const when = (await this.readState()).pulls[normalizeReference(ref)];
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
    const state = await this.readState();
    const byManifest = new Map<string, string[]>();
    for (const [ref, digest] of Object.entries(state.refs)) byManifest.set(digest, [...(byManifest.get(digest) ?? []), ref]);
    for (const digest of state.dangling) if (!byManifest.has(digest)) byManifest.set(digest, []);
    const images: StoredImage[] = [];
    for (const [digest, refs] of byManifest) {
      const image = await this.loadImage(digest, refs);
      if (image) images.push(image);
    }
    return images.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
  }

  /**
   * Finds an image by reference (`busybox`, `host:5000/a:b`, `name@sha256:...`), by image id
   * (full or at least 4 hex digits, with or without `sha256:`) or by manifest digest.
   */
  async resolve(refOrId: string): Promise<StoredImage | undefined> {
    const state = await this.readState();
    let parsed;
    try {
      parsed = parseReference(refOrId);
    } catch {
      parsed = undefined;
    }
    if (parsed) {
      const normalized = formatReference(parsed);
      const digest = state.refs[normalized];
      if (digest) return this.loadImage(digest, this.refsOf(state, digest));
      if (parsed.digest) {
        const match = Object.entries(state.refs).find(([ref, manifest]) => manifest === parsed.digest && ref.startsWith(`${parsed.domain}/${parsed.path}`));
        if (match || state.dangling.includes(parsed.digest)) return this.loadImage(parsed.digest, this.refsOf(state, parsed.digest));
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

  private refsOf(state: StoreState, manifestDigest: string): string[] {
    return Object.keys(state.refs).filter((ref) => state.refs[ref] === manifestDigest);
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
  async lease(digests: Iterable<string>): Promise<{ add(digest: string): Promise<void>; release(): Promise<void> }> {
    const file = path.join(this.root, 'leases', `${process.pid}-${++leaseCounter}.json`);
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

  private async leasedDigests(): Promise<Set<string>> {
    const result = new Set<string>();
    const dir = path.join(this.root, 'leases');
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

  /**
   * Removes unreachable content. Without `all`, dangling images go; with `all`, every image whose
   * id, manifest digest or ref is not in `inUse` goes too. Then blobs and unpacked layers no
   * remaining image (nor an in-use image id, nor a running pull) needs are deleted. `keepDangling`
   * only collects unreferenced content (what `rmi` wants).
   */
  async gc(options: { all?: boolean; inUse?: Set<string>; keepDangling?: boolean } = {}): Promise<GcResult> {
    const inUse = options.inUse ?? new Set<string>();
    return this.withLock(async () => {
      const state = await this.readState();
      const keepImage = async (manifestDigest: string, refs: string[]): Promise<boolean> => {
        if (inUse.has(manifestDigest) || refs.some((ref) => inUse.has(ref))) return true;
        const manifest = (await this.hasBlob(manifestDigest)) ? await this.readJson<OciManifest>(manifestDigest).catch(() => undefined) : undefined;
        return manifest?.config?.digest !== undefined && inUse.has(manifest.config.digest);
      };
      const dangling: string[] = [];
      for (const digest of state.dangling) if (options.keepDangling || (await keepImage(digest, []))) dangling.push(digest);
      state.dangling = dangling;
      if (options.all) {
        for (const [ref, digest] of Object.entries(state.refs)) {
          if (!(await keepImage(digest, this.refsOf(state, digest)))) {
            delete state.refs[ref];
            delete state.pulls[ref];
          }
        }
      }
      await this.writeState(state);

      const keepBlobs = await this.leasedDigests();
      const keepLayers = new Set(keepBlobs);
      const keepConfig = async (configDigest: string) => {
        keepBlobs.add(configDigest);
        if (!(await this.hasBlob(configDigest))) return;
        const config = await this.readJson<OciImageConfig>(configDigest).catch(() => undefined);
        for (const diffId of config?.rootfs?.diff_ids ?? []) keepLayers.add(diffId);
      };
      for (const digest of new Set([...Object.values(state.refs), ...state.dangling])) {
        keepBlobs.add(digest);
        if (!(await this.hasBlob(digest))) continue;
        const manifest = await this.readJson<OciManifest>(digest).catch(() => undefined);
        if (!manifest?.config) continue;
        await keepConfig(manifest.config.digest);
        for (const layer of manifest.layers ?? []) keepBlobs.add(layer.digest);
      }
      for (const id of inUse) if (/^sha(256|512):/.test(id)) await keepConfig(id);

      const result: GcResult = { removedBlobs: 0, removedLayers: 0, freedBytes: 0 };
      for (const algorithm of supportedAlgorithms) {
        const blobDir = path.join(this.root, 'blobs', algorithm);
        for (const hex of await readdir(blobDir).catch(() => [] as string[])) {
          if (keepBlobs.has(`${algorithm}:${hex}`)) continue;
          const file = path.join(blobDir, hex);
          result.freedBytes += (await stat(file).catch(() => undefined))?.size ?? 0;
          await rm(file, { force: true });
          await rm(path.join(this.root, 'layerdb', algorithm, hex), { force: true });
          result.removedBlobs++;
        }
        const layerRoot = path.join(this.root, 'layers', algorithm);
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
      const tmpDir = path.join(this.root, 'tmp');
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
    });
  }
}
