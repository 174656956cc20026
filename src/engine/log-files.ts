/**
 * The json-file log format the runtime's monitor writes: one `{"log","stream","time"}` object per
 * line, lines over 16 KiB split into several entries (all but the last without `\n`), and
 * size-based rotation to `<log>.1`, `<log>.2`, ... (higher numbers are older).
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** One entry of a json-file log as written. */
export interface JsonLogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 time with nanoseconds, UTC. */
  time: string;
}

/** One log line of a container, partial entries joined, without its newline. */
export interface LogLine {
  /** Container name, e.g. `demo-web-1`. */
  name: string;
  service: string;
  /** Replica number. */
  number: number;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 time of the line's first entry, as the log has it. */
  time: string;
  /** `time` in milliseconds since the epoch. */
  timeMs: number;
  /** The line as the container wrote it, without the trailing newline. */
  message: string;
  /** What to print: `message`, preceded by `time` and a space when timestamps were asked for. */
  text: string;
}

/** Which container a log belongs to (a subset of ContainerRecord). */
export interface LogSource {
  name: string;
  service: string;
  number: number;
  logPath: string;
}

/** Parses one json-file line; undefined for a line that is not a log entry (torn or corrupt). */
export function parseEntry(line: string): JsonLogEntry | undefined {
  if (line.length < 2 || line.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const value = JSON.parse(line) as JsonLogEntry;
    return typeof value.log === 'string' && typeof value.time === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Joins split entries into lines, per stream, in the order entries arrive. An entry without a
 * trailing newline waits for its continuation; `flush()` releases what is still waiting (the
 * monitor flushes a partial last line when the container exits).
 */
export class LineAssembler {
  private readonly pending = new Map<string, { entry: JsonLogEntry; parts: string[] }>();

  constructor(private readonly source: LogSource, private readonly timestamps: boolean, private readonly emit: (line: LogLine) => void) {}

  /** Takes one entry; emits a line when the entry completes one. */
  push(entry: JsonLogEntry): void {
    const stream = entry.stream === 'stderr' ? 'stderr' : 'stdout';
    const waiting = this.pending.get(stream);
    const complete = entry.log.endsWith('\n');
    if (!complete) {
      if (waiting) waiting.parts.push(entry.log);
      else this.pending.set(stream, { entry, parts: [entry.log] });
      return;
    }
    const body = entry.log.slice(0, -1);
    if (waiting) {
      this.pending.delete(stream);
      this.emitLine(waiting.entry, waiting.parts.join('') + body);
    } else {
      this.emitLine(entry, body);
    }
  }

  /** True while a partial line waits for its continuation. */
  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Emits the partial lines still waiting. */
  flush(): void {
    for (const [stream, waiting] of this.pending) {
      this.pending.delete(stream);
      this.emitLine(waiting.entry, waiting.parts.join(''));
    }
  }

  private emitLine(entry: JsonLogEntry, message: string): void {
    const { name, service, number } = this.source;
    const stream = entry.stream === 'stderr' ? 'stderr' : 'stdout';
    this.emit({ name, service, number, stream, time: entry.time, timeMs: Date.parse(entry.time), message, text: this.timestamps ? `${entry.time} ${message}` : message });
  }
}

/** The log's files, oldest first: `<log>.N` ... `<log>.1`, `<log>` (only those that exist). */
export async function logFiles(logPath: string): Promise<string[]> {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const rotated = names
    .filter((name) => name.startsWith(`${base}.`) && /^\d+$/.test(name.slice(base.length + 1)))
    .map((name) => Number(name.slice(base.length + 1)))
    .sort((a, b) => b - a)
    .map((index) => `${logPath}.${index}`);
  return names.includes(base) ? [...rotated, logPath] : rotated;
}

/** The inode of a path, or undefined when it does not exist. */
export async function inodeOf(file: string): Promise<{ ino: number; size: number } | undefined> {
  try {
    const info = await stat(file);
    return { ino: info.ino, size: info.size };
  } catch {
    return undefined;
  }
}

const chunkSize = 64 * 1024;

/**
 * Calls `onLine` for every complete text line of `file` from byte `start` up to byte `end`, in
 * order; returns the offset after the last complete line (a torn last line is left for later).
 * `onLine` returning false stops early.
 */
export async function readLinesForward(file: FileHandle, start: number, end: number, onLine: (line: string) => boolean | void): Promise<number> {
  const buffer = Buffer.allocUnsafe(chunkSize);
  let carry: Buffer | undefined;
  let position = start;
  let consumed = start;
  while (position < end) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(chunkSize, end - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const data: Buffer = carry ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
    const dataStart = position - data.length; // file offset of data[0]
    let lineStart = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, lineStart)) {
      const keepGoing = onLine(data.toString('utf8', lineStart, i));
      lineStart = i + 1;
      consumed = dataStart + lineStart;
      if (keepGoing === false) return consumed;
    }
    carry = lineStart < data.length ? Buffer.from(data.subarray(lineStart)) : undefined;
  }
  return consumed;
}

