/**
 * Healthcheck state machine, pure: what a probe result does to a container's HealthState, and
 * when the next probe is due. Semantics follow Docker: status `starting` until the first success
 * or until `retries` consecutive failures after the start period; failures inside the start
 * period do not count; probes come every `startIntervalMs` during the start period while still
 * `starting`, every `intervalMs` otherwise; the last 5 results are kept.
 */
import type { HealthcheckSpec, HealthState } from '../engine/types.js';

/** How many probe results HealthState.log keeps. */
export const healthLogSize = 5;
/** Longest probe output kept (bytes of text). */
export const healthOutputMax = 4096;

/** One probe's outcome. */
export interface ProbeResult {
  start: number;
  end: number;
  /** 0 healthy; anything else is a failure (-1: timeout or could not run). */
  exitCode: number;
  output: string;
}

/** The state of a container whose healthcheck has just (re)started. */
export function initialHealth(): HealthState {
  return { status: 'starting', failingStreak: 0, log: [] };
}

/** True when the check is disabled (`test: ["NONE"]` or empty). */
export function healthcheckDisabled(spec: HealthcheckSpec | undefined): boolean {
  return !spec || spec.test.length === 0 || spec.test[0] === 'NONE';
}

/** The command a probe runs in the container. */
export function probeCommand(spec: HealthcheckSpec): string[] {
  const [kind, ...rest] = spec.test;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  if (kind === 'CMD') return rest;
  // A bare string list without a kind is taken as CMD-SHELL's text, like Compose's string form.
  return ['/bin/sh', '-c', spec.test.join(' ')];
}

/** The state after a probe; `startedAtMs` is when the container's current run began. */
export function applyProbe(state: HealthState, spec: HealthcheckSpec, result: ProbeResult, startedAtMs: number): HealthState {
  const entry = {
    start: new Date(result.start).toISOString(),
    end: new Date(result.end).toISOString(),
    exitCode: result.exitCode,
    output: result.output.length > healthOutputMax ? result.output.slice(0, healthOutputMax) : result.output,
  };
  const log = [...state.log, entry].slice(-healthLogSize);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const inStartPeriod = state.status === 'starting' && result.start < startedAtMs + spec.startPeriodMs;
  if (inStartPeriod) return { status: 'starting', failingStreak: state.failingStreak, log };
  const failingStreak = state.failingStreak + 1;
  const status = failingStreak >= Math.max(1, spec.retries) ? 'unhealthy' : state.status;
  return { status, failingStreak, log };
}

/** When the next probe is due after one that finished at `nowMs` (or after the start at startedAtMs). */
export function nextProbeAt(state: HealthState, spec: HealthcheckSpec, nowMs: number, startedAtMs: number): number {
  const inStartPeriod = state.status === 'starting' && nowMs < startedAtMs + spec.startPeriodMs;
  const interval = inStartPeriod && spec.startIntervalMs > 0 ? spec.startIntervalMs : spec.intervalMs;
  return nowMs + Math.max(interval, 10);
}
