/**
 * A deterministic tar writer: the same entries always give the same bytes (no pax atime/ctime,
 * fixed pax header names, numeric owners unless names are given), so layer digests are stable
 * across machines. Anything that does not fit a ustar field goes into a pax header.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { blockSize, encodeHeader, encodePaxRecords, fitsOctal, paddingFor, typeflagOf, type TarEntryType } from './tar-header.js';
import { opaqueXattr } from './unpack.js';
import { readXattrsRecursive } from './xattrs.js';

/** One entry to write. Only `path` and `type` are required; bodies are for regular files. */
export interface TarWriteEntry {
  path: string;
  type: TarEntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; whole seconds go to the ustar field, fractions to pax. */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
  /** Regular files: the body size in bytes (required with a streamed body). */
  size?: number;
  body?: Buffer | string | (() => AsyncIterable<Buffer>);
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** The header blocks (pax extension first when needed) of one entry. */
export function encodeEntryHeader(entry: TarWriteEntry): Buffer {
  const size = entry.type === 'file' ? (typeof entry.body === 'string' ? Buffer.byteLength(entry.body) : Buffer.isBuffer(entry.body) ? entry.body.length : entry.size ?? 0) : 0;
  let name = entry.path.replace(/^\/+/, '');
  if (entry.type === 'directory' && !name.endsWith('/')) name += '/';
  const linkname = entry.linkname ?? '';
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  const mtime = entry.mtime ?? 0;
  const pax: Array<[string, Buffer | string]> = [];
  if (Buffer.byteLength(name) > 100 || !isAscii(name)) pax.push(['path', name]);
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) pax.push(['linkpath', linkname]);
  if (!fitsOctal(size, 12)) pax.push(['size', String(size)]);
  if (!fitsOctal(uid, 8)) pax.push(['uid', String(uid)]);
  if (!fitsOctal(gid, 8)) pax.push(['gid', String(gid)]);
  if (!Number.isInteger(mtime) || !fitsOctal(mtime, 12)) pax.push(['mtime', String(mtime)]);
  for (const [key, value] of [...(entry.xattrs ?? new Map<string, Buffer>())].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    pax.push([`SCHILY.xattr.${key}`, value]);
  }
  const fields = {
    name: Buffer.byteLength(name) > 100 || !isAscii(name) ? Buffer.from(name).subarray(0, 100).toString('latin1').replace(/[^\x20-\x7e]/g, '_') : name,
    mode: (entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644)) & 0o7777,
    uid, gid, size,
    mtime: Math.max(0, Math.floor(mtime)),
    typeflag: typeflagOf(entry.type),
    linkname: Buffer.byteLength(linkname) > 100 || !isAscii(linkname) ? '' : linkname,
    uname: entry.uname ?? '',
    gname: entry.gname ?? '',
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
  };
  const blocks: Buffer[] = [];
  if (pax.length) {
    const records = encodePaxRecords(pax);
    const base = path.posix.basename(name).replace(/[^\x20-\x7e]/g, '_').slice(0, 80) || 'entry';
    blocks.push(encodeHeader({ ...fields, name: `PaxHeaders/${base}`, typeflag: 'x', size: records.length, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 }));
    blocks.push(records, Buffer.alloc(paddingFor(records.length)));
  }
  blocks.push(encodeHeader(fields));
  return Buffer.concat(blocks);
}

/** Serializes entries into tar bytes, ending with the two zero blocks of the end-of-archive marker. */
export async function* writeTar(entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    yield encodeEntryHeader(entry);
    if (entry.type !== 'file' || entry.body === undefined) continue;
    if (typeof entry.body === 'string' || Buffer.isBuffer(entry.body)) {
      const body = Buffer.from(entry.body);
      yield body;
      yield Buffer.alloc(paddingFor(body.length));
      continue;
    }
    const expected = entry.size ?? 0;
    let written = 0;
    for await (const chunk of entry.body()) {
      written += chunk.length;
      if (written > expected) throw new Error(`tar entry "${entry.path}" grew while being written (expected ${expected} bytes)`);
      yield chunk;
    }
    if (written !== expected) throw new Error(`tar entry "${entry.path}" shrank while being written (${written} of ${expected} bytes)`);
    yield Buffer.alloc(paddingFor(expected));
  }
  yield Buffer.alloc(blockSize * 2);
}

