/**
 * A streaming tar reader: yields one entry at a time with its body as an async iterable, so a
 * multi-gigabyte layer never sits in memory. Understands ustar, pax (local and global) and GNU
 * long names; rejects anything it cannot represent faithfully rather than guessing.
 */
import {
  blockSize, decodeHeader, entryTypeOf, isZeroBlock, maxPathBytes, maxPaxHeaderBytes, paddingFor, parsePaxRecords,
  TarFormatError, type TarEntry,
} from './tar-header.js';

/** One entry of a tar stream; `body()` may be read once, before asking for the next entry. */
export interface TarStreamEntry extends TarEntry {
  body(): AsyncIterable<Buffer>;
  /**
   * The whole body at once when the reader already holds all of it, else undefined (then use
   * `body()`). Saves the async iteration for the many small files of a layer.
   */
  readBuffered(): Buffer | undefined;
}

/** Pulls exact byte counts out of a chunked source without concatenating more than needed. */
export class ByteReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer | Uint8Array | string> | Iterator<Buffer | Uint8Array | string>;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>) {
    this.iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  private async fill(wanted: number): Promise<void> {
    while (this.buffered < wanted && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const value = next.value;
      const chunk = Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
  }

  /** Takes up to `max` bytes of what is buffered (at least one byte when anything is left). */
  private take(max: number): Buffer {
    const first = this.chunks[0];
    if (first.length <= max) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.buffered -= max;
    return first.subarray(0, max);
  }

  /** Exactly `n` bytes, or undefined at a clean end of stream; throws on a truncated stream. */
  async readExact(n: number): Promise<Buffer | undefined> {
    await this.fill(n);
    if (this.buffered === 0 && this.ended) return undefined;
    if (this.buffered < n) throw new TarFormatError('unexpected end of tar stream');
    return this.takeExact(n);
  }

  /** Exactly `n` bytes if that many are buffered already, else undefined (nothing is consumed then). */
  takeBuffered(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    return this.takeExact(n);
  }

  /** Takes `n` buffered bytes (the caller checked they are there), joining chunks only when needed. */
  private takeExact(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.take(n);
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const part = this.take(left);
      parts.push(part);
      left -= part.length;
    }
    return Buffer.concat(parts, n);
  }

  /** Yields exactly `n` bytes in chunks as they arrive; throws on a truncated stream. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) await this.fill(1);
      if (this.buffered === 0) throw new TarFormatError('unexpected end of tar stream');
      const part = this.take(left);
      left -= part.length;
      yield part;
    }
  }

  /** Discards exactly `n` bytes. */
  async skip(n: number): Promise<void> {
    for await (const chunk of this.stream(n)) void chunk;
  }

  /** Reads and discards everything left (so a digest over the stream covers all of it). */
  async drain(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    while (!this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
    }
  }
}

function paxNumber(value: Buffer, key: string): number {
  const text = value.toString('latin1');
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(text)) throw new TarFormatError(`invalid pax ${key} "${text.slice(0, 40)}"`);
  const number = Number(text);
  if (!Number.isFinite(number) || Math.abs(number) > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`pax ${key} is out of range`);
  return number;
}

function checkPath(value: string, what: string): string {
  if (Buffer.byteLength(value) > maxPathBytes) throw new TarFormatError(`${what} longer than ${maxPathBytes} bytes`);
  if (value.includes('\0')) throw new TarFormatError(`${what} contains a NUL byte`);
  return value;
}

