/**
 * Progress output of engine commands (up, down, start, stop, ...): a listr2 task list on a
 * terminal (one row per container, network, volume and image, with its time), plain lines
 * elsewhere (` Container demo-web-1  Started`), one JSON object per event with `json`, nothing
 * with `quiet`. Every mode records the events so `timeline()` can render the startup timeline.
 */
import { PassThrough } from 'node:stream';
import { Listr, ListrLogger, ListrTaskState, ProcessOutput } from 'listr2';
import type { Project } from '../model/types.js';
import type { EngineEvent, EventSink } from '../engine/types.js';
import { computeTimeline, renderTimeline, type DependencyMap } from './timeline.js';

/** The `--progress` modes. */
export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

/** A progress reporter: feed `sink` to the engine, call finish() when the command is done. */
export interface Reporter {
  sink: EventSink;
  /** Ends the task list (tty), prints the timeline object (json); resolves once the list is drawn. Idempotent. */
  finish(): Promise<void>;
  /** The startup timeline as text ('' when nothing was started). */
  timeline(): string;
  /** The mode chosen (auto resolved). */
  readonly mode: Exclude<ProgressMode, 'auto'>;
}

/** Options of createReporter. */
export interface ReporterOptions {
  /** Where progress goes (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** The project, for the critical path of the timeline (its depends_on). */
  project?: Project;
}

const words: Record<string, string> = {
  creating: 'Creating', created: 'Created', recreate: 'Recreate', starting: 'Starting', started: 'Started',
  healthy: 'Healthy', unhealthy: 'Unhealthy', exited: 'Exited', stopping: 'Stopping', stopped: 'Stopped',
  removing: 'Removing', removed: 'Removed', restarting: 'Restarting', killed: 'Killed', paused: 'Paused',
  unpaused: 'Unpaused', waiting: 'Waiting', create: 'Created', remove: 'Removed',
  pull: 'Pulling', pulled: 'Pulled', build: 'Building', built: 'Built',
};
/** Actions after which a row is still busy (spinner on a terminal). */
const busy = new Set(['creating', 'recreate', 'starting', 'stopping', 'removing', 'restarting', 'waiting', 'pull', 'build']);

/** The row an event belongs to and its status word; undefined for events without a row (plan). */
export function describeEvent(event: EngineEvent, recreating: ReadonlySet<string> = new Set()): { key: string; label: string; status: string; failed: boolean } | undefined {
  switch (event.type) {
    case 'network': return { key: `network:${event.name}`, label: `Network ${event.name}`, status: words[event.action], failed: false };
    case 'volume': return { key: `volume:${event.name}`, label: `Volume "${event.name}"`, status: words[event.action], failed: false };
    case 'image': return { key: `image:${event.service}`, label: `Image ${event.image}`, status: words[event.action], failed: false };
    case 'container': {
      let status = words[event.action] ?? event.action;
      if (event.action === 'created' && recreating.has(event.name)) status = 'Recreated';
      if (event.action === 'exited' && event.exitCode) status = `Exited (${event.exitCode})`;
      if (event.action === 'waiting' && event.detail) status = `Waiting for ${event.detail}`;
      else if (event.detail && event.action !== 'exited') status = `${status} ${event.detail}`;
      // A service waiting for its dependencies has no container yet.
      const label = event.name === event.service ? `Service ${event.name}` : `Container ${event.name}`;
      return { key: `container:${event.name}`, label, status, failed: event.action === 'unhealthy' };
    }
    default: return undefined;
  }
}

/** `web: reason` lines of a recreate, from the event or else from the plan. */
function recreateReasons(event: EngineEvent, planned: Map<string, string[]>): string[] {
  if (event.type !== 'container' || event.action !== 'recreate') return [];
  const reasons = event.reasons?.length ? event.reasons : planned.get(event.name) ?? [];
  return reasons.map((reason) => `${event.service}: ${reason}`);
}

/** The project's depends_on as the timeline needs it. */
export function dependencyMap(project: Project | undefined): DependencyMap {
  const map: DependencyMap = {};
  for (const service of project?.services.values() ?? []) {
    map[service.name] = Object.fromEntries(Object.entries(service.depends_on ?? {}).map(([name, dependency]) => [name, dependency.condition]));
  }
  return map;
}

