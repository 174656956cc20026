/**
 * Unpacks one layer (untrusted input) into a directory in overlayfs lowerdir form. Nothing is
 * ever followed: every parent component is checked with lstat before an entry is created, so a
 * symlink planted by the layer itself cannot redirect a later entry outside the directory. The
 * layer is built in a temporary sibling and renamed into place only when it is complete.
 * Per-entry file system calls are synchronous on purpose: a layer is thousands of tiny
 * operations, and a thread-pool round trip for each one made unpacking several times slower
 * than GNU tar; only reading the stream stays asynchronous.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync, type Stats } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImageError } from '../../errors.js';
import { decompressStream } from './decompress.js';
import { ByteReader, readTar, type TarStreamEntry } from './tar-reader.js';
import { TarFormatError } from './tar-header.js';
import { applyXattrs, type XattrRecord } from './xattrs.js';

const execFileAsync = promisify(execFile);

/** Options of unpackLayer. */
export interface UnpackOptions {
  /** Final directory; must not exist yet (a temporary sibling is renamed onto it). */
  dest: string;
  /** The layer's media type (OCI or Docker); compression is also sniffed from the data. */
  mediaType: string;
  /** Blob digest, used only to name the layer in error messages. */
  digest?: string;
  /** Called for things skipped on purpose (e.g. xattrs berth does not set); defaults to stderr. */
  warn?: (message: string) => void;
}

/** The overlayfs xattr that marks a directory as hiding the layers below it. */
export const opaqueXattr = 'trusted.overlay.opaque';

const whiteoutPrefix = '.wh.';
const opaqueWhiteout = '.wh..wh..opq';

/** A problem with one entry; turned into an ImageError naming the layer and the entry. */
class EntryError extends Error {
  constructor(readonly entryPath: string, message: string) {
    super(message);
  }
}

const layerMediaTypes = /^application\/vnd\.(oci\.image\.layer(\.nondistributable)?\.v1\.tar(\+gzip|\+zstd)?|docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.gzip|\.zstd)?)$/;

/** True for media types unpackLayer accepts. */
export function isLayerMediaType(mediaType: string): boolean {
  return layerMediaTypes.test(mediaType);
}

/** lstat that returns undefined for a missing path and throws anything else. */
function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** writeSync until every byte is written (short writes are legal, if rare on regular files). */
function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
}

interface DirMeta {
  mode: number;
  mtime: number;
}

/** Applies tar entries to one directory tree; holds what must be done after all entries. */
class LayerWriter {
  /** Relative paths known to be real directories created or checked by us ('' is the root). */
  private readonly safeDirs = new Set<string>(['']);
  /** Directory modes and mtimes, applied last: children change a directory's mtime, and a 0555 directory would block them. */
  private readonly dirMeta = new Map<string, DirMeta>();
  private xattrs: XattrRecord[] = [];
  readonly opaqueDirs = new Set<string>();
  private readonly isRoot = process.getuid?.() === 0;

  constructor(private readonly root: string, private readonly warn: (message: string) => void) {}