/** Applies pax records (global ones first, then local) over the ustar fields. */
function applyPax(entry: TarEntry, records: Map<string, Buffer>): void {
  for (const [key, value] of records) {
    switch (key) {
      case 'path': entry.path = checkPath(value.toString('utf8'), 'pax path'); break;
      case 'linkpath': entry.linkname = checkPath(value.toString('utf8'), 'pax linkpath'); break;
      case 'size': {
        const size = paxNumber(value, key);
        if (size < 0 || !Number.isInteger(size)) throw new TarFormatError('invalid pax size');
        entry.size = size;
        break;
      }
      case 'mtime': entry.mtime = paxNumber(value, key); break;
      case 'uid': entry.uid = paxNumber(value, key); break;
      case 'gid': entry.gid = paxNumber(value, key); break;
      case 'uname': entry.uname = value.toString('utf8'); break;
      case 'gname': entry.gname = value.toString('utf8'); break;
      case 'SCHILY.devmajor': entry.devmajor = paxNumber(value, key); break;
      case 'SCHILY.devminor': entry.devminor = paxNumber(value, key); break;
      default:
        if (key.startsWith('SCHILY.xattr.')) entry.xattrs.set(key.slice('SCHILY.xattr.'.length), value);
        else if (key.startsWith('LIBARCHIVE.xattr.')) entry.xattrs.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value.toString('latin1'), 'base64'));
        else if (key.startsWith('GNU.sparse.')) throw new TarFormatError('sparse files are not supported in layers');
        // atime, ctime, comment, charset and vendor keys carry nothing a layer needs.
    }
  }
}

/**
 * Reads a tar stream entry by entry. Stops at the end-of-archive marker (or a clean end of
 * stream); callers that hash the stream drain the rest themselves.
 */
export async function* readTar(reader: ByteReader): AsyncGenerator<TarStreamEntry> {
  let globalPax = new Map<string, Buffer>();
  let localPax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.readExact(blockSize);
    if (!block || isZeroBlock(block)) return;
    const raw = decodeHeader(block);
    const padded = raw.size + paddingFor(raw.size);
    if (raw.typeflag === 'x' || raw.typeflag === 'g' || raw.typeflag === 'L' || raw.typeflag === 'K') {
      const limit = raw.typeflag === 'L' || raw.typeflag === 'K' ? maxPathBytes + 1 : maxPaxHeaderBytes;
      if (raw.size > limit) {
        const what = raw.typeflag === 'x' || raw.typeflag === 'g' ? 'pax header' : 'GNU long name';
        throw new TarFormatError(`${what} of ${raw.size} bytes exceeds the limit of ${limit} bytes`);
      }
      const data = (await reader.readExact(padded)) ?? Buffer.alloc(0);
      if (data.length < padded) throw new TarFormatError('unexpected end of tar stream');
      const body = data.subarray(0, raw.size);
      if (raw.typeflag === 'x') localPax = parsePaxRecords(body);
      else if (raw.typeflag === 'g') globalPax = new Map([...globalPax, ...parsePaxRecords(body)]);
      else {
        const end = body.indexOf(0);
        const text = checkPath(body.subarray(0, end === -1 ? body.length : end).toString('utf8'), 'GNU long name');
        if (raw.typeflag === 'L') longName = text;
        else longLink = text;
      }
      continue;
    }
    const type = entryTypeOf(raw.typeflag);
    if (!type) throw new TarFormatError(`unsupported tar entry type "${raw.typeflag}" for "${raw.name}"`);
    const entry: TarEntry = {
      path: longName ?? raw.name,
      type,
      size: raw.size,
      mode: raw.mode,
      uid: raw.uid,
      gid: raw.gid,
      uname: raw.uname,
      gname: raw.gname,
      mtime: raw.mtime,
      linkname: longLink ?? raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs: new Map(),
    };
    applyPax(entry, globalPax);
    if (localPax) applyPax(entry, localPax);
    localPax = undefined;
    longName = undefined;
    longLink = undefined;
    // Only regular files carry data; a size on anything else is skipped, never interpreted.
    const dataSize = entry.type === 'file' ? entry.size : 0;
    const bodySize = entry.size;
    let delivered = 0;
    let started = false;
    const streamEntry: TarStreamEntry = {
      ...entry,
      size: dataSize,
      body: () => {
        if (started) throw new Error('tar entry body read twice');
        started = true;
        return (async function* counted() {
          for await (const chunk of reader.stream(dataSize)) {
            delivered += chunk.length;
            yield chunk;
          }
        })();
      },
      readBuffered: () => {
        if (started) throw new Error('tar entry body read twice');
        const data = reader.takeBuffered(dataSize);
        if (data) {
          started = true;
          delivered = dataSize;
        }
        return data;
      },
    };
    yield streamEntry;
    await reader.skip(bodySize - delivered);
    await reader.skip(paddingFor(bodySize));
  }
}
