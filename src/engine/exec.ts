/**
 * Processes a user talks to: `exec` in a running container and the attached run of a one-off
 * container. Both hand the terminal straight to the runtime (stdio inherited), which relays a
 * pty in raw mode with the window size when a TTY is asked for, so nothing of berth sits
 * between the keyboard and the container process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BerthError, RuntimeError } from '../errors.js';
import { allCapabilities, hostSpecOptions, parseRuntimeLog, resolveUser, type OciConfig } from '../runtime/index.js';
import type { RuntimeDriver } from '../runtime/index.js';
import type { ContainerRecord, ObservedContainer } from './types.js';
import { updateRunInfo } from './records.js';

/** What `exec` runs. */
export interface ExecRequest {
  command: string[];
  /** KEY=VAL entries added to the container's environment. */
  env?: string[];
  workingDir?: string;
  /** `user`, `uid`, `user:group`; resolved against the container's /etc/passwd. */
  user?: string;
  tty?: boolean;
  privileged?: boolean;
  detach?: boolean;
  /** Pass the caller's stdin (default true); false gives the process /dev/null. */
  stdin?: boolean;
}

/** Picks the running container of a service (replica `index`, default 1). */
export function pickServiceContainer(containers: readonly ObservedContainer[], service: string, index = 1, verb = 'exec'): ObservedContainer {
  const ofService = containers.filter((c) => c.record.service === service && !c.record.oneoff);
  const found = ofService.find((c) => c.record.number === index);
  if (!found) {
    if (ofService.length === 0) throw new BerthError(`service "${service}" has no container`, { hint: `start it with "berth up -d ${service}"` });
    throw new BerthError(`service "${service}" has no container with index ${index}`, { hint: `indexes are ${ofService.map((c) => c.record.number).sort((a, b) => a - b).join(', ')}` });
  }
  if (found.status !== 'running') {
    throw new BerthError(`cannot ${verb}: container "${found.record.name}" is ${found.status}`, { hint: `start it with "berth start ${service}"` });
  }
  return found;
}

function runtimeArgs(driver: RuntimeDriver, logFile: string, args: string[]): string[] {
  return ['--root', driver.root, '--log', logFile, '--log-format', 'json', ...args];
}

function tempFile(driver: RuntimeDriver, kind: string): string {
  const dir = `${driver.root}.logs`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `${kind}-${process.pid}-${randomBytes(4).toString('hex')}.json`);
}

/**
 * Spawns the runtime with our stdio and waits for it. SIGINT/SIGTERM/SIGHUP reaching berth are
 * left to the runtime (it forwards them to the container process); berth only waits.
 */
async function spawnInherited(driver: RuntimeDriver, args: string[], options: { stdin: boolean; what: string; containerId: string }): Promise<number> {
  const logFile = tempFile(driver, 'log');
  const ignore = (): void => undefined;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const signal of signals) process.on(signal, ignore);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(driver.binary, runtimeArgs(driver, logFile, args), { stdio: [options.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
      child.on('error', (err) => reject(new RuntimeError(`cannot run container runtime "${driver.binary}"`, { containerId: options.containerId }, { cause: err })));
      child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 128 + 15)));
    });
    let log: { message?: string; errno?: number } = {};
    try {
      log = parseRuntimeLog(readFileSync(logFile, 'utf8'));
    } catch {
      log = {};
    }
    if (code !== 0 && log.message && !/executable file not found|no such file or directory.*exec|not found in \$PATH/i.test(log.message)) {
      throw new RuntimeError(`${options.what} container "${options.containerId}": ${log.message}`, { containerId: options.containerId, errno: log.errno });
    }
    return code;
  } finally {
    for (const signal of signals) process.off(signal, ignore);
    rmSync(logFile, { force: true });
  }
}

/**
 * The OCI process of an exec: the container's own process settings (env, user, cwd,
 * capabilities, rlimits from its bundle) with the request's command and changes; `privileged`
 * grants every capability.
 */
export function execProcessSpec(record: ContainerRecord, request: Omit<ExecRequest, 'detach' | 'stdin'>): OciConfig['process'] {
  if (request.command.length === 0) throw new BerthError('exec needs a command', { hint: 'e.g. berth exec web sh' });
  const config = JSON.parse(readFileSync(path.join(record.bundle, 'config.json'), 'utf8')) as OciConfig;
  const processSpec = { ...config.process };
  processSpec.args = [...request.command];
  processSpec.terminal = request.tty ?? false;
  if (request.env && request.env.length > 0) {
    const env = [...(processSpec.env ?? [])];
    for (const entry of request.env) {
      const key = entry.split('=')[0];
      const at = env.findIndex((e) => e.split('=')[0] === key);
      if (at >= 0) env[at] = entry;
      else env.push(entry);
    }
    processSpec.env = env;
  }
  if (request.workingDir) processSpec.cwd = request.workingDir;
  if (request.user) {
    let user;
    try {
      user = resolveUser(record.rootfs, request.user);
    } catch (err) {
      throw new BerthError(`exec in "${record.name}": ${(err as Error).message}`, { hint: (err as { hint?: string }).hint });
    }
    processSpec.user = { uid: user.uid, gid: user.gid, ...(user.additionalGids && user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}) };
  }
  if (request.privileged) {
    const all = hostSpecOptions({}).availableCapabilities ?? [...allCapabilities];
    processSpec.capabilities = { bounding: [...all], effective: [...all], permitted: [...all] };
  }
  return processSpec;
}