  private full(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** Normalizes an entry path to a relative path inside the layer, or throws. */
  normalize(entryPath: string, label = entryPath, what = 'path'): string {
    if (entryPath === '') throw new EntryError(label, `empty ${what}`);
    if (entryPath.startsWith('/')) throw new EntryError(label, `${what} is absolute; layer entries must be relative to the layer directory`);
    const normalized = path.posix.normalize(entryPath).replace(/\/+$/, '');
    if (normalized === '..' || normalized.startsWith('../')) throw new EntryError(label, `${what} escapes the layer directory`);
    return normalized === '.' ? '' : normalized;
  }

  /** Makes sure every component of `dir` is a real directory (creating missing ones), never a symlink. */
  private ensureDir(dir: string, entryPath: string): void {
    if (this.safeDirs.has(dir)) return;
    const parts = dir.split('/');
    let current = '';
    for (const part of parts) {
      current = current ? `${current}/${part}` : part;
      if (this.safeDirs.has(current)) continue;
      const stats = lstatOrUndefined(this.full(current));
      if (!stats) mkdirSync(this.full(current), { mode: 0o755 });
      else if (stats.isSymbolicLink()) throw new EntryError(entryPath, `parent "${current}" is a symbolic link; layers may not write through symlinks`);
      else if (!stats.isDirectory()) throw new EntryError(entryPath, `parent "${current}" is not a directory`);
      this.safeDirs.add(current);
    }
  }

  /** Checks without creating anything that `rel`'s parents are real directories. */
  private checkParents(rel: string, entryPath: string, what: string): void {
    const parent = path.posix.dirname(rel);
    if (parent === '.') return;
    let current = '';
    for (const part of parent.split('/')) {
      current = current ? `${current}/${part}` : part;
      if (this.safeDirs.has(current)) continue;
      const stats = lstatOrUndefined(this.full(current));
      if (!stats) throw new EntryError(entryPath, `${what} "${rel}" is not in the layer`);
      if (stats.isSymbolicLink()) throw new EntryError(entryPath, `${what} "${rel}" goes through symbolic link "${current}"`);
      if (!stats.isDirectory()) throw new EntryError(entryPath, `${what} "${rel}" is not in the layer`);
      this.safeDirs.add(current);
    }
  }

  /** Removes whatever is at `rel` unless it is a directory and `keepDir` is set; returns true when a directory stays. */
  private clear(rel: string, keepDir: boolean): boolean {
    const stats = lstatOrUndefined(this.full(rel));
    if (!stats) return false;
    if (stats.isDirectory()) {
      if (keepDir) return true;
      for (const known of [...this.safeDirs]) if (known === rel || known.startsWith(`${rel}/`)) this.safeDirs.delete(known);
      for (const known of [...this.dirMeta.keys()]) if (known === rel || known.startsWith(`${rel}/`)) this.dirMeta.delete(known);
      for (const known of [...this.opaqueDirs]) if (known === rel || known.startsWith(`${rel}/`)) this.opaqueDirs.delete(known);
    }
    // Pending xattrs of what is removed must go too: if a symlink took its place, setting them
    // later would write through it, outside the layer.
    const under = (known: string) => known === rel || known.startsWith(`${rel}/`);
    if (this.xattrs.some((record) => under(record.path))) this.xattrs = this.xattrs.filter((record) => !under(record.path));
    rmSync(this.full(rel), { recursive: true, force: true });
    return false;
  }

  /** True when every parent of `rel` is a real directory of the layer (checked again before xattrs are set). */
  private parentsAreDirs(rel: string, checked: Map<string, boolean>): boolean {
    let current = '';
    for (const part of path.posix.dirname(rel).split('/')) {
      if (part === '.') break;
      current = current ? `${current}/${part}` : part;
      let ok = checked.get(current);
      if (ok === undefined) {
        ok = lstatOrUndefined(this.full(current))?.isDirectory() === true;
        checked.set(current, ok);
      }
      if (!ok) return false;
    }
    return true;
  }

  private setOwner(file: string, uid: number, gid: number): void {
    if (this.isRoot) lchownSync(file, uid, gid);
  }

  /**
   * Runs `create` (which must fail with EEXIST rather than follow or overwrite anything); only
   * when something is already there is it cleared and `create` tried again. Most entries are
   * new, so this saves an lstat per entry.
   */
  private createFresh<T>(rel: string, create: () => T): T {
    try {
      return create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    this.clear(rel, false);
    return create();
  }

  /** Applies one entry. Everything is synchronous: see the comment at the top of the file. */
  async apply(entry: TarStreamEntry): Promise<void> {
    const rel = this.normalize(entry.path);
    if (rel === '') {
      if (entry.type !== 'directory') throw new EntryError(entry.path, 'the layer root must be a directory');
      this.setOwner(this.root, entry.uid, entry.gid);
      this.dirMeta.set('', { mode: entry.mode, mtime: entry.mtime });
      this.collectXattrs('', entry);
      return;
    }
    const slash = rel.lastIndexOf('/');
    const base = slash === -1 ? rel : rel.slice(slash + 1);
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    if (base.startsWith(whiteoutPrefix)) return this.applyWhiteout(entry, parent, base);
    this.ensureDir(parent, entry.path);
    const full = this.full(rel);
    switch (entry.type) {
      case 'directory': {
        let created = true;
        try {
          mkdirSync(full, { mode: 0o755 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          created = false;
        }
        // An existing directory is kept (tar semantics); anything else there is replaced.
        if (!created && !this.clear(rel, true)) mkdirSync(full, { mode: 0o755 });
        this.safeDirs.add(rel);
        this.setOwner(full, entry.uid, entry.gid);
        this.dirMeta.set(rel, { mode: entry.mode, mtime: entry.mtime });
        break;
      }
      case 'file': {
        // O_EXCL|O_NOFOLLOW: a fresh inode, never opened through a symlink; anything already
        // at the path makes the open fail, and is then cleared first.
        const fd = this.createFresh(rel, () => openSync(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
        try {
          if (entry.size > 0) {
            const body = entry.readBuffered();
            if (body) writeAll(fd, body);
            else for await (const chunk of entry.body()) writeAll(fd, chunk);
          }
          if (this.isRoot) fchownSync(fd, entry.uid, entry.gid);
          fchmodSync(fd, entry.mode); // after chown, which clears setuid bits
          futimesSync(fd, entry.mtime, entry.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink': {
        if (entry.linkname === '') throw new EntryError(entry.path, 'symbolic link without a target');
        this.createFresh(rel, () => symlinkSync(entry.linkname, full));
        this.setOwner(full, entry.uid, entry.gid);
        lutimesSync(full, entry.mtime, entry.mtime);
        break;
      }
      case 'link': {
        const target = this.normalize(entry.linkname, entry.path, 'hard link target');
        if (target === '') throw new EntryError(entry.path, 'hard link target is the layer directory');
        this.checkParents(target, entry.path, 'hard link target');
        const stats = lstatOrUndefined(this.full(target));
        if (!stats) throw new EntryError(entry.path, `hard link target "${target}" is not in the layer`);
        if (stats.isDirectory()) throw new EntryError(entry.path, `hard link target "${target}" is a directory`);
        if (target === rel) break;
        this.createFresh(rel, () => linkSync(this.full(target), full));
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (entry.type !== 'fifo' && !this.isRoot) throw new EntryError(entry.path, 'device nodes can only be unpacked as root');
        this.clear(rel, false);
        await this.mknod(full, entry.type, entry.devmajor, entry.devminor);
        this.setOwner(full, entry.uid, entry.gid);
        chmodSync(full, entry.mode);
        lutimesSync(full, entry.mtime, entry.mtime);
        break;
      }
    }
    this.collectXattrs(rel, entry);
  }

  private async mknod(full: string, type: 'char' | 'block' | 'fifo', major: number, minor: number): Promise<void> {
    const args = type === 'fifo' ? [full, 'p'] : [full, type === 'char' ? 'c' : 'b', String(major), String(minor)];
    try {
      await execFileAsync('mknod', ['-m', '0600', ...args]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`mknod: ${stderr || (err as Error).message}`);
    }
  }

  /** `.wh.<name>` becomes overlayfs's whiteout (a 0/0 char device); `.wh..wh..opq` marks its directory opaque. */
  private async applyWhiteout(entry: TarStreamEntry, parent: string, base: string): Promise<void> {
    if (base === opaqueWhiteout) {
      this.ensureDir(parent, entry.path);
      this.opaqueDirs.add(parent);
      return;
    }
    // Other `.wh..wh.` names are aufs bookkeeping (hard link directories) with no meaning here.
    if (base.startsWith(`${whiteoutPrefix}${whiteoutPrefix}`)) return;
    const name = base.slice(whiteoutPrefix.length);
    if (name === '' || name === '.' || name === '..') throw new EntryError(entry.path, 'invalid whiteout name');
    if (!this.isRoot) throw new EntryError(entry.path, 'whiteouts are device nodes and can only be unpacked as root');
    this.ensureDir(parent, entry.path);
    const rel = parent ? `${parent}/${name}` : name;
    this.clear(rel, false);
    const full = this.full(rel);
    await this.mknod(full, 'char', 0, 0);
    lchownSync(full, entry.uid, entry.gid);
    chmodSync(full, 0);
    lutimesSync(full, entry.mtime, entry.mtime);
  }

  private collectXattrs(rel: string, entry: TarStreamEntry): void {
    for (const [name, value] of entry.xattrs) {
      // overlayfs interprets its own xattrs (redirects, metacopy): a layer must not plant them.
      if (name.startsWith('trusted.overlay.')) {
        this.warn(`layer entry "${entry.path}": ignoring xattr "${name}"`);
        continue;
      }
      this.xattrs.push({ path: rel || '.', name, value });
    }
  }

  /** Work that must follow all entries: opaque markers, other xattrs, directory modes and mtimes (deepest first). */
  async finish(): Promise<void> {
    const checked = new Map<string, boolean>();
    const safe = (record: XattrRecord) => record.path === '.' || (this.parentsAreDirs(record.path, checked) && lstatOrUndefined(this.full(record.path)) !== undefined);
    const opaque: XattrRecord[] = [...this.opaqueDirs].map((dir) => ({ path: dir || '.', name: opaqueXattr, value: Buffer.from('y') }));
    await applyXattrs(this.root, opaque.filter((record) => safe(record) && lstatOrUndefined(this.full(record.path === '.' ? '' : record.path))?.isDirectory()));
    const xattrs = this.xattrs.filter(safe);
    if (xattrs.length) {
      try {
        await applyXattrs(this.root, xattrs);
      } catch (err) {
        this.warn(`some extended attributes of the layer were not set: ${(err as Error).message}`);
      }
    }
    const dirs = [...this.dirMeta.entries()].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    for (const [rel, meta] of dirs) {
      const full = this.full(rel);
      if (!lstatOrUndefined(full)?.isDirectory()) continue;
      chmodSync(full, meta.mode);
      utimesSync(full, meta.mtime, meta.mtime);
    }
  }
}

function layerLabel(digest: string | undefined): string {
  return digest ? `layer ${digest}` : 'layer';
}

/** Converts anything thrown while unpacking into an ImageError naming the layer (and entry). */
function toImageError(err: unknown, digest: string | undefined): ImageError {
  if (err instanceof ImageError) return err;
  const label = layerLabel(digest);
  if (err instanceof EntryError) return new ImageError(`${label} entry ${JSON.stringify(err.entryPath)}: ${err.message}`);
  if (err instanceof TarFormatError) return new ImageError(`${label} is not a valid tar archive: ${err.message}`);
  const message = err instanceof Error ? err.message : String(err);
  return new ImageError(`${label} could not be unpacked: ${message}`, undefined, { cause: err });
}

/**
 * Unpacks a layer stream into `dest` and returns its diff id (sha256 of the uncompressed tar,
 * computed while streaming). On any error the partial directory is removed and an ImageError is
 * thrown; `dest` appears only complete, by rename.
 */
export async function unpackLayer(input: NodeJS.ReadableStream, options: UnpackOptions): Promise<{ diffId: string }> {
  const { dest, mediaType, digest } = options;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  if (!isLayerMediaType(mediaType)) {
    (input as { destroy?: () => void }).destroy?.();
    throw new ImageError(`${layerLabel(digest)} has unsupported media type "${mediaType}"`, undefined, { hint: 'berth unpacks OCI and Docker tar layers (plain, gzip or zstd)' });
  }
  const temp = `${dest}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(temp, { mode: 0o755 });
  try {
    const hash = createHash('sha256');
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const chunk of decompressStream(input as AsyncIterable<Buffer>)) {
        hash.update(chunk);
        yield chunk;
      }
    }
    const reader = new ByteReader(hashed());
    const writer = new LayerWriter(temp, warn);
    for await (const entry of readTar(reader)) await writer.apply(entry);
    await reader.drain();
    await writer.finish();
    const diffId = `sha256:${hash.digest('hex')}`;
    await rename(temp, dest);
    return { diffId };
  } catch (err) {
    (input as { destroy?: () => void }).destroy?.();
    await rm(temp, { recursive: true, force: true });
    throw toImageError(err, digest);
  }
}
