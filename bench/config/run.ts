/**
 * The `berth config` benchmark: a generated 1000-service project through load + validate +
 * normalize in-process and through the CLI, next to `docker-compose config` when it is on PATH.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/config/run.js [services] [runs]`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../../src/paths.js';
import { loadCompose } from '../../src/load/index.js';
import { validateCompose } from '../../src/validate/index.js';
import { normalize, withoutUnusedResources, withProfiles } from '../../src/model/index.js';
import { buildGraph } from '../../src/graph/index.js';
import { generateProject } from './generate.js';

const serviceCount = Number(process.argv[2] ?? 1000);
const runs = Math.max(10, Number(process.argv[3] ?? 10));
const targetMs = 300;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function timeCommand(command: string, args: string[], cwd: string, count: number): { ms: number; ok: boolean; error?: string } {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, env: { ...process.env, COMPOSE_FILE: '', COMPOSE_PROJECT_NAME: '' } });
    times.push(performance.now() - start);
    if (result.status !== 0) return { ms: NaN, ok: false, error: (result.stderr || String(result.error)).split('\n').slice(0, 3).join(' ') };
  }
  return { ms: median(times), ok: true };
}

function hasCommand(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && fs.existsSync(path.join(dir, name)));
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  try {
    generateProject(dir, serviceCount);
    const options = { cwd: dir, env: { PATH: process.env.PATH } };
    const stages = ['load', 'validate', 'normalize+profiles', 'graph'] as const;
    const wall: Record<string, number[]> = Object.fromEntries(stages.map((stage) => [stage, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(stages.map((stage) => [stage, []]));
    const measure = async <T>(stage: string, work: () => T | Promise<T>): Promise<T> => {
      const startCpu = process.cpuUsage();
      const start = performance.now();
      const result = await work();
      wall[stage].push(performance.now() - start);
      const used = process.cpuUsage(startCpu);
      cpu[stage].push((used.user + used.system) / 1000);
      return result;
    };
    const totals: { wall: number[]; cpu: number[] } = { wall: [], cpu: [] };
    for (let i = 0; i <= runs; i++) {
      const startCpu = process.cpuUsage();
      const start = performance.now();
      const loaded = await measure('load', () => loadCompose(options));
      await measure('validate', () => validateCompose(loaded));
      const project = await measure('normalize+profiles', () => withoutUnusedResources(withProfiles(normalize(loaded), loaded.profiles)));
      await measure('graph', () => buildGraph(project));
      const used = process.cpuUsage(startCpu);
      if (i === 0) {
        // The first run is warm-up (JIT, module loading): not what we measure.
        for (const stage of stages) { wall[stage].length = 0; cpu[stage].length = 0; }
        continue;
      }
      totals.wall.push(performance.now() - start);
      totals.cpu.push((used.user + used.system) / 1000);
    }
    const inProcess = median(totals.wall);
    console.log(`project: ${serviceCount} services, ${runs} runs, medians (wall clock; CPU time in brackets, steadier on a busy machine)`);
    for (const stage of stages) console.log(`  ${stage.padEnd(20)} ${median(wall[stage]).toFixed(1).padStart(8)} ms  [cpu ${median(cpu[stage]).toFixed(1)} ms]`);
    console.log(`berth in-process total:  ${inProcess.toFixed(1)} ms  [cpu ${median(totals.cpu).toFixed(1)} ms]  (target < ${targetMs} ms: ${inProcess < targetMs ? 'met' : 'MISSED'})`);
    const cli = timeCommand(process.execPath, [path.join(packageRoot, 'bin', 'berth.js'), 'config', '--format', 'json'], dir, runs);
    console.log(`berth config --format json (CLI, whole process): ${cli.ok ? `${cli.ms.toFixed(1)} ms` : `failed: ${cli.error}`}`);
    if (hasCommand('docker-compose')) {
      const peerRuns = Math.min(runs, 5);
      const peer = timeCommand('docker-compose', ['config'], dir, peerRuns);
      if (peer.ok) {
        console.log(`docker-compose config (CLI, ${peerRuns} runs):       ${peer.ms.toFixed(1)} ms`);
        console.log(`ratio docker-compose / berth CLI: ${(peer.ms / cli.ms).toFixed(2)}x`);
      } else {
        console.log(`docker-compose config failed: ${peer.error}`);
      }
    } else {
      console.log('docker-compose: not found on PATH (install Debian\'s docker-compose for the side-by-side run)');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
