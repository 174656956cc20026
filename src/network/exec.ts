/**
 * Runs the host tools the network layer drives: iproute2 (`ip`) and nftables (`nft`). Commands
 * are fed as a batch on stdin so one attach costs two process spawns, not dozens, and the
 * host-side commands of attaches and detaches that run at the same time share one `ip` process
 * (hostBatch).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { NetworkError } from './errors.js';
import { findOnPath } from '../paths.js';

/** Output of one tool run. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Counts of tool runs in this process (for bench/net/attach and debugging): spawns and wall time per tool. */
export const toolStats = { spawns: 0, ms: 0, byTool: {} as Record<string, { spawns: number; ms: number }> };

const trace = process.env.BERTH_NET_TRACE === '1';
const traceStart = performance.now();

/**
 * At most this many tool processes run at once (one more than the CPUs). Each is short and
 * CPU-bound: running thirty at once on two cores finishes them all late, together, while a
 * queue finishes the first ones early, so their containers can go on to start meanwhile.
 */
const maxTools = Math.max(2, availableParallelism() + 1);
let toolsRunning = 0;
const toolQueue: Array<() => void> = [];

function toolSlot(): Promise<void> {
  if (toolsRunning < maxTools) {
    toolsRunning++;
    return Promise.resolve();
  }
  return new Promise((resolve) => toolQueue.push(resolve));
}

function releaseToolSlot(): void {
  const next = toolQueue.shift();
  if (next) next();
  else toolsRunning--;
}

/** Runs `file args...` with `input` on stdin; never throws for a non-zero exit. */
export async function runTool(file: string, args: readonly string[], input?: string): Promise<ToolResult> {
  await toolSlot();
  try {
    return await spawnTool(file, args, input);
  } finally {
    releaseToolSlot();
  }
}

const toolPaths = new Map<string, string>();

/**
 * The absolute path of a tool found on PATH (looked up once per process), or the bare name when
 * it is not found (spawn then reports it). Node waits while a child searches PATH before exec;
 * on a long PATH that wait was a good part of each `ip` and `nft` start.
 */
function toolPath(file: string): string {
  if (file.includes('/')) return file;
  let found = toolPaths.get(file);
  if (found === undefined) {
    found = findOnPath([file]) ?? file;
    toolPaths.set(file, found);
  }
  return found;
}

function spawnTool(file: string, args: readonly string[], input?: string): Promise<ToolResult> {
  const started = performance.now();
  const count = (): void => {
    const ms = performance.now() - started;
    const entry = (toolStats.byTool[file] ??= { spawns: 0, ms: 0 });
    entry.spawns++;
    entry.ms += ms;
    toolStats.spawns++;
    toolStats.ms += ms;
    if (trace) process.stderr.write(`[net] ${(started - traceStart).toFixed(1)}ms +${ms.toFixed(1)}ms ${file} ${args.join(' ')} (${input ? input.split('\n').length - 1 : 0} lines)\n`);
  };
  return new Promise<ToolResult>((resolve, reject) => {
    const child = spawn(toolPath(file), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(new NetworkError(`cannot run ${file}: ${error.message}`, {
      hint: `berth needs iproute2 ("ip") and nftables ("nft") on the host; install them (apt-get install iproute2 nftables)`,
      cause: error,
    })));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  }).finally(count);
}

/** Runs `ip [pre...] -batch -` with one command per line; throws NetworkError naming `what` on failure. */
export async function ipBatch(lines: readonly string[], what: string, pre: readonly string[] = []): Promise<void> {
  if (lines.length === 0) return;
  const result = await runTool('ip', [...pre, '-batch', '-'], lines.join('\n') + '\n');
  if (result.code !== 0) {
    throw new NetworkError(`${what}: ip: ${result.stderr.trim() || `exit ${result.code}`}`, {
      hint: 'check that berth runs as root and that the host kernel has bridge and veth support',
    });
  }
}

/** Like ipBatch but keeps going past failing lines (-force) and ignores errors: for cleanup. */
export async function ipBatchForce(lines: readonly string[], pre: readonly string[] = []): Promise<void> {
  if (lines.length === 0) return;
  await runTool('ip', [...pre, '-force', '-batch', '-'], lines.join('\n') + '\n').catch(() => undefined);
}

