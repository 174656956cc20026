/** Helpers for the layer, rootfs and archive tests: temp dirs, tar builders (honest and hostile), tree listings. */
import { mkdtempSync, readdirSync, lstatSync, rmSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { execFileSync } from 'node:child_process';
import { writeTar, unpackLayer, type TarWriteEntry } from '../../src/images/layers/index.js';
import { encodeHeader, encodePaxRecords, paddingFor } from '../../src/images/layers/tar-header.js';

/** A fresh temp dir removed after the test (even when it fails); unmounts anything left under it first. */
export function tempDir(t: TestContext, prefix = 'berth-test-'): string {
  const dir = mkdtempSync(path.join('/tmp', prefix));
  t.after(() => {
    try {
      const mounts = execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).split('\n').map((line) => line.split(' ')[4]).filter((m) => m?.startsWith(`${dir}/`));
      for (const mountPoint of mounts.sort().reverse()) execFileSync('umount', ['-l', mountPoint]);
    } catch {
      // nothing mounted, or not root
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** True when running as root (needed for chown, device nodes, whiteouts and mounts). */
export const isRoot = process.getuid?.() === 0;

/** Serializes entries with berth's tar writer. */
export async function tarBuffer(entries: TarWriteEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of writeTar(entries)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** A raw entry for hostile archives: written as given, no path cleaning. */
export interface RawEntry {
  name: string;
  typeflag?: string;
  linkname?: string;
  body?: Buffer | string;
  /** Declared size when it differs from the body (for oversized headers). */
  size?: number;
  mode?: number;
  pax?: Array<[string, string]>;
}

/** Builds a tar byte for byte from raw entries, the way a hostile producer could. */
export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const header = (name: string, typeflag: string, size: number, linkname = '', mode = 0o644) =>
    encodeHeader({ name, mode, uid: 0, gid: 0, size, mtime: 1_600_000_000, typeflag, linkname, uname: '', gname: '', devmajor: 0, devminor: 0 });
  for (const entry of entries) {
    if (entry.pax) {
      const records = encodePaxRecords(entry.pax);
      parts.push(header('PaxHeaders/x', 'x', records.length), records, Buffer.alloc(paddingFor(records.length)));
    }
    const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
    const size = entry.size ?? body.length;
    parts.push(header(entry.name, entry.typeflag ?? '0', size, entry.linkname, entry.mode), body, Buffer.alloc(paddingFor(body.length)));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Unpacks an in-memory layer with a fixed digest label. */
export async function unpackBuffer(data: Buffer, dest: string, mediaType = 'application/vnd.oci.image.layer.v1.tar'): Promise<{ diffId: string }> {
  return unpackLayer(Readable.from([data]), { dest, mediaType, digest: 'sha256:test', warn: () => undefined });
}

/** Every path under `dir` (relative, sorted) with a short type tag: `d`, `f`, `l -> target`, `c`, `p`. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, childRel);
      const stats = lstatSync(full);
      if (stats.isDirectory()) {
        out.push(`${childRel}/`);
        walk(childRel);
      } else if (stats.isSymbolicLink()) out.push(`${childRel} -> ${readlinkSync(full)}`);
      else if (stats.isCharacterDevice()) out.push(`${childRel} (char ${stats.rdev})`);
      else if (stats.isFIFO()) out.push(`${childRel} (fifo)`);
      else out.push(childRel);
    }
  };
  walk('');
  return out;
}
