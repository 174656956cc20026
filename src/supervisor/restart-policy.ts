/**
 * Restart decisions, pure so they are tested without containers or sleeping: whether an exited
 * container is restarted under its policy, and after how long (100 ms doubling up to 1 min, back
 * to 100 ms once a run lasted 10 s).
 */
import type { ContainerRunInfo, RestartPolicy } from '../engine/types.js';

/** First restart delay. */
export const initialBackoffMs = 100;
/** Longest restart delay. */
export const maxBackoffMs = 60_000;
/** A run at least this long resets the delay to initialBackoffMs. */
export const backoffResetAfterMs = 10_000;

/**
 * Whether a container that exited with `exitCode` is restarted. A container stopped by a berth
 * command (stop, kill, down) never is: with no daemon there is no "daemon restart" at which
 * Docker would bring `always` containers back, so `up`/`start` take that role.
 */
export function shouldRestart(policy: RestartPolicy, exitCode: number | undefined, run: Pick<ContainerRunInfo, 'restartCount' | 'stoppedByUser'>): boolean {
  if (run.stoppedByUser) return false;
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      if (exitCode === 0) return false;
      return policy.maxRetries <= 0 || run.restartCount < policy.maxRetries;
    default:
      return false;
  }
}

/** Backoff state of one container (kept in memory by the supervisor). */
export interface Backoff {
  /** Delay used for the last restart, 0 before the first. */
  lastDelayMs: number;
}

/** The delay before the next restart given how long the container ran; also returns the new backoff state. */
export function nextBackoff(backoff: Backoff, ranForMs: number | undefined): { delayMs: number; backoff: Backoff } {
  let delayMs: number;
  if (backoff.lastDelayMs === 0 || (ranForMs !== undefined && ranForMs >= backoffResetAfterMs)) delayMs = initialBackoffMs;
  else delayMs = Math.min(backoff.lastDelayMs * 2, maxBackoffMs);
  return { delayMs, backoff: { lastDelayMs: delayMs } };
}
