/**
 * The project's event journal: one JSON line per EngineEvent in
 * <runRoot>/projects/<project>/events.jsonl, written by every berth command (through the engine)
 * and by the supervisor (exits, restarts, health changes). It is bounded: past maxBytes the file
 * is renamed to events.jsonl.1 (the previous .1 is dropped), so it never holds more than about
 * twice that. `berth events` reads and follows it.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { EngineEvent } from '../engine/types.js';
import { supervisorPaths } from './paths.js';

/** Size at which events.jsonl is rotated. */
export const eventsMaxBytes = 1024 * 1024;

/** An event as stored: the engine event plus the image of its container when known. */
export type StoredEvent = EngineEvent & { image?: string };

/** Options of the journal functions. */
export interface EventsOptions {
  env?: NodeJS.ProcessEnv;
  /** Rotation threshold in bytes (default eventsMaxBytes). */
  maxBytes?: number;
}

/**
 * Appends one event to the project's journal. Synchronous and never throwing: a journal that
 * cannot be written must not fail the operation that emitted the event. One write with O_APPEND
 * per line, so lines from concurrent berth processes never interleave.
 */
export function appendEvent(project: string, event: EngineEvent, options: EventsOptions & { image?: string } = {}): void {
  try {
    const file = supervisorPaths(project, options.env).events;
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      if (statSync(file).size >= (options.maxBytes ?? eventsMaxBytes)) renameSync(file, `${file}.1`);
    } catch {
      // no journal yet
    }
    const stored: StoredEvent = options.image ? { ...event, image: options.image } : event;
    appendFileSync(file, `${JSON.stringify(stored)}\n`);
  } catch {
    // best effort, see above
  }
}

/** Which events to read or follow. */
export interface EventFilter {
  /** Only container events of these services (empty: all). */
  services?: readonly string[];
  /** Only events at or after this time (ms since epoch). */
  since?: number;
  /** Only events before this time (ms since epoch). */
  until?: number;
  /** Container events only (what `berth events` shows). */
  containersOnly?: boolean;
}

function matches(event: StoredEvent, filter: EventFilter): boolean {
  if (filter.since !== undefined && event.time < filter.since) return false;
  if (filter.until !== undefined && event.time >= filter.until) return false;
  if (filter.containersOnly && event.type !== 'container') return false;
  if (filter.services && filter.services.length > 0) {
    if (event.type !== 'container' || !filter.services.includes(event.service)) return false;
  }
  return true;
}

function parseLines(text: string): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as StoredEvent);
    } catch {
      // a torn line (crash mid-write): skip it
    }
  }
  return events;
}

/** Every event still in the journal (rotated part first), filtered. */
export function readEvents(project: string, filter: EventFilter = {}, options: EventsOptions = {}): StoredEvent[] {
  const file = supervisorPaths(project, options.env).events;
  const events: StoredEvent[] = [];
  for (const part of [`${file}.1`, file]) {
    if (!existsSync(part)) continue;
    events.push(...parseLines(readFileSync(part, 'utf8')));
  }
  return events.filter((event) => matches(event, filter));
}

/**
 * Calls `onEvent` for each new event appended to the journal from now on (and, with
 * `filter.since`, for the stored ones since then first). Polls every `intervalMs`; follows
 * rotation by noticing the file was replaced or shrank.
 */
export function followEvents(project: string, filter: EventFilter, onEvent: (event: StoredEvent) => void, options: EventsOptions & { intervalMs?: number } = {}): { stop(): void } {
  const file = supervisorPaths(project, options.env).events;
  let offset = 0;
  let inode = -1;
  let partial = '';
  if (filter.since !== undefined) {
    for (const event of readEvents(project, filter, options)) onEvent(event);
  }
  try {
    const stat = statSync(file);
    offset = stat.size;
    inode = stat.ino;
  } catch {
    // journal not there yet: start at its beginning once it appears
  }
  const poll = (): void => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const stat = fstatSync(fd);
      if (stat.ino !== inode || stat.size < offset) {
        // rotated: whatever was appended to the old file after our last read is in .1 now
        if (inode !== -1) drainRotated(`${file}.1`, offset, inode);
        inode = stat.ino;
        offset = 0;
        partial = '';
      }
      if (stat.size <= offset) return;
      const buffer = Buffer.alloc(stat.size - offset);
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      emit(buffer.subarray(0, read).toString('utf8'));
    } finally {
      closeSync(fd);
    }
  };
  const emit = (text: string): void => {
    const data = partial + text;
    const end = data.lastIndexOf('\n');
    partial = end === -1 ? data : data.slice(end + 1);
    if (end === -1) return;
    for (const event of parseLines(data.slice(0, end))) {
      if (matches(event, { ...filter, since: undefined })) onEvent(event);
    }
  };
  const drainRotated = (rotated: string, from: number, oldInode: number): void => {
    try {
      const stat = statSync(rotated);
      if (stat.ino !== oldInode || stat.size <= from) return;
      const fd = openSync(rotated, 'r');
      try {
        const buffer = Buffer.alloc(stat.size - from);
        const read = readSync(fd, buffer, 0, buffer.length, from);
        emit(buffer.subarray(0, read).toString('utf8'));
      } finally {
        closeSync(fd);
      }
    } catch {
      // rotated twice since the last poll: those lines are gone
    }
  };
  const timer = setInterval(poll, options.intervalMs ?? 200);
  return {
    stop() {
      clearInterval(timer);
      poll();
    },
  };
}

/** The action word Docker uses for a container event, or undefined for the engine's internal steps. */
export function dockerAction(event: StoredEvent): string | undefined {
  if (event.type !== 'container') return undefined;
  switch (event.action) {
    case 'created': return 'create';
    case 'started': return 'start';
    case 'exited': return 'die';
    case 'stopped': return 'stop';
    case 'killed': return 'kill';
    case 'removed': return 'destroy';
    case 'restarting': return 'restart';
    case 'paused': return 'pause';
    case 'unpaused': return 'unpause';
    case 'healthy': return 'health_status: healthy';
    case 'unhealthy': return 'health_status: unhealthy';
    default: return undefined;
  }
}

/** Attributes shown with a container event, sorted by key. */
export function eventAttributes(event: StoredEvent): Record<string, string> {
  if (event.type !== 'container') return {};
  const attributes: Record<string, string> = {};
  if (event.exitCode !== undefined) attributes.exitCode = String(event.exitCode);
  if (event.image) attributes.image = event.image;
  attributes.name = event.name;
  return attributes;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** `2026-11-23 10:04:05.123000 container start proj-web-1 (image=..., name=proj-web-1)`, in local time like Compose. */
export function formatEventText(event: StoredEvent): string | undefined {
  const action = dockerAction(event);
  if (!action || event.type !== 'container') return undefined;
  const t = new Date(event.time);
  const stamp = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}000`;
  const attributes = Object.entries(eventAttributes(event)).map(([key, value]) => `${key}=${value}`).join(', ');
  return `${stamp} container ${action} ${event.name} (${attributes})`;
}

/** The `--json` form of a container event: Compose's keys (time, type, service, id, action, attributes). */
export function formatEventJson(event: StoredEvent): string | undefined {
  const action = dockerAction(event);
  if (!action || event.type !== 'container') return undefined;
  return JSON.stringify({
    time: new Date(event.time).toISOString(),
    type: 'container',
    service: event.service,
    id: event.name,
    action,
    attributes: eventAttributes(event),
  });
}