/** Creates a reporter for `mode` (auto: tty on a terminal at least 40 columns wide, else plain). */
export function createReporter(mode: ProgressMode, options: ReporterOptions = {}): Reporter {
  const stream = options.stream ?? process.stderr;
  const resolved = mode !== 'auto' ? mode : stream.isTTY && (stream.columns ?? 80) >= 40 && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
  const events: EngineEvent[] = [];
  const planned = new Map<string, string[]>();
  const recreating = new Set<string>();
  const timeline = () => computeTimeline(events, dependencyMap(options.project));
  const write = (text: string) => { stream.write(text); };
  let finished = false;
  let show: (event: EngineEvent) => void = () => undefined;
  let end: () => void | Promise<void> = () => undefined;
  let ended: Promise<void> | undefined;

  if (resolved === 'plain') {
    show = (event) => {
      const row = describeEvent(event, recreating);
      if (row) write(` ${row.label}  ${row.status}\n`);
      for (const reason of recreateReasons(event, planned)) write(`   ${reason}\n`);
    };
  } else if (resolved === 'json') {
    const origin = { time: 0 };
    show = (event) => {
      origin.time ||= event.time;
      const { time, ...rest } = event;
      const base = event.type === 'image' ? { ...rest, name: event.image } : rest;
      write(`${JSON.stringify({ ...base, time: new Date(time).toISOString(), elapsedMs: time - origin.time })}\n`);
    };
    end = () => {
      const data = timeline();
      if (data) write(`${JSON.stringify({ type: 'timeline', time: new Date().toISOString(), ...data })}\n`);
    };
  } else if (resolved === 'tty') {
    const tty = ttyRows(stream);
    show = (event) => {
      const row = describeEvent(event, recreating);
      if (row) tty.update(row.key, `${row.label}  ${row.status}`, event.time, busy.has(event.type === 'container' || event.type === 'image' ? event.action : '') ? 'busy' : row.failed ? 'failed' : 'done', recreateReasons(event, planned));
    };
    end = () => tty.end();
  }

  return {
    mode: resolved,
    sink(event) {
      if (finished) return;
      events.push(event);
      if (event.type === 'plan') for (const action of event.actions) if (action.reasons.length) planned.set(action.name, action.reasons);
      if (event.type === 'container' && event.action === 'recreate') recreating.add(event.name);
      show(event);
    },
    finish() {
      if (!ended) {
        finished = true;
        ended = Promise.resolve(end());
      }
      return ended;
    },
    timeline: () => renderTimeline(timeline()),
  };
}

interface Row {
  task: Listr['tasks'][number];
  title: string;
  firstTime: number;
  reasons: string[];
}

/** A listr2 list whose rows appear as events arrive; each row's state is set directly. */
function ttyRows(stream: NodeJS.WritableStream) {
  let release: () => void = () => undefined;
  const whole = new Promise<void>((resolve) => { release = resolve; });
  // The untitled first task is invisible; it keeps the list running until end().
  const listr = new Listr([{ task: () => whole }], {
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    fallbackRendererCondition: () => false,
    // The list draws on `stream`; anything else written to it meanwhile is shown after the list.
    rendererOptions: { collapseSubtasks: false, logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(stream as NodeJS.WriteStream, new PassThrough() as unknown as NodeJS.WriteStream) }) },
  });
  const running = listr.run().catch(() => undefined);
  const rows = new Map<string, Row>();
  return {
    update(key: string, title: string, time: number, state: 'busy' | 'done' | 'failed', reasons: string[]) {
      let row = rows.get(key);
      if (!row) {
        listr.add({ title, task: () => whole });
        row = { task: listr.tasks[listr.tasks.length - 1], title, firstTime: time, reasons: [] };
        void row.task.check({}); // marks it enabled, which the renderer requires
        rows.set(key, row);
      }
      if (reasons.length) row.reasons = reasons;
      const elapsed = `${((time - row.firstTime) / 1000).toFixed(1)}s`;
      // Recreate reasons stay under the row as long as the list is shown.
      row.task.title$ = [state === 'busy' ? title : `${title}  ${elapsed}`, ...row.reasons.map((reason) => `  ${reason}`)].join('\n');
      row.task.state$ = state === 'busy' ? ListrTaskState.STARTED : state === 'failed' ? ListrTaskState.FAILED : ListrTaskState.COMPLETED;
    },
    end(): Promise<void> {
      for (const row of rows.values()) if (row.task.isStarted()) row.task.state$ = ListrTaskState.COMPLETED;
      release();
      return running.then(() => undefined);
    },
  };
}
