/**
 * The startup timeline of an `up`: per service the time from the start of the command to its
 * containers being created, started and healthy (or exited, for one-shot jobs), and the critical
 * path: the chain of depends_on that decided when the last service was ready.
 */
import type { EngineEvent } from '../engine/types.js';
import { compareStrings } from '../compare.js';

/** Milestones of one service, in ms since the first event (the slowest replica counts). */
export interface ServiceTimeline {
  service: string;
  createdMs?: number;
  startedMs?: number;
  healthyMs?: number;
  exitedMs?: number;
  /** Exit code of the last exit seen. */
  exitCode?: number;
}

/** One link of the critical path: the service and the milestone its dependent waited for. */
export interface CriticalStep {
  service: string;
  milestone: 'started' | 'healthy' | 'exited' | 'created';
  ms: number;
}

/** The timeline as data (also what `--progress json` prints). */
export interface Timeline {
  totalMs: number;
  services: ServiceTimeline[];
  criticalPath: CriticalStep[];
}

/** depends_on of each service: dependency → condition (`service_started`, `service_healthy`, `service_completed_successfully`). */
export type DependencyMap = Record<string, Record<string, string>>;

/** Builds the timeline from the events an `up` emitted; undefined when no container was started. */
export function computeTimeline(events: readonly EngineEvent[], dependsOn: DependencyMap = {}): Timeline | undefined {
  if (events.length === 0) return undefined;
  const origin = Math.min(...events.map((event) => event.time));
  const byService = new Map<string, ServiceTimeline>();
  let last = origin;
  for (const event of events) {
    if (event.type !== 'container') continue;
    const fields: Partial<Record<string, 'createdMs' | 'startedMs' | 'healthyMs' | 'exitedMs'>> = { created: 'createdMs', started: 'startedMs', healthy: 'healthyMs', exited: 'exitedMs' };
    const field = fields[event.action];
    if (!field) continue;
    const entry = byService.get(event.service) ?? { service: event.service };
    entry[field] = Math.max(entry[field] ?? 0, event.time - origin);
    if (event.action === 'exited') entry.exitCode = event.exitCode;
    byService.set(event.service, entry);
    last = Math.max(last, event.time);
  }
  if (![...byService.values()].some((entry) => entry.startedMs !== undefined)) return undefined;
  const services = [...byService.values()].sort((a, b) => (readyMs(a) ?? 0) - (readyMs(b) ?? 0) || compareStrings(a.service, b.service));
  return { totalMs: last - origin, services, criticalPath: criticalPath(byService, dependsOn) };
}

/** When a service was ready for dependents that only need it started (or healthy when it has a healthcheck). */
function readyMs(entry: ServiceTimeline): number | undefined {
  return entry.healthyMs ?? entry.startedMs ?? entry.createdMs;
}

function milestoneFor(entry: ServiceTimeline, condition: string | undefined): CriticalStep | undefined {
  if (condition === 'service_completed_successfully' && entry.exitedMs !== undefined) return { service: entry.service, milestone: 'exited', ms: entry.exitedMs };
  if (condition === 'service_healthy' && entry.healthyMs !== undefined) return { service: entry.service, milestone: 'healthy', ms: entry.healthyMs };
  if (condition === undefined) {
    const ms = readyMs(entry);
    if (ms === undefined) return undefined;
    return { service: entry.service, milestone: entry.healthyMs !== undefined ? 'healthy' : entry.startedMs !== undefined ? 'started' : 'created', ms };
  }
  if (entry.startedMs !== undefined) return { service: entry.service, milestone: 'started', ms: entry.startedMs };
  return undefined;
}

/** From the last ready service back through the dependency that was satisfied last at each step. */
function criticalPath(byService: Map<string, ServiceTimeline>, dependsOn: DependencyMap): CriticalStep[] {
  let current: CriticalStep | undefined;
  for (const entry of byService.values()) {
    const step = milestoneFor(entry, undefined);
    if (step && (!current || step.ms > current.ms)) current = step;
  }
  const path: CriticalStep[] = [];
  const seen = new Set<string>();
  while (current && !seen.has(current.service)) {
    path.unshift(current);
    seen.add(current.service);
    let gate: CriticalStep | undefined;
    for (const [dependency, condition] of Object.entries(dependsOn[current.service] ?? {})) {
      const entry = byService.get(dependency);
      const step = entry && milestoneFor(entry, condition);
      if (step && step.ms <= current.ms && (!gate || step.ms > gate.ms)) gate = step;
    }
    current = gate;
  }
  return path;
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)}s`);

/** The timeline as the table `up --timeline` prints. */
export function renderTimeline(timeline: Timeline | undefined): string {
  if (!timeline) return '';
  const header = ['SERVICE', 'CREATED', 'STARTED', 'HEALTHY', 'EXITED'];
  const rows = timeline.services.map((entry) => [entry.service, seconds(entry.createdMs), seconds(entry.startedMs), seconds(entry.healthyMs), entry.exitedMs === undefined ? '-' : `${seconds(entry.exitedMs)} (${entry.exitCode ?? '?'})`]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('   ');
  const lines = [`Startup timeline (total ${seconds(timeline.totalMs)})`, format(header), ...rows.map(format)];
  if (timeline.criticalPath.length > 0) {
    lines.push(`Critical path: ${timeline.criticalPath.map((step) => `${step.service} (${step.milestone} ${seconds(step.ms)})`).join(' -> ')}`);
  }
  return `${lines.join('\n')}\n`;
}
