/** Runs the built berth CLI as a child process, the way users run it. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/paths.js';

/** Result of one CLI run. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The `berth` entry script compiled alongside this helper (same build output as the test). */
export const berthBin = path.join(path.dirname(fileURLToPath(import.meta.url)), 'berth-entry.js');

/** Runs `berth ...args` in `cwd` with extra environment variables; `input` goes to stdin. */
export function runBerth(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [berthBin, ...args], {
    cwd: options.cwd ?? packageRoot,
    env: { ...process.env, ...options.env },
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
