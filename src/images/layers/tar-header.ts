/**
 * Tar header blocks (ustar, GNU and pax) decoded and encoded by hand, because layers are
 * untrusted input: every field is bounds-checked here before anything touches the disk.
 */

/** The size of one tar block; headers and bodies are padded to it. */
export const blockSize = 512;

/** Largest pax extended header berth accepts: real ones are a few hundred bytes. */
export const maxPaxHeaderBytes = 1024 * 1024;

/** Largest path (or link target) berth accepts, as Linux's PATH_MAX. */
export const maxPathBytes = 4096;

/** Kinds of entries berth reads and writes. */
export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

/** The metadata of one tar entry after pax and GNU extensions were applied. */
export interface TarEntry {
  path: string;
  type: TarEntryType;
  size: number;
  /** Permission bits including setuid, setgid and sticky (no file type bits). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Modification time in seconds since the epoch, possibly fractional (pax). */
  mtime: number;
  /** Target of a symlink or hard link. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.*` pax records; values are raw bytes. */
  xattrs: Map<string, Buffer>;
}

/** A malformed or hostile tar stream; the message says what was wrong. */
export class TarFormatError extends Error {}

/** Raw header fields before extensions are applied; `typeflag` is the single type character. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Reads an octal or base-256 (GNU, for values over 8 GiB) numeric field. */
function readNumber(block: Buffer, offset: number, length: number, field: string): number {
  const bytes = block.subarray(offset, offset + length);
  if (bytes[0] & 0x80) {
    if (bytes[0] === 0xff) throw new TarFormatError(`negative base-256 ${field} in tar header`);
    let value = bytes[0] & 0x7f;
    for (let i = 1; i < length; i++) {
      value = value * 256 + bytes[i];
      if (value > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`${field} in tar header is too large`);
    }
    return value;
  }
  const text = bytes.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`invalid ${field} "${text}" in tar header`);
  return parseInt(text, 8);
}

/** True when a 512-byte block is all zeros (end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < blockSize; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes one header block, verifying its checksum. */
export function decodeHeader(block: Buffer): RawHeader {
  const stored = readNumber(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < blockSize; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) throw new TarFormatError('tar header checksum mismatch (not a tar stream, or corrupt)');
  const magic = block.subarray(257, 263).toString('latin1');
  let name = readString(block, 0, 100);
  // Only POSIX ustar has a prefix field; GNU tar keeps atime/ctime at the same offsets.
  if (magic === 'ustar\0') {
    const prefix = readString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: readNumber(block, 100, 8, 'mode') & 0o7777,
    uid: readNumber(block, 108, 8, 'uid'),
    gid: readNumber(block, 116, 8, 'gid'),
    size: readNumber(block, 124, 12, 'size'),
    mtime: readNumber(block, 136, 12, 'mtime'),
    typeflag: String.fromCharCode(block[156] || 0x30),
    linkname: readString(block, 157, 100),
    uname: readString(block, 265, 32),
    gname: readString(block, 297, 32),
    devmajor: readNumber(block, 329, 8, 'devmajor'),
    devminor: readNumber(block, 337, 8, 'devminor'),
  };
}

/** Parses pax records (`<len> <key>=<value>\n`); values stay raw bytes because xattrs are binary. */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let offset = 0;
  while (offset < data.length) {
    if (data[offset] === 0) break; // some writers pad the header body with zeros
    const space = data.indexOf(0x20, offset);
    if (space === -1 || space - offset > 12) throw new TarFormatError('malformed pax record length');
    const lengthText = data.subarray(offset, space).toString('latin1');
    if (!/^[0-9]+$/.test(lengthText)) throw new TarFormatError(`malformed pax record length "${lengthText}"`);
    const length = parseInt(lengthText, 10);
    const end = offset + length;
    if (length < 5 || end > data.length || data[end - 1] !== 0x0a) throw new TarFormatError('malformed pax record');
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new TarFormatError('malformed pax record without key');
    records.set(record.subarray(0, equals).toString('utf8'), Buffer.from(record.subarray(equals + 1)));
    offset = end;
  }
  return records;
}

/** Encodes pax records in the canonical `<len> <key>=<value>\n` form (length includes itself). */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, rawValue] of records) {
    const value = typeof rawValue === 'string' ? Buffer.from(rawValue, 'utf8') : rawValue;
    const body = Buffer.byteLength(key) + value.length + 3; // space, '=', newline
    let length = body + String(body).length;
    if (String(length).length !== String(body).length) length += 1;
    parts.push(Buffer.from(`${length} ${key}=`, 'utf8'), value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function writeString(block: Buffer, text: string, offset: number, length: number): void {
  block.write(text, offset, length, 'utf8');
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  const text = Math.floor(value).toString(8).padStart(length - 1, '0');
  block.write(`${text}\0`, offset, length, 'latin1');
}

/** True when `value` fits an octal field of `length` bytes (with its terminator). */
export function fitsOctal(value: number, length: number): boolean {
  return value >= 0 && Number.isInteger(value) && value < 8 ** (length - 1);
}

const typeflags: Record<TarEntryType, string> = {
  file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6',
};

/** Encodes a ustar header block; callers put anything that does not fit into a pax header first. */
export function encodeHeader(fields: RawHeader): Buffer {
  const block = Buffer.alloc(blockSize);
  writeString(block, fields.name, 0, 100);
  writeOctal(block, fields.mode, 100, 8);
  writeOctal(block, fitsOctal(fields.uid, 8) ? fields.uid : 0, 108, 8);
  writeOctal(block, fitsOctal(fields.gid, 8) ? fields.gid : 0, 116, 8);
  writeOctal(block, fitsOctal(fields.size, 12) ? fields.size : 0, 124, 12);
  writeOctal(block, fitsOctal(fields.mtime, 12) ? fields.mtime : 0, 136, 12);
  block.write(fields.typeflag, 156, 1, 'latin1');
  writeString(block, fields.linkname, 157, 100);
  block.write('ustar\x0000', 257, 8, 'latin1');
  writeString(block, fields.uname, 265, 32);
  writeString(block, fields.gname, 297, 32);
  writeOctal(block, fields.devmajor, 329, 8);
  writeOctal(block, fields.devminor, 337, 8);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < blockSize; i++) sum += block[i];
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** The typeflag character of an entry type. */
export function typeflagOf(type: TarEntryType): string {
  return typeflags[type];
}

/** The entry type of a typeflag, or undefined for extension and unsupported types. */
export function entryTypeOf(typeflag: string): TarEntryType | undefined {
  switch (typeflag) {
    case '0': case '\0': case '7': return 'file';
    case '1': return 'link';
    case '2': return 'symlink';
    case '3': return 'char';
    case '4': return 'block';
    case '5': return 'directory';
    case '6': return 'fifo';
    default: return undefined;
  }
}

/** Bytes of padding after a body of `size` bytes. */
export function paddingFor(size: number): number {
  return (blockSize - (size % blockSize)) % blockSize;
}
