/**
 * Runs the host tools the network layer drives: iproute2 (`ip`) and nftables (`nft`). Commands
 * are fed as a batch on stdin so one attach costs two or three process spawns, not dozens.
 */
import { spawn } from 'node:child_process';
import { NetworkError } from './errors.js';

/** Output of one tool run. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args...` with `input` on stdin; never throws for a non-zero exit. */
export function runTool(file: string, args: readonly string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
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
  });
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
