/**
 * Attach/detach cost of the network layer alone (no containers, no runtime): for stacks of N
 * services on the default network, the time of ensureNetworks, of attaching every container at
 * once (as `up` does), of detaching them all at once (as `down` does), of removeNetworks, and the
 * latency of one attach/detach when nothing else runs; with the process spawns each step costs.
 *
 *   node dist/bench/net/attach.js [--sizes 10,30] [--runs 3] [--ports 0] [--json]
 *
 * `--ports K` gives K of the services a published random port. Everything happens in a private
 * state root under /tmp with project names holding this process's pid; it is all removed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NetworkAttachment, NetworkProvider, Project } from '../../src/engine/types.js';
import { cleanupProject, createNetworkProvider } from '../../src/network/index.js';
import { toolStats } from '../../src/network/exec.js';
import { loadProject } from '../../src/project/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function composeFile(count: number, ports: number): string {
  const lines = ['services:'];
  for (let i = 1; i <= count; i++) {
    lines.push(`  svc${i}:`, '    image: berth-bench/busybox:latest');
    if (i <= ports) lines.push('    ports: ["8080"]');
  }
  return `${lines.join('\n')}\n`;
}

/** Time and spawns of one step. */
interface Step { ms: number; spawns: number }

async function step(fn: () => Promise<unknown>): Promise<Step> {
  const spawns = toolStats.spawns;
  const start = performance.now();
  await fn();
  return { ms: performance.now() - start, spawns: toolStats.spawns - spawns };
}

interface Row {
  services: number;
  ensure: Step;
  attachAll: Step;
  detachAll: Step;
  remove: Step;
  attachOne: Step;
  detachOne: Step;
}

async function runOnce(root: string, provider: NetworkProvider, count: number, ports: number, run: number): Promise<Row> {
  const name = `h11b${process.pid}r${run}n${count}`;
  const dir = path.join(root, 'projects', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'compose.yaml'), composeFile(count, ports));
  const project: Project = await loadProject({ cwd: dir, projectName: name, env: { PATH: process.env.PATH ?? '' }, readStdin: async () => '' });
  const services = [...project.services.values()];
  const attach = (i: number): Promise<NetworkAttachment> => {
    const id = `${name}-svc${i + 1}-1`;
    return provider.attach({ project, service: services[i], containerId: id, containerName: id, hostname: id.slice(0, 12), stateDir: path.join(root, 'containers', id) });
  };
  try {
    const ensure = await step(() => provider.ensureNetworks(project, ['default']));
    let attachments: NetworkAttachment[] = [];
    const attachAll = await step(async () => { attachments = await Promise.all(services.map((_, i) => attach(i))); });
    const detachAll = await step(() => Promise.all(attachments.map((a, i) => provider.detach(`${name}-svc${i + 1}-1`, a))));
    // One container alone, a few times: the latency of a single attach and detach.
    const ones: Step[] = [];
    const twos: Step[] = [];
    for (let k = 0; k < 5; k++) {
      let a: NetworkAttachment | undefined;
      ones.push(await step(async () => { a = await attach(0); }));
      twos.push(await step(() => provider.detach(`${name}-svc1-1`, a!)));
    }
    const remove = await step(() => provider.removeNetworks(project));
    const pick = (list: Step[]): Step => ({ ms: median(list.map((s) => s.ms)), spawns: median(list.map((s) => s.spawns)) });
    return { services: count, ensure, attachAll, detachAll, remove, attachOne: pick(ones), detachOne: pick(twos) };
  } finally {
    await cleanupProject(name, root).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const sizes = (arg('sizes') ?? '10,30').split(',').map(Number).filter((n) => n > 0 && n <= 100);
  const runs = Math.min(Number(arg('runs') ?? 3), 20);
  const ports = Number(arg('ports') ?? 0);
  const root = mkdtempSync('/tmp/berth-bench-attach-');
  const provider = createNetworkProvider({ root });
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      const results: Row[] = [];
      for (let r = 0; r < runs; r++) results.push(await runOnce(root, provider, size, Math.min(ports, size), r));
      const pick = (key: keyof Omit<Row, 'services'>): Step => ({ ms: median(results.map((x) => x[key].ms)), spawns: median(results.map((x) => x[key].spawns)) });
      rows.push({ services: size, ensure: pick('ensure'), attachAll: pick('attachAll'), detachAll: pick('detachAll'), remove: pick('remove'), attachOne: pick('attachOne'), detachOne: pick('detachOne') });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  const cell = (s: Step): string => `${s.ms.toFixed(0)} ms / ${s.spawns}`;
  console.log(`# medians of ${runs} runs; cells are "time / process spawns"; ${ports} service(s) publish a port`);
  console.log('| services | ensureNetworks | attach all | detach all | removeNetworks | one attach | one detach |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.services} | ${cell(r.ensure)} | ${cell(r.attachAll)} | ${cell(r.detachAll)} | ${cell(r.remove)} | ${cell(r.attachOne)} | ${cell(r.detachOne)} |`);
  }
}

await main();