/**
 * Calls `onLine` for the complete text lines of `file` below byte `end`, newest first, reading
 * backwards in chunks; stops when `onLine` returns false. This is what makes `--tail` cheap on
 * big logs.
 */
export async function readLinesBackward(file: FileHandle, end: number, onLine: (line: string) => boolean | void): Promise<void> {
  const buffer = Buffer.allocUnsafe(chunkSize);
  let carry: Buffer | undefined; // start of a line whose beginning is further back
  let position = end;
  // A torn last line (no newline yet) is not a line.
  let skipTorn = true;
  while (position > 0) {
    const length = Math.min(chunkSize, position);
    position -= length;
    const { bytesRead } = await file.read(buffer, 0, length, position);
    let data: Buffer = Buffer.from(buffer.subarray(0, bytesRead));
    if (carry) data = Buffer.concat([data, carry]);
    let lineEnd = data.length;
    if (skipTorn) {
      const last = data.lastIndexOf(10);
      if (last === -1) { carry = data; continue; }
      lineEnd = last;
      skipTorn = false;
    }
    // Invariant: the byte at data[lineEnd] (or right after data) is a newline.
    while (lineEnd > 0) {
      const i = data.lastIndexOf(10, lineEnd - 1);
      if (i === -1) break;
      if (lineEnd > i + 1 && onLine(data.toString('utf8', i + 1, lineEnd)) === false) return;
      lineEnd = i;
    }
    carry = data.subarray(0, lineEnd);
  }
  if (!skipTorn && carry && carry.length > 0) onLine(carry.toString('utf8'));
}

/** The offset just after the last newline below `size` (a torn last line starts there). */
export async function completeEnd(file: FileHandle, size: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(chunkSize);
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - chunkSize);
    const { bytesRead } = await file.read(buffer, 0, end - start, start);
    const last = buffer.subarray(0, bytesRead).lastIndexOf(10);
    if (last !== -1) return start + last + 1;
    end = start;
  }
  return 0;
}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a `--since`/`--until` value to milliseconds since the epoch: RFC 3339 (`2024-05-01T10:00:00Z`,
 * without a zone it is local time), a date (`2024-05-01`), Unix seconds (`1714557600.5`) or a
 * duration before `now` (`10m`, `1h30m`, `45s`).
 */
export function parseLogTime(value: string, flag: string, now = Date.now()): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) {
    let total = 0;
    for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * durationUnits[unit];
    return now - Math.round(total);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(text)) {
    const normalized = text.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    // A date alone is UTC to Date.parse; a date is local time like a zone-less date-time.
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(normalized) ? Date.parse(`${normalized}T00:00:00`) : Date.parse(normalized);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new UsageError(`invalid value "${value}" for ${flag}`, {
    hint: 'use a time (2024-05-01T10:00:00Z, 2024-05-01), Unix seconds (1714557600) or a duration ago (10m, 1h30m)',
  });
}