/**
 * Runs an exec with its output captured (lifecycle hooks): the same process as `berth exec`
 * would start, without a terminal or stdin. A process still running after `timeoutMs` is
 * killed (exit code -1).
 */
export async function captureProcessExec(driver: RuntimeDriver, record: ContainerRecord, request: Omit<ExecRequest, 'detach' | 'stdin' | 'tty'>, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  const processSpec = execProcessSpec(record, request);
  const processFile = tempFile(driver, 'process');
  const logFile = tempFile(driver, 'log');
  const pidFile = tempFile(driver, 'pid');
  writeFileSync(processFile, JSON.stringify(processSpec), { mode: 0o600 });
  try {
    const args = runtimeArgs(driver, logFile, ['exec', '--process', processFile, '--pid-file', pidFile, record.id]);
    const result = await new Promise<{ exitCode: number; output: string }>((resolve, reject) => {
      const child = spawn(driver.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const chunks: Buffer[] = [];
      child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // The exec'd process (its host pid is in the pid file) and the runtime's CLI.
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
        } catch {
          // not started or gone
        }
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new RuntimeError(`cannot run container runtime "${driver.binary}"`, { containerId: record.id }, { cause: err }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const output = Buffer.concat(chunks).toString('utf8');
        if (timedOut) resolve({ exitCode: -1, output: `${output}(did not finish within ${timeoutMs / 1000} s)` });
        else resolve({ exitCode: code ?? (signal === 'SIGKILL' ? 137 : 128 + 15), output });
      });
    });
    if (result.exitCode !== 0) {
      let log: { message?: string } = {};
      try {
        log = parseRuntimeLog(readFileSync(logFile, 'utf8'));
      } catch {
        log = {};
      }
      if (log.message && !result.output.includes(log.message)) result.output = `${result.output}${log.message}`;
    }
    return result;
  } finally {
    for (const file of [processFile, logFile, pidFile]) rmSync(file, { force: true });
  }
}

/**
 * Runs a process in a running container and returns its exit code (0 right away with `detach`).
 * The process starts from the container's own process settings (env, user, cwd, capabilities,
 * rlimits) with the request's changes; `privileged` grants every capability.
 */
export async function execInContainer(driver: RuntimeDriver, record: ContainerRecord, request: ExecRequest): Promise<number> {
  const processSpec = execProcessSpec(record, request);
  const processFile = tempFile(driver, 'process');
  writeFileSync(processFile, JSON.stringify(processSpec), { mode: 0o600 });
  try {
    const args = ['exec', '--process', processFile, ...(request.detach ? ['--detach'] : []), record.id];
    return await spawnInherited(driver, args, { stdin: !request.detach && (request.stdin ?? true), what: 'exec in', containerId: record.id });
  } finally {
    rmSync(processFile, { force: true });
  }
}

/**
 * Runs a created one-off container attached to our stdio (`berth run` without -d) and returns
 * its exit code; run.json gets its start, finish and exit code. The runtime deletes its side of
 * the container when the process exits; the record stays until `--rm` or `berth rm`.
 */
export async function runAttached(driver: RuntimeDriver, record: ContainerRecord, options: { stdin: boolean; env?: NodeJS.ProcessEnv }): Promise<number> {
  await driver.delete(record.id, { force: true, ignoreMissing: true });
  updateRunInfo(record.project, record.name, (info) => ({ ...info, startedAt: new Date().toISOString(), finishedAt: undefined, exitCode: undefined }), options.env);
  let code: number;
  try {
    code = await spawnInherited(driver, ['run', '--bundle', record.bundle, record.id], { stdin: options.stdin, what: 'run', containerId: record.id });
  } catch (err) {
    updateRunInfo(record.project, record.name, (info) => ({ ...info, finishedAt: new Date().toISOString(), exitCode: 127 }), options.env);
    throw err;
  }
  updateRunInfo(record.project, record.name, (info) => ({ ...info, finishedAt: new Date().toISOString(), exitCode: code }), options.env);
  return code;
}

/** What `captureExec` runs: like ExecRequest, with bytes for stdin instead of the terminal. */
export interface CaptureExecRequest {
  command: string[];
  /** KEY=VAL entries added to the container's environment. */
  env?: string[];
  workingDir?: string;
  /** `user`, `uid`, `user:group`; resolved against the container's /etc/passwd. */
  user?: string;
  /** Written to the process's stdin, which is then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Runs a process in a running container with its output captured (for the JS API and tests). */
export async function captureExec(driver: RuntimeDriver, record: ContainerRecord, request: CaptureExecRequest): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  if (request.command.length === 0) throw new BerthError('exec needs a command', { hint: 'e.g. exec("web", ["sh", "-c", "echo hi"])' });
  let user: { uid: number; gid: number } | undefined;
  if (request.user) {
    try {
      const resolved = resolveUser(record.rootfs, request.user);
      user = { uid: resolved.uid, gid: resolved.gid };
    } catch (err) {
      throw new BerthError(`exec in "${record.name}": ${(err as Error).message}`, { hint: (err as { hint?: string }).hint });
    }
  }
  return driver.exec(record.id, request.command, {
    env: request.env, cwd: request.workingDir, user, input: request.input, timeoutMs: request.timeoutMs,
  });
}
