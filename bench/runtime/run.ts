/**
 * Container start latency: time from spawning `<runtime> run` to the container having executed
 * `true` and the runtime having exited, for berth-runtime, runc and crun on the same bundle
 * (Docker-default confinement: namespaces, cgroup, seccomp, masked paths).
 *
 *   node dist/bench/runtime/run.js [--runs 50] [--json] [--only berth,runc,crun]
 *
 * crun 1.8 refuses cgroup "hybrid" hosts, so there it is measured from a child process living in
 * a private mount namespace where the cgroup2 mount is hidden; crun itself is timed directly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeBinary } from '../../src/paths.js';
import { RuntimeDriver, toOciSpec } from '../../src/runtime/index.js';
import { makeBusyboxRootfs, removeRootfs } from '../../test/helpers/busybox-rootfs.js';
import { which } from '../common.js';

type Name = 'berth' | 'runc' | 'crun';
interface Result { name: Name; runs: number; medianMs: number; p90Ms: number; minMs: number; failures: number }

const maxRuns = 500;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}


function binaryOf(name: Name): string | undefined {
  if (name === 'berth') return existsSync(runtimeBinary({})) ? runtimeBinary({}) : undefined;
  return which(name);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function runOnce(binary: string, root: string, bundle: string, id: string): Promise<{ ms: number; ok: boolean }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(binary, ['--root', root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', () => resolve({ ms: 0, ok: false }));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, ok: code === 0 });
    });
  });
}

/** Measures one runtime in this process. */
async function measure(name: Name, binary: string, bundle: string, runs: number): Promise<Result> {
  const root = mkdtempSync(`/tmp/berth-bench-${name}-`);
  const times: number[] = [];
  let failures = 0;
  try {
    for (let i = 0; i < runs + 3; i++) {
      const id = `bench-${name}-${process.pid}-${i}`;
      const { ms, ok } = await runOnce(binary, root, bundle, id);
      // Attached runs remove the container themselves; force-delete leftovers of failures only.
      if (!ok) {
        failures++;
        spawnSync(binary, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
      } else if (i >= 3) times.push(ms); // the first three warm caches
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return { name, runs: times.length, medianMs: percentile(times, 50) ?? NaN, p90Ms: percentile(times, 90) ?? NaN, minMs: times[0] ?? NaN, failures };
}

function crunNeedsHiding(): boolean {
  return existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
}

/** crun on a hybrid host: re-run this script for crun alone in a private mount namespace without cgroup2. */
function measureCrunIsolated(bundle: string, runs: number): Result | undefined {
  const self = fileURLToPath(import.meta.url);
  const inner = `umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "${process.execPath}" "${self}" --inner crun --bundle "${bundle}" --runs ${runs}`;
  const child = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inner], { encoding: 'utf8', timeout: 600_000 });
  try {
    return JSON.parse(child.stdout) as Result;
  } catch {
    console.error(`crun: measurement failed: ${child.stderr}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const runs = Math.max(1, Math.min(maxRuns, Number(arg('runs') ?? 50)));
  const inner = arg('inner') as Name | undefined;
  if (inner) {
    process.stdout.write(JSON.stringify(await measure(inner, binaryOf(inner) as string, arg('bundle') as string, runs)));
    return;
  }
  const only = (arg('only') ?? 'berth,runc,crun').split(',') as Name[];
  const rootfs = makeBusyboxRootfs();
  chmodSync(rootfs, 0o755);
  const bundle = mkdtempSync('/tmp/berth-bench-bundle-');
  const results: Result[] = [];
  try {
    RuntimeDriver.writeBundle(bundle, toOciSpec({ id: 'bench', rootfs, args: ['/bin/true'] }));
    for (const name of only) {
      const binary = binaryOf(name);
      if (!binary) {
        console.error(`${name}: not installed, skipped`);
        continue;
      }
      const result = name === 'crun' && crunNeedsHiding() ? measureCrunIsolated(bundle, runs) : await measure(name, binary, bundle, runs);
      if (result) results.push(result);
    }
  } finally {
    rmSync(bundle, { recursive: true, force: true });
    removeRootfs(rootfs);
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  console.log(`container start latency: run → /bin/true exits (${runs} runs each, after 3 warm-up runs)`);
  console.log('runtime   median ms   p90 ms    min ms   failures');
  for (const r of results) {
    console.log(`${r.name.padEnd(8)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.p90Ms.toFixed(1).padStart(7)}  ${r.minMs.toFixed(1).padStart(8)}   ${r.failures}`);
  }
  const berth = results.find((r) => r.name === 'berth');
  for (const other of results.filter((r) => r.name !== 'berth')) {
    if (berth) console.log(`berth vs ${other.name}: median ${(berth.medianMs / other.medianMs).toFixed(2)}x, p90 ${(berth.p90Ms / other.p90Ms).toFixed(2)}x (below 1 = berth faster)`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
