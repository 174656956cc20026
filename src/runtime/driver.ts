/**
 * RuntimeDriver: drives an OCI runtime binary with runc's command line. berth-runtime is the
 * default; runc and crun can be swapped in (BERTH_RUNTIME or the `binary` option) and must
 * behave the same for the same bundle. Every failure becomes a RuntimeError naming the container
 * and carrying the runtime's own message, read from the JSON log it writes via --log.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors.js';
import { runRoot, runtimeBinary } from '../paths.js';
import { readCgroupStats, type ContainerStats } from './cgroup-stats.js';
import { isHybridCgroupHost } from './host.js';
import { serializeOciConfig } from './oci-spec.js';
import type { OciConfig, OciState } from './oci-types.js';
import { compareStrings } from '../compare.js';

/** Which family the binary belongs to; decides the few places where their CLIs differ. */
export type RuntimeKind = 'berth' | 'runc' | 'crun';

/** Options for a RuntimeDriver. */
export interface RuntimeDriverOptions {
  /** Runtime binary (default: runtimeBinary(), i.e. BERTH_RUNTIME or berth's own). */
  binary?: string;
  /** Runtime state directory passed as --root (default: <runRoot()>/runtime/<kind>). */
  root?: string;
  /** Override the kind guessed from the binary's file name. */
  kind?: RuntimeKind;
  /** Environment for runtime processes (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Upper bound for any single runtime command that is not attached to a container (default 30 s). */
  timeoutMs?: number;
}

/** Output of an attached run or exec. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of an attached `run`/`exec`. */
export interface AttachedOptions {
  /** Bytes written to the container's stdin, which is then closed. */
  input?: string | Buffer;
  /** Kill the runtime process (and so the container) after this long (default 60 s). */
  timeoutMs?: number;
  /** Called with each chunk of output as it arrives (the result still carries all of it). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** Options of a detached `run`/`create`: where the container's stdout/stderr go without a monitor. */
export interface DetachedOptions {
  /** File receiving the container's raw stdout and stderr (default /dev/null). berth-runtime logs via run.berth.log.path instead. */
  outputFile?: string;
}

/** Options of `exec`. */
export interface ExecOptions extends AttachedOptions {
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  tty?: boolean;
  detach?: boolean;
}

/** One entry of `list`. */
export interface RuntimeListEntry {
  id: string;
  pid: number;
  status: string;
  bundle: string;
}

interface Invocation {
  action: string;
  containerId?: string;
  args: string[];
  /** 'capture': pipe stdout/stderr and wait for them to close; 'detached': container keeps stdio, wait for exit only. */
  mode: 'capture' | 'detached';
  input?: string | Buffer;
  outputFile?: string;
  timeoutMs: number;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** `exec --pid-file`: on timeout the exec'd process (host pid in this file) is killed too. */
  pidFile?: string;
}

interface InvocationResult {
  code: number;
  stdout: string;
  stderr: string;
  logMessage?: string;
  logErrno?: number;
}

function guessKind(binary: string): RuntimeKind {
  const base = path.basename(binary);
  if (base.includes('crun')) return 'crun';
  if (base.includes('runc')) return 'runc';
  return 'berth';
}

let logCounter = 0;

/** SIGKILLs the process whose pid a runtime wrote to `file` (`--pid-file`); nothing when it is not there. */
function killPidFile(file: string): void {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file yet, or the process is gone.
  }
}


/** Parses a runtime's JSON log (runc/crun: {"level","msg"}; berth-runtime: {"level","message","errno"}); returns the last error. */
export function parseRuntimeLog(text: string): { message?: string; errno?: number } {
  let found: { message?: string; errno?: number } = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; message?: string; errno?: number };
      const message = entry.message ?? entry.msg;
      if (message && (entry.level === undefined || entry.level === 'error' || entry.level === 'fatal')) {
        found = { message, errno: typeof entry.errno === 'number' ? entry.errno : undefined };
      }
    } catch {
      // Not JSON (a runtime that ignored --log-format): keep the raw line as the message.
      found = { message: line.trim() };
    }
  }
  return found;
}

/** True when the runtime said the container is unknown (each runtime words it differently). */
export function isNotFoundError(err: unknown): boolean {
  return err instanceof RuntimeError && /does not exist|not found|no such container|no such file/i.test(err.message);
}

