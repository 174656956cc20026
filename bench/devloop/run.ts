/**
 * Dev-loop benchmark (as root, after building):
 *   node dist/bench/devloop/run.js [--edits 50] [--rebuilds 5] [--docker]
 *
 * 1. Sync latency: a service with a `develop.watch` sync rule runs; the host file is rewritten
 *    `--edits` times and the time until the new content is readable inside the container
 *    (through the container's own root, /proc/<pid>/root) is measured. Median and p90.
 * 2. Rebuilds of the example app (multi-stage Dockerfile from the test busybox image): a
 *    no-change rebuild and a one-file-change rebuild, median over `--rebuilds`.
 *    With `--docker` and Debian's docker.io installed, a private dockerd (own data root and
 *    socket, no bridge, no iptables) builds the same context with `docker build`, and the
 *    ratios berth/docker are printed (< 1: berth is faster).
 * 3. Cost of the build network per RUN step: `--run-steps` RUN steps built without cache with
 *    the default network (own namespace on the build bridge), `host` and `none`; the time per
 *    step of each, median of 3 builds. `--only run-network` measures only this.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildImage } from '../../src/build/index.js';
import { Engine } from '../../src/engine/engine.js';
import { loadProject, projectOptionsFromFlags } from '../../src/project/index.js';
import { startWatch } from '../../src/watch/index.js';
import { makeStackRoot, testImage } from '../../test/helpers/stack.js';
import { median, percentile, startPrivateDockerd } from '../common.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const edits = Math.max(option('edits', 50), 1);
const rebuilds = Math.max(option('rebuilds', 5), 1);
const withDocker = process.argv.includes('--docker');
const runSteps = Math.max(option('run-steps', 10), 1);
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dockerfile = (base: string) => `FROM ${base} AS build
WORKDIR /src
COPY lib/ ./lib/
RUN cat lib/*.txt > /deps.out
COPY app/ ./app/
RUN cat app/*.txt /deps.out > /app.out && wc -c /app.out

FROM ${base}
COPY --from=build /app.out /srv/app.out
COPY app/ /srv/app/
CMD ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`;

function writeApp(dir: string, base: string): void {
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  mkdirSync(path.join(dir, 'app'), { recursive: true });
  for (let i = 0; i < 200; i++) writeFileSync(path.join(dir, 'lib', `lib-${i}.txt`), `library ${i}\n`.repeat(50));
  for (let i = 0; i < 50; i++) writeFileSync(path.join(dir, 'app', `page-${i}.txt`), `page ${i}\n`.repeat(20));
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile(base));
  writeFileSync(path.join(dir, '.dockerignore'), '*.log\n');
}

async function syncLatency(root: Awaited<ReturnType<typeof makeStackRoot>>): Promise<number[]> {
  const name = `devloop${process.pid}`;
  const dir = root.project(name, `name: ${name}
services:
  web:
    image: ${testImage}
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /app/src; while true; do sleep 1; done"]
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app/src
`);
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'index.txt'), 'initial\n');
  const engine = await Engine.open({ env: root.env });
  const project = await loadProject(projectOptionsFromFlags({}, { cwd: dir, env: root.env }));
  await engine.up(project, { detach: true });
  const handle = startWatch(engine, project, { log: () => undefined });
  await handle.ready;
  const samples: number[] = [];
  try {
    const container = (await engine.observe(name)).find((c) => c.status === 'running');
    if (!container?.pid) throw new Error('the benchmark container is not running');
    const inside = `/proc/${container.pid}/root/app/src/index.txt`;
    for (let i = 0; i < edits; i++) {
      const content = `edit ${i} ${Date.now()}\n`;
      const started = process.hrtime.bigint();
      writeFileSync(path.join(dir, 'src', 'index.txt'), content);
      for (;;) {
        let seen = '';
        try {
          seen = readFileSync(inside, 'utf8');
        } catch {
          // Not there yet (first sync) or being renamed into place.
        }
        if (seen === content) break;
        if (Number(process.hrtime.bigint() - started) > 10e9) throw new Error(`edit ${i} did not arrive within 10 s`);
        await sleep(1);
      }
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      await sleep(150);
    }
  } finally {
    await handle.close();
    await engine.down(name, { timeout: 1 });
  }
  return samples;
}

async function berthRebuilds(root: Awaited<ReturnType<typeof makeStackRoot>>, dir: string): Promise<{ cold: number; noChange: number[]; oneFile: number[] }> {
  const options = { context: dir, tags: ['devloop/app:latest'], env: root.env, log: () => undefined };
  let started = Date.now();
  await buildImage(options);
  const cold = Date.now() - started;
  const noChange: number[] = [];
  const oneFile: number[] = [];
  for (let i = 0; i < rebuilds; i++) {
    started = Date.now();
    await buildImage(options);
    noChange.push(Date.now() - started);
    writeFileSync(path.join(dir, 'app', 'page-7.txt'), `page 7 edit ${i} ${Date.now()}\n`);
    started = Date.now();
    await buildImage(options);
    oneFile.push(Date.now() - started);
  }
  return { cold, noChange, oneFile };
}

async function dockerRebuilds(root: Awaited<ReturnType<typeof makeStackRoot>>, berthDir: string): Promise<{ cold: number; noChange: number[]; oneFile: number[] } | undefined> {
  const work = mkdtempSync('/tmp/berth-devloop-docker-');
  const daemon = await startPrivateDockerd(path.join(work, 'docker'));
  if (!daemon) return undefined;
  try {
    const docker = (args: string[], input?: Buffer) => execFileSync('docker', ['-H', daemon.host, ...args], { input, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    const archive = path.join(work, 'base.tar');
    execFileSync(process.execPath, [path.join(path.dirname(new URL(import.meta.url).pathname), '../../test/helpers/berth-entry.js'), 'save', '-o', archive, testImage], { env: root.env });
    docker(['load', '-i', archive]);
    const dir = path.join(work, 'app');
    writeApp(dir, testImage);
    const build = () => docker(['build', '--network', 'none', '-q', '-t', 'devloop/app:latest', dir]);
    let started = Date.now();
    build();
    const cold = Date.now() - started;
    const noChange: number[] = [];
    const oneFile: number[] = [];
    for (let i = 0; i < rebuilds; i++) {
      started = Date.now();
      build();
      noChange.push(Date.now() - started);
      writeFileSync(path.join(dir, 'app', 'page-7.txt'), `page 7 edit ${i} ${Date.now()}\n`);
      started = Date.now();
      build();
      oneFile.push(Date.now() - started);
    }
    void berthDir;
    return { cold, noChange, oneFile };
  } catch (err) {
    process.stderr.write(`docker build failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}\n`);
    return undefined;
  } finally {
    await daemon.stop();
    spawnSync('umount', ['-R', path.join(work, 'docker')], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

/** Milliseconds per RUN step for each build network (median of 3 builds of `runSteps` steps, no cache). */
async function runStepCost(root: Awaited<ReturnType<typeof makeStackRoot>>): Promise<Record<string, number>> {
  const dir = root.project('devloop-run-network');
  const steps = Array.from({ length: runSteps }, (_, i) => `RUN echo ${i} > /step-${i}`).join('\n');
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\n${steps}\n`);
  const result: Record<string, number> = {};
  for (const network of ['default', 'host', 'none']) {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      await buildImage({ context: dir, env: root.env, network, noCache: true, log: () => undefined });
      samples.push(Number(process.hrtime.bigint() - started) / 1e6 / runSteps);
    }
    result[network] = median(samples);
  }
  return result;
}

const root = await makeStackRoot({ prefix: 'berth-devloop-' });
try {
  if (only === 'run-network') {
    const cost = await runStepCost(root);
    process.stdout.write(`RUN step (${runSteps} steps, no cache, median of 3): default ${cost.default.toFixed(1)} ms, host ${cost.host.toFixed(1)} ms, none ${cost.none.toFixed(1)} ms per step; the build network adds ${(cost.default - cost.host).toFixed(1)} ms per step over host\n`);
  } else {
  const latency = await syncLatency(root);
  process.stdout.write(`sync: host write -> readable in container, ${latency.length} edits: median ${median(latency).toFixed(1)} ms, p90 ${percentile(latency, 90).toFixed(1)} ms, max ${Math.max(...latency).toFixed(1)} ms (target <= 100 ms)\n`);
  const dir = root.project('devloop-app');
  writeApp(dir, testImage);
  const berth = await berthRebuilds(root, dir);
  const cost = await runStepCost(root);
  process.stdout.write(`RUN step (${runSteps} steps, no cache, median of 3): default ${cost.default.toFixed(1)} ms, host ${cost.host.toFixed(1)} ms, none ${cost.none.toFixed(1)} ms per step; the build network adds ${(cost.default - cost.host).toFixed(1)} ms per step over host\n`);
  process.stdout.write(`berth build: cold ${berth.cold} ms, no-change rebuild median ${median(berth.noChange)} ms, one-file-change rebuild median ${median(berth.oneFile)} ms (${rebuilds} runs)\n`);
  if (withDocker) {
    const docker = await dockerRebuilds(root, dir);
    if (docker) {
      process.stdout.write(`docker build: cold ${docker.cold} ms, no-change rebuild median ${median(docker.noChange)} ms, one-file-change rebuild median ${median(docker.oneFile)} ms\n`);
      process.stdout.write(`ratio berth/docker: no-change ${(median(berth.noChange) / median(docker.noChange)).toFixed(2)}, one-file-change ${(median(berth.oneFile) / median(docker.oneFile)).toFixed(2)}\n`);
    } else {
      process.stdout.write('docker build: not measured (dockerd from docker.io is not available or failed to start)\n');
    }
  }
  }
} finally {
  root.remove();
}