/** writeTar as a Node stream, for piping into files and blob stores. */
export function tarStream(entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>): Readable {
  return Readable.from(writeTar(entries), { objectMode: false });
}

/** Options of directoryEntries. */
export interface DirectoryEntriesOptions {
  /** Prefix for entry paths (e.g. `rootfs/`); none by default. */
  prefix?: string;
  /** Fixed mtime for every entry, for reproducible output; the files' own mtimes by default. */
  mtime?: number;
  /** Read xattrs with getfattr (one process for the whole tree). */
  xattrs?: boolean;
  /** Translate overlayfs whiteouts (0/0 char devices, opaque dirs) back to `.wh.` entries, for layer diffs of an upper dir. */
  overlayWhiteouts?: boolean;
}

/**
 * Walks `dir` (sorted, not following symlinks) and yields one entry per file; files with several
 * links become one file and hard links to it. The root directory itself is not included.
 */
export async function* directoryEntries(dir: string, options: DirectoryEntriesOptions = {}): AsyncGenerator<TarWriteEntry> {
  const prefix = options.prefix ?? '';
  const xattrs = new Map<string, Map<string, Buffer>>();
  if (options.xattrs || options.overlayWhiteouts) {
    for (const record of await readXattrsRecursive(dir)) {
      if (!options.xattrs && record.name !== opaqueXattr) continue;
      const map = xattrs.get(record.path) ?? new Map<string, Buffer>();
      map.set(record.name, record.value);
      xattrs.set(record.path, map);
    }
  }
  const inodes = new Map<string, string>();
  async function* walk(rel: string): AsyncGenerator<TarWriteEntry> {
    const names = (await readdir(rel ? path.join(dir, rel) : dir)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, childRel);
      const stats = await lstat(full);
      const attrs = new Map(xattrs.get(childRel) ?? []);
      const opaque = attrs.get(opaqueXattr)?.toString() === 'y';
      for (const key of [...attrs.keys()]) if (key.startsWith('trusted.overlay.')) attrs.delete(key);
      const base = {
        path: `${prefix}${childRel}`,
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        gid: stats.gid,
        mtime: options.mtime ?? Math.floor(stats.mtimeMs / 1000),
        xattrs: options.xattrs && attrs.size ? attrs : undefined,
      };
      if (options.overlayWhiteouts && stats.isCharacterDevice() && stats.rdev === 0) {
        const parent = path.posix.dirname(childRel);
        yield { ...base, path: `${prefix}${parent === '.' ? '' : `${parent}/`}.wh.${name}`, type: 'file', mode: 0o644, size: 0, body: Buffer.alloc(0), xattrs: undefined };
        continue;
      }
      if (stats.isDirectory()) {
        yield { ...base, type: 'directory' };
        if (options.overlayWhiteouts && opaque) yield { ...base, path: `${prefix}${childRel}/.wh..wh..opq`, type: 'file', mode: 0o644, size: 0, body: Buffer.alloc(0), xattrs: undefined };
        yield* walk(childRel);
        continue;
      }
      if (stats.nlink > 1 && !stats.isSymbolicLink()) {
        const key = `${stats.dev}:${stats.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) {
          yield { ...base, type: 'link', linkname: first, xattrs: undefined };
          continue;
        }
        inodes.set(key, `${prefix}${childRel}`);
      }
      if (stats.isFile()) yield { ...base, type: 'file', size: stats.size, body: () => createReadStream(full) as AsyncIterable<Buffer> };
      else if (stats.isSymbolicLink()) yield { ...base, type: 'symlink', linkname: await readlink(full) };
      else if (stats.isFIFO()) yield { ...base, type: 'fifo' };
      else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
        yield { ...base, type: stats.isCharacterDevice() ? 'char' : 'block', devmajor: Math.floor(stats.rdev / 256) & 0xfff, devminor: (stats.rdev & 0xff) | ((stats.rdev >> 12) & 0xfff00) };
      }
      // Sockets cannot be archived; tar skips them too.
    }
  }
  yield* walk('');
}