/** Drives one OCI runtime binary. Stateless: every call re-reads the runtime's state. */
export class RuntimeDriver {
  readonly binary: string;
  readonly kind: RuntimeKind;
  readonly root: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;

  constructor(options: RuntimeDriverOptions = {}) {
    this.env = options.env ?? process.env;
    this.binary = options.binary ?? runtimeBinary(this.env);
    this.kind = options.kind ?? guessKind(this.binary);
    this.root = options.root ?? path.join(runRoot(this.env), 'runtime', this.kind);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Writes config.json into `dir` atomically (write to a temp file, then rename), creating `dir`. */
  static writeBundle(dir: string, config: OciConfig): string {
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'config.json');
    const temp = path.join(dir, `.config.json.${process.pid}.${Date.now()}`);
    writeFileSync(temp, serializeOciConfig(config), { mode: 0o600 });
    renameSync(temp, target);
    return target;
  }

  /** Creates the container (namespaces, mounts, cgroup) with its process waiting for `start`. */
  async create(containerId: string, bundleDir: string, options: DetachedOptions = {}): Promise<void> {
    await this.invoke({ action: 'create', containerId, args: ['create', '--bundle', bundleDir, containerId], mode: 'detached', outputFile: options.outputFile, timeoutMs: this.timeoutMs });
  }

  /** Starts the process of a created container. */
  async start(containerId: string): Promise<void> {
    await this.invoke({ action: 'start', containerId, args: ['start', containerId], mode: 'capture', timeoutMs: this.timeoutMs });
  }

