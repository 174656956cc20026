/**
 * Reading and following containers' json-file logs (`berth logs`, attached `up`, the JS API).
 * Logs are files the runtime's monitors write, so reading needs no daemon: history comes from
 * the files (rotations included, oldest first), following watches the log directory (fs.watch,
 * with a slow stat poll as a safety net, a faster one where watching fails) and survives
 * rotation, restarts (the monitor appends to the same file) and recreation (a new file).
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { completeEnd, inodeOf, LineAssembler, logFiles, parseEntry, readLinesBackward, readLinesForward, type JsonLogEntry, type LogLine, type LogSource } from './log-files.js';

export { parseLogTime, type LogLine, type LogSource } from './log-files.js';

/** Which part of a log to read. */
export interface LogReadOptions {
  /** Only the last N lines (after since/until are applied); undefined or negative: all. */
  tail?: number;
  /** Only lines at or after this time (ms since the epoch; see parseLogTime). */
  since?: number;
  /** Only lines before this time (ms since the epoch). */
  until?: number;
  /** Put each line's RFC 3339 time in front of `text`. */
  timestamps?: boolean;
}

interface Span {
  handle: FileHandle;
  /** Read below this offset only (the size when the read began). */
  end: number;
}

/** Reads a container's log lines, rotations included, oldest first. */
export async function readLogs(record: LogSource, options: LogReadOptions = {}): Promise<LogLine[]> {
  const spans: Span[] = [];
  try {
    for (const file of await logFiles(record.logPath)) {
      const handle = await open(file, 'r').catch(() => undefined);
      if (handle) spans.push({ handle, end: (await handle.stat()).size });
    }
    return await readSpans(record, spans, options);
  } finally {
    await Promise.all(spans.map((span) => span.handle.close()));
  }
}

function inWindow(timeMs: number, options: LogReadOptions): 'before' | 'in' | 'after' {
  if (options.since !== undefined && timeMs < options.since) return 'before';
  if (options.until !== undefined && timeMs >= options.until) return 'after';
  return 'in';
}

/** Lines of `spans` (oldest first) within the options' window. */
async function readSpans(source: LogSource, spans: Span[], options: LogReadOptions): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const assembler = new LineAssembler(source, options.timestamps ?? false, (line) => lines.push(line));
  if (options.tail !== undefined && options.tail >= 0) {
    for (const entry of await tailEntries(spans, options.tail, options)) assembler.push(entry);
    assembler.flush();
    return lines.slice(Math.max(0, lines.length - options.tail));
  }
  for (const span of spans) {
    if (options.since !== undefined) {
      // Skip whole rotated files that end before --since.
      let last: JsonLogEntry | undefined;
      await readLinesBackward(span.handle, span.end, (line) => { last = parseEntry(line); return last === undefined; });
      if (last && Date.parse(last.time) < options.since) continue;
    }
    let done = false;
    await readLinesForward(span.handle, 0, span.end, (line) => {
      const entry = parseEntry(line);
      if (!entry) return;
      const where = inWindow(Date.parse(entry.time), options);
      if (where === 'after') { done = true; return false; }
      if (where === 'in') assembler.push(entry);
    });
    if (done) break;
  }
  assembler.flush();
  return lines;
}

/**
 * The entries making up the last `count` lines, read backwards from the newest file. An entry
 * ending in a newline ends a line; split entries before it are taken along.
 */
async function tailEntries(spans: Span[], count: number, options: LogReadOptions): Promise<JsonLogEntry[]> {
  const newestFirst: JsonLogEntry[] = [];
  if (count === 0) return newestFirst;
  let lineEnds = 0;
  const seenStreams = new Set<string>();
  let finished = false;
  for (let i = spans.length - 1; i >= 0 && !finished; i--) {
    await readLinesBackward(spans[i].handle, spans[i].end, (line) => {
      const entry = parseEntry(line);
      if (!entry) return true;
      const where = inWindow(Date.parse(entry.time), options);
      if (where === 'before') { finished = true; return false; }
      if (where === 'after') return true;
      const endsLine = entry.log.endsWith('\n') || !seenStreams.has(entry.stream);
      seenStreams.add(entry.stream);
      if (lineEnds >= count && endsLine) { finished = true; return false; }
      if (endsLine) lineEnds++;
      newestFirst.push(entry);
      return true;
    });
  }
  return newestFirst.reverse();
}

/** A running follow of several containers' logs. */
export interface LogFollow {
  /** Resolves once the history of the initial containers has been passed to onLine. */
  readonly ready: Promise<void>;
  /** Follows one more container (a new replica or a recreated container); a log already followed is ignored. */
  add(record: LogSource): Promise<void>;
  /** Reads whatever the files hold now and releases partial lines (before reporting an exit). */
  flush(): Promise<void>;
  /** Stops watching and closes the files. */
  stop(): void;
}

/**
 * Prints history (by `options`, merged across containers by time) and then every new line of
 * `records` to `onLine` until stop(). Lines at or after `until` are dropped.
 */
