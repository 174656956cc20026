/**
 * Host-side steps of containers (overlay mounts, unmounts, `ip -batch` inside a network
 * namespace) carried out by one `berth-runtime host-batch` process per burst of callers, instead
 * of a `mount`, `umount` or `ip -n` process per container. Starting a process from Node costs the
 * CLI several milliseconds of its only thread; for ten containers that was a third of `up -d`.
 *
 * Callers decide what to do; berth-runtime (runtime/hostbatch.c) only does it and answers per
 * step. Without the runtime binary, or when not root, hostStepsAvailable() is false and callers
 * use the plain tools.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './paths.js';

/** One step; every field is a path or an option string berth made. */
export type HostStep =
  | { kind: 'mount-overlay'; /** working directory of the mount (the layer links) */ dir: string; options: string; target: string }
  | { kind: 'umount'; target: string }
  | { kind: 'netns'; /** e.g. /run/netns/berth-x */ netns: string; /** an `ip -batch` file */ batchFile: string };

/** The runtime binary berth builds (not BERTH_RUNTIME, which may name runc or crun). */
const helper = path.join(packageRoot, 'runtime', 'build', 'berth-runtime');

let available: boolean | undefined;

/** True when steps can go to berth-runtime host-batch. */
export function hostStepsAvailable(): boolean {
  available ??= process.getuid?.() === 0 && existsSync(helper);
  return available;
}

interface Pending {
  fields: string[];
  resolve: () => void;
  reject: (error: Error) => void;
}

let queue: Pending[] = [];

function fieldsOf(step: HostStep): string[] {
  switch (step.kind) {
    case 'mount-overlay': return [step.kind, step.dir, step.options, step.target];
    case 'umount': return [step.kind, step.target];
    case 'netns': return [step.kind, step.netns, step.batchFile];
  }
}

/**
 * Runs `step` in the next host-batch process (every step asked for in the same turn of the event
 * loop shares one). Resolves when the step is done; rejects with an Error whose message is the
 * step's failure (e.g. `mount overlay on /x: Invalid argument`, or ip's own output).
 */
export function runHostStep(step: HostStep): Promise<void> {
  const fields = fieldsOf(step);
  const bad = fields.find((field) => /[\t\n\0]/.test(field));
  if (bad !== undefined) return Promise.reject(new Error(`"${bad}" contains a tab, newline or NUL character`));
  return new Promise<void>((resolve, reject) => {
    queue.push({ fields, resolve, reject });
    if (queue.length === 1) setImmediate(flush);
  });
}

function flush(): void {
  const steps = queue;
  queue = [];
  if (steps.length === 0) return;
  const settled = new Set<number>();
  const settle = (index: number, error?: string): void => {
    if (settled.has(index) || !steps[index]) return;
    settled.add(index);
    if (error === undefined) steps[index].resolve();
    else steps[index].reject(new Error(error));
  };
  const child = spawn(helper, ['host-batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    let newline: number;
    while ((newline = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, newline);
      out = out.slice(newline + 1);
      const answer = /^(\d+) (ok|error)(?: (.*))?$/.exec(line);
      if (answer) settle(Number(answer[1]), answer[2] === 'ok' ? undefined : answer[3] || 'failed');
    }
  });
  child.stderr.on('data', (chunk: string) => { err += chunk; });
  const failRest = (why: string): void => steps.forEach((_, index) => settle(index, why));
  child.on('error', (error) => failRest(`cannot run ${helper}: ${error.message}`));
  child.on('close', (code, signal) => failRest(`berth-runtime host-batch ended (${signal ?? `exit ${code}`}) without doing this step${err.trim() ? `: ${err.trim()}` : ''}`));
  child.stdin.on('error', () => undefined);
  child.stdin.end(steps.map((step) => `${step.fields.join('\t')}\n`).join(''));
}