  /** Runs a container attached: resolves with its exit code and output once it exits. The runtime removes it afterwards. */
  async run(containerId: string, bundleDir: string, options: AttachedOptions = {}): Promise<RunResult> {
    const result = await this.invoke({
      action: 'run', containerId, args: ['run', '--bundle', bundleDir, containerId], mode: 'capture',
      input: options.input ?? '', timeoutMs: options.timeoutMs ?? 60_000, onOutput: options.onOutput,
    }, { allowNonZero: true });
    return { exitCode: result.code, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs a container detached (create + start in one): returns once its process runs. */
  async runDetached(containerId: string, bundleDir: string, options: DetachedOptions = {}): Promise<void> {
    await this.invoke({ action: 'run', containerId, args: ['run', '--detach', '--bundle', bundleDir, containerId], mode: 'detached', outputFile: options.outputFile, timeoutMs: this.timeoutMs });
  }

  /** The runtime's view of the container, plus berth-runtime's exitCode/startedAt/finishedAt. */
  async state(containerId: string): Promise<OciState> {
    const result = await this.invoke({ action: 'inspect', containerId, args: ['state', containerId], mode: 'capture', timeoutMs: this.timeoutMs });
    try {
      return JSON.parse(result.stdout) as OciState;
    } catch (err) {
      throw new RuntimeError(`inspect container "${containerId}": runtime "${this.binary}" printed a state that is not JSON`, { containerId }, { cause: err });
    }
  }

  /** Sends a signal (name like "SIGTERM"/"TERM" or number) to the container's init process. */
  async kill(containerId: string, signal: string | number = 'SIGTERM', options: { all?: boolean } = {}): Promise<void> {
    const signalArg = typeof signal === 'number' ? String(signal) : signal.replace(/^SIG/i, '').toUpperCase();
    const args = ['kill', ...(options.all ? ['--all'] : []), containerId, signalArg];
    await this.invoke({ action: 'kill', containerId, args, mode: 'capture', timeoutMs: this.timeoutMs });
  }

  /** Removes the container; `force` kills it first if it still runs. `ignoreMissing` makes an unknown id a no-op. */
  async delete(containerId: string, options: { force?: boolean; ignoreMissing?: boolean } = {}): Promise<void> {
    try {
      await this.invoke({ action: 'delete', containerId, args: ['delete', ...(options.force ? ['--force'] : []), containerId], mode: 'capture', timeoutMs: this.timeoutMs });
    } catch (err) {
      if (options.ignoreMissing && isNotFoundError(err)) return;
      throw err;
    }
  }

  /** Runs another process in a running container; attached it resolves with exit code and output. */
  async exec(containerId: string, args: string[], options: ExecOptions = {}): Promise<RunResult> {
    const flags: string[] = [];
    for (const entry of options.env ?? []) flags.push('--env', entry);
    if (options.cwd) flags.push('--cwd', options.cwd);
    if (options.user) flags.push('--user', `${options.user.uid}:${options.user.gid}`);
    if (options.tty) flags.push('--tty');
    if (options.detach) flags.push('--detach');
    // Attached: the runtime writes the exec'd process's host pid here, so a timeout can kill that
    // process too (killing the runtime's CLI alone leaves it running and holding our pipes).
    const pidFile = options.detach ? undefined : path.join(`${this.root}.logs`, `${process.pid}-${++logCounter}.exec.pid`);
    if (pidFile) flags.push('--pid-file', pidFile);
    try {
      const result = await this.invoke({
        action: 'exec in', containerId, args: ['exec', ...flags, containerId, ...args],
        mode: options.detach ? 'detached' : 'capture', input: options.input ?? '', timeoutMs: options.timeoutMs ?? 60_000, onOutput: options.onOutput, pidFile,
      }, { allowNonZero: !options.detach });
      return { exitCode: result.code, stdout: result.stdout, stderr: result.stderr };
    } finally {
      if (pidFile) rmSync(pidFile, { force: true });
    }
  }

  /** Freezes every process of the container (cgroup freezer). */
  async pause(containerId: string): Promise<void> {
    await this.invoke({ action: 'pause', containerId, args: ['pause', containerId], mode: 'capture', timeoutMs: this.timeoutMs });
  }

  /** Thaws a paused container. */
  async resume(containerId: string): Promise<void> {
    await this.invoke({ action: 'resume', containerId, args: ['resume', containerId], mode: 'capture', timeoutMs: this.timeoutMs });
  }

  /** Host pids of the container's processes. */
  async ps(containerId: string): Promise<number[]> {
    const result = await this.invoke({ action: 'list processes of', containerId, args: ['ps', '--format', 'json', containerId], mode: 'capture', timeoutMs: this.timeoutMs });
    const parsed = JSON.parse(result.stdout.trim() || '[]') as number[] | null;
    return (parsed ?? []).map(Number).sort((a, b) => a - b);
  }

  /** Containers the runtime knows under this root. */
  async list(): Promise<RuntimeListEntry[]> {
    const result = await this.invoke({ action: 'list', args: ['list', '--format', 'json'], mode: 'capture', timeoutMs: this.timeoutMs });
    const parsed = JSON.parse(result.stdout.trim() || '[]') as RuntimeListEntry[] | null;
    return (parsed ?? []).map((e) => ({ id: e.id, pid: e.pid, status: e.status, bundle: e.bundle })).sort((a, b) => compareStrings(a.id, b.id));
  }

  /** Resource usage read from the container's cgroup (path from its bundle's config.json). */
  async stats(containerId: string): Promise<ContainerStats> {
    const state = await this.state(containerId);
    const config = JSON.parse(readFileSync(path.join(state.bundle, 'config.json'), 'utf8')) as OciConfig;
    const cgroupsPath = config.linux.cgroupsPath ?? `/${containerId}`;
    const stats = readCgroupStats(cgroupsPath);
    if (!stats) {
      throw new RuntimeError(`stats of container "${containerId}": cgroup "${cgroupsPath}" not found`, { containerId }, { hint: 'the container may have stopped; check `berth ps -a`' });
    }
    return stats;
  }

  /**
   * berth-runtime only: the fifo that feeds a container created with `stdin: true`
   * (annotation run.berth.stdin). Writers may come and go; the container sees no EOF.
   */
  stdinPath(containerId: string): string {
    return path.join(this.root, containerId, 'stdin');
  }

  /** Polls state until the container has stopped; resolves with the state (exitCode under berth-runtime). */
  async waitStopped(containerId: string, timeoutMs = 10_000): Promise<OciState> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const state = await this.state(containerId);
      if (state.status === 'stopped') return state;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * (attempt + 1), 200)));
    }
    throw new RuntimeError(`container "${containerId}" did not stop within ${timeoutMs} ms`, { containerId }, { hint: 'send SIGKILL with kill(id, "KILL")' });
  }

  private async invoke(invocation: Invocation, options: { allowNonZero?: boolean } = {}): Promise<InvocationResult> {
    const logDir = `${this.root}.logs`;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
    const logFile = path.join(logDir, `${process.pid}-${++logCounter}.json`);
    const args = ['--root', this.root, '--log', logFile, '--log-format', 'json', ...invocation.args];
    let outputFd: number | undefined;
    let stdio: StdioOptions;
    if (invocation.mode === 'capture') stdio = ['pipe', 'pipe', 'pipe'];
    else {
      // The container inherits these: never give it our pipes, or waiting for them would wait for the container.
      outputFd = openSync(invocation.outputFile ?? '/dev/null', 'a');
      stdio = ['ignore', outputFd, outputFd];
    }
    try {
      let timedOut = false;
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
        const [command, commandArgs] = this.commandLine(args);
        // Its own process group: a Ctrl-C at the terminal goes to berth, which decides (finish or undo), never straight to a runtime half-way through a create.
        const child = spawn(command, commandArgs, { stdio, env: this.env, detached: true });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout?.on('data', (chunk: Buffer) => {
          stdout.push(chunk);
          invocation.onOutput?.('stdout', chunk);
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr.push(chunk);
          invocation.onOutput?.('stderr', chunk);
        });
        if (child.stdin) {
          child.stdin.on('error', () => undefined);
          child.stdin.end(invocation.input ?? '');
        }
        const timer = setTimeout(() => {
          timedOut = true;
          if (invocation.pidFile) killPidFile(invocation.pidFile);
          if (child.pid !== undefined) child.kill('SIGKILL');
          // Processes the container started may still hold our pipes: stop waiting for them.
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, invocation.timeoutMs);
        child.on('error', (err) => {
          clearTimeout(timer);
          reject(new RuntimeError(`cannot run container runtime "${this.binary}"`, { containerId: invocation.containerId }, {
            cause: err, hint: 'build berth-runtime with `make -C runtime`, or set BERTH_RUNTIME to runc or crun',
          }));
        });
        child.on(invocation.mode === 'capture' ? 'close' : 'exit', (code, signal) => {
          clearTimeout(timer);
          resolve({
            code: code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : 1),
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        });
      });
      const log = readLog(logFile);
      if (timedOut) {
        throw new RuntimeError(`${invocation.action} container "${invocation.containerId ?? '-'}": runtime did not finish within ${invocation.timeoutMs} ms and was killed`, { containerId: invocation.containerId }, {
          hint: 'the container may still exist: remove it with delete --force',
        });
      }
      if (result.code !== 0 && !options.allowNonZero) {
        throw this.failure(invocation, log.message ?? lastLine(result.stderr) ?? `exit status ${result.code}`, log.errno);
      }
      // An attached run whose container never started is a runtime failure, not an exit code.
      if (result.code !== 0 && options.allowNonZero && log.message) {
        throw this.failure(invocation, log.message, log.errno);
      }
      return { ...result, logMessage: log.message, logErrno: log.errno };
    } finally {
      if (outputFd !== undefined) closeSync(outputFd);
      rmSync(logFile, { force: true });
    }
  }

  /**
   * crun 1.8 refuses cgroup "hybrid" hosts (v1 controllers plus a cgroup2 mount with
   * controllers). There it runs in a private mount namespace with the cgroup2 mount hidden,
   * which changes nothing for the container (it uses the v1 controllers either way).
   */
  private commandLine(args: string[]): [string, string[]] {
    if (this.kind !== 'crun' || !isHybridCgroupHost()) return [this.binary, args];
    const script = 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"';
    return ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, this.binary, ...args]];
  }

  private failure(invocation: Invocation, message: string, errno?: number): RuntimeError {
    const subject = invocation.containerId ? `${invocation.action} container "${invocation.containerId}"` : invocation.action;
    return new RuntimeError(`${subject}: ${message.replace(/\s+$/, '')}`, { containerId: invocation.containerId, errno }, {
      hint: `runtime: ${this.binary} (--root ${this.root})`,
    });
  }
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6, SIGPIPE: 13 };

function readLog(file: string): { message?: string; errno?: number } {
  try {
    return parseRuntimeLog(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}