/** Runs `ip -j args...` and parses its JSON output. */
export async function ipJson<T>(args: readonly string[]): Promise<T> {
  const result = await runTool('ip', ['-j', ...args]);
  if (result.code !== 0) throw new NetworkError(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout || '[]') as T;
}

/** Loads an nft script (`nft -f -`) atomically; throws NetworkError naming `what` on failure. */
export async function nftScript(script: string, what: string): Promise<void> {
  const result = await runTool('nft', ['-f', '-'], script);
  if (result.code !== 0) {
    throw new NetworkError(`${what}: nft: ${result.stderr.trim() || `exit ${result.code}`}`, {
      hint: 'berth needs nftables (kernel nf_tables, the nft tool) to publish ports and isolate networks',
    });
  }
}

/** Quotes a value for an ip batch line (names and aliases berth makes never need more). */
export function batchQuote(value: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '')}"`;
}

/** One caller's lines in a shared host batch. */
interface HostRequest {
  lines: string[];
  what: string;
  force: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

let hostQueue: HostRequest[] = [];
const maxHostRequests = 8;
let hostRunning = false;

/** Splits `ip -force -batch` stderr into the messages of each failed line (1-based line numbers). */
export function batchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const failed = /^Command failed -:(\d+)$/.exec(line.trim());
    if (failed) {
      failures.set(Number(failed[1]), pending.join(' ').trim());
      pending = [];
    } else if (line.trim()) {
      pending.push(line.trim());
    }
  }
  return failures;
}

async function flushHostQueue(): Promise<void> {
  hostRunning = true;
  try {
    while (hostQueue.length > 0) {
      // A bounded batch: the first containers get going while the rest wait for the next one.
      const requests = hostQueue.splice(0, maxHostRequests);
      const lines = requests.flatMap((r) => r.lines);
      let result: ToolResult;
      try {
        result = await runTool('ip', ['-force', '-batch', '-'], lines.join('\n') + '\n');
      } catch (err) {
        for (const r of requests) r.force ? r.resolve() : r.reject(err as Error);
        continue;
      }
      const failures = result.code === 0 ? new Map<number, string>() : batchFailures(result.stderr);
      // A non-zero exit without any "Command failed" line: ip itself failed; blame everyone.
      const whole = result.code !== 0 && failures.size === 0 ? (result.stderr.trim() || `exit ${result.code}`) : undefined;
      let first = 1;
      for (const r of requests) {
        const own = [...failures].filter(([n]) => n >= first && n < first + r.lines.length).map(([, message]) => message || 'failed');
        first += r.lines.length;
        const message = own.length > 0 ? own.join('; ') : whole;
        if (message === undefined || r.force) r.resolve();
        else r.reject(new NetworkError(`${r.what}: ip: ${message}`, { hint: 'check that berth runs as root and that the host kernel has bridge and veth support' }));
      }
    }
  } finally {
    hostRunning = false;
  }
}

/**
 * Runs `lines` in the host's network namespace, sharing one `ip -force -batch -` process with
 * every other hostBatch call made meanwhile (while a batch runs, the next one collects). Each
 * caller learns only about its own lines: it rejects with NetworkError naming `what` when one of
 * them failed, unless `force` (for cleanup: errors are ignored). Lines of one caller run in order.
 */
export function hostBatch(lines: readonly string[], what: string, options: { force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    hostQueue.push({ lines: [...lines], what, force: options.force ?? false, resolve, reject });
    // Wait one turn of the event loop before the first batch so that a burst of callers shares it.
    if (!hostRunning) {
      hostRunning = true;
      setImmediate(() => void flushHostQueue());
    }
  });
}

/** Runs several read-only `ip -j` commands in one process; one parsed JSON array per command. */
export async function ipJsonBatch<T>(commands: readonly string[]): Promise<T[][]> {
  const result = await runTool('ip', ['-j', '-force', '-batch', '-'], commands.join('\n') + '\n');
  const arrays = result.stdout.split('\n').filter((l) => l.trim().startsWith('[')).map((l) => {
    try { return JSON.parse(l) as T[]; } catch { return [] as T[]; }
  });
  if (arrays.length !== commands.length) {
    throw new NetworkError(`ip ${commands.join('; ')}: ${result.stderr.trim() || 'unexpected output'}`, { hint: 'berth needs iproute2 with JSON output (ip -j)' });
  }
  return arrays;
}
