/**
 * What the benchmarks share: command-line options, statistics, finding peer tools, and a
 * private dockerd for side-by-side runs (own data root and socket, no bridge, no iptables, so
 * it changes nothing on the host and is gone when the bench ends).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The value after `--name` on the command line. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `--name N` as a number, or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const value = arg(name);
  return value === undefined || Number.isNaN(Number(value)) ? fallback : Number(value);
}

/** The full path of a program on PATH (sbin dirs included), or undefined. */
export function which(name: string): string | undefined {
  for (const dir of `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`.split(':')) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The p-th percentile (0–100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A dockerd started for one bench run. */
export interface PrivateDockerd {
  /** DOCKER_HOST value (`unix://<socket>`). */
  host: string;
  /** process.env with DOCKER_HOST set, for docker and docker-compose. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * Starts Debian's dockerd with everything under `root` and without touching the host's network
 * setup (`--bridge=none --iptables=false`). Undefined when docker.io is not installed or the
 * daemon does not come up within 20 s (its last log lines are printed).
 */
export async function startPrivateDockerd(root: string): Promise<PrivateDockerd | undefined> {
  const dockerd = which('dockerd');
  const docker = which('docker');
  if (!dockerd || !docker) return undefined;
  const host = `unix://${path.join(root, 'docker.sock')}`;
  // The daemon logs to a file, not a pipe: benches time peers with spawnSync, and a pipe nobody
  // reads while the event loop is blocked fills up and stalls dockerd mid-operation.
  mkdirSync(root, { recursive: true });
  const logFile = path.join(root, 'dockerd.log');
  const logFd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(dockerd, [
    '--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'), '--pidfile', path.join(root, 'docker.pid'),
    '-H', host, '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--storage-driver=overlay2',
  ], { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  const log = () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } };
  const env = { ...process.env, DOCKER_HOST: host };
  for (let i = 0; i < 100; i++) {
    if (spawnSync(docker, ['version'], { env, stdio: 'ignore' }).status === 0) {
      return {
        host,
        env,
        async stop() {
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
          spawnSync('umount', ['-R', '-l', path.join(root, 'data')], { stdio: 'ignore' });
        },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  process.stderr.write(`dockerd did not start:\n${log().split('\n').slice(-5).join('\n')}\n`);
  return undefined;
}