export function followLogs(records: readonly LogSource[], options: LogReadOptions, onLine: (line: LogLine) => void): LogFollow {
  const followers = new Map<string, Follower>();
  const watchers = new Map<string, FSWatcher | undefined>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const ensureWatch = (dir: string) => {
    if (stopped || watchers.get(dir)) return;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        for (const follower of followers.values()) {
          if (path.dirname(follower.source.logPath) === dir && (!filename || filename.startsWith(path.basename(follower.source.logPath)))) follower.schedule();
        }
      });
      watcher.on('error', () => { watcher.close(); watchers.set(dir, undefined); });
      watchers.set(dir, watcher);
    } catch {
      watchers.set(dir, undefined); // no directory yet, or no inotify: the poll covers it
    }
  };

  // Safety-net poll: slow while every directory is watched, faster where watching failed.
  const tick = () => {
    if (stopped) return;
    for (const follower of followers.values()) {
      ensureWatch(path.dirname(follower.source.logPath));
      follower.schedule();
    }
    const unwatched = [...watchers.values()].some((watcher) => watcher === undefined);
    timer = setTimeout(tick, unwatched ? 250 : 1000);
  };

  const start = async (sources: readonly LogSource[]) => {
    const fresh = sources.filter((source) => !followers.has(source.logPath));
    const started = fresh.map((source) => {
      const follower = new Follower(source, options, (line) => { if (!stopped) onLine(line); });
      followers.set(source.logPath, follower);
      return follower;
    });
    const histories = await Promise.all(started.map((follower) => follower.start()));
    const merged = histories.flat().sort((a, b) => a.timeMs - b.timeMs);
    for (const line of merged) if (!stopped) onLine(line);
    for (const follower of started) {
      ensureWatch(path.dirname(follower.source.logPath));
      follower.following = true;
      follower.schedule();
    }
  };

  const ready = start(records).then(() => { if (!stopped) tick(); });
  return {
    ready,
    async add(record) {
      await ready;
      await start([record]);
    },
    async flush() {
      await Promise.all([...followers.values()].map((follower) => follower.poll(true)));
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher?.close();
      for (const follower of followers.values()) follower.close();
    },
  };
}

/** Follows one container's log file across rotations and recreation. */
class Follower {
  following = false;
  private handle?: FileHandle;
  private ino = -1;
  private offset = 0;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private closed = false;
  private partialTimer?: NodeJS.Timeout;
  private readonly assembler: LineAssembler;

  constructor(readonly source: LogSource, private readonly options: LogReadOptions, emit: (line: LogLine) => void) {
    this.assembler = new LineAssembler(source, options.timestamps ?? false, emit);
  }

  /** Opens the current file and returns the history below its present end. */
  async start(): Promise<LogLine[]> {
    const spans: Span[] = [];
    const files = await logFiles(this.source.logPath);
    for (const file of files) {
      const handle = await open(file, 'r').catch(() => undefined);
      if (!handle) continue;
      const info = await handle.stat();
      const end = await completeEnd(handle, info.size);
      spans.push({ handle, end });
      if (file === this.source.logPath) {
        this.handle = handle;
        this.ino = info.ino;
        this.offset = end;
      }
    }
    try {
      return await readSpans(this.source, spans, this.options);
    } finally {
      await Promise.all(spans.filter((span) => span.handle !== this.handle).map((span) => span.handle.close()));
    }
  }

  /** Queues a poll; polls never overlap and a burst of events makes one more poll at most. */
  schedule(): void {
    if (!this.following || this.queued || this.closed) return;
    this.queued = true;
    this.chain = this.chain.then(() => { this.queued = false; return this.read(false); }).catch(() => undefined);
  }

  /** Polls now (after any running poll); `releasePartial` emits partial lines too. */
  poll(releasePartial: boolean): Promise<void> {
    this.chain = this.chain.then(() => this.read(releasePartial)).catch(() => undefined);
    return this.chain;
  }

  close(): void {
    this.closed = true;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    const handle = this.handle;
    this.handle = undefined;
    this.chain = this.chain.then(() => handle?.close()).catch(() => undefined);
  }

  private take = (line: string) => {
    const entry = parseEntry(line);
    if (!entry) return;
    if (this.options.until !== undefined && Date.parse(entry.time) >= this.options.until) return;
    this.assembler.push(entry);
  };

  private async drain(handle: FileHandle, from: number): Promise<number> {
    const { size } = await handle.stat();
    return readLinesForward(handle, from, size, this.take);
  }

  private async read(releasePartial: boolean): Promise<void> {
    if (this.closed) return;
    const logPath = this.source.logPath;
    if (this.handle) this.offset = await this.drain(this.handle, this.offset);
    const current = await inodeOf(logPath);
    if (current && current.ino !== this.ino) {
      // Rotated (renamed to .1, a new file opened) or recreated. The writer closed the old file
      // before the new one appeared, so drain it once more (lines may have come since the read
      // above), read the files rotated after it, then switch to the new file from its start.
      if (this.handle) this.offset = await this.drain(this.handle, this.offset);
      const rotated = (await logFiles(logPath)).filter((file) => file !== logPath);
      const inodes = await Promise.all(rotated.map(async (file) => (await stat(file).catch(() => undefined))?.ino));
      const oldIndex = inodes.indexOf(this.ino);
      for (const file of rotated.slice(oldIndex + 1)) {
        const handle = await open(file, 'r').catch(() => undefined);
        if (!handle) continue;
        try { await this.drain(handle, 0); } finally { await handle.close(); }
      }
      await this.handle?.close();
      this.handle = await open(logPath, 'r').catch(() => undefined);
      this.ino = this.handle ? (await this.handle.stat()).ino : -1;
      this.offset = 0;
      if (this.handle) this.offset = await this.drain(this.handle, 0);
    } else if (current && current.size < this.offset) {
      this.offset = 0; // truncated in place (max-file 1)
      if (this.handle) this.offset = await this.drain(this.handle, 0);
    }
    if (releasePartial) this.assembler.flush();
    else if (this.assembler.hasPending && !this.partialTimer) {
      // A split line's continuation follows at once; a partial line alone is the container's last words.
      this.partialTimer = setTimeout(() => { this.partialTimer = undefined; void this.poll(true); }, 500);
    }
  }
}
