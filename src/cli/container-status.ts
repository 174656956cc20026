/** How `ps` words a container's state and ports: "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago", "0.0.0.0:8080->80/tcp". */
import type { ObservedContainer, PublishedPort } from '../engine/types.js';

/** A duration in the words `ps` uses: "Less than a second", "5 seconds", "About a minute", "3 hours". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** The STATUS column. */
export function statusText(container: ObservedContainer, now = Date.now()): string {
  const { run } = container;
  const since = (iso: string | undefined) => humanDuration(Math.max(0, now - (iso ? Date.parse(iso) : now)));
  switch (container.status) {
    case 'running': {
      const health = container.record.healthcheck && run.health ? ` (${run.health.status === 'starting' ? 'health: starting' : run.health.status})` : '';
      return `Up ${since(run.startedAt)}${health}`;
    }
    case 'paused':
      return `Up ${since(run.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${container.exitCode ?? run.exitCode ?? 0}) ${since(run.finishedAt)} ago`;
    case 'exited':
      return `Exited (${container.exitCode ?? run.exitCode ?? 0}) ${since(run.finishedAt)} ago`;
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

/** One published port as `ps` prints it. */
export function portText(port: PublishedPort): string {
  const host = port.hostIp.includes(':') ? `[${port.hostIp}]` : port.hostIp || '0.0.0.0';
  return `${host}:${port.hostPort}->${port.target}/${port.protocol}`;
}

/** The PORTS column (published ports; only while the container runs). */
export function portsText(container: ObservedContainer): string {
  if (container.status !== 'running' && container.status !== 'paused') return '';
  return (container.record.network?.ports ?? []).map(portText).join(', ');
}

/** The COMMAND column: the process, quoted and cut like `ps`. */
export function commandText(args: readonly string[], max = 20): string {
  const text = args.join(' ');
  return `"${text.length > max ? `${text.slice(0, max - 1)}…` : text}"`;
}
