/**
 * Stack start and teardown: `up -d` and `down` of 1, 10 and 30 services, berth side by side with
 * docker-compose on a dockerd (Debian's docker.io and docker-compose) and podman-compose when
 * they are installed, on the same machine and the same busybox image, in one run.
 *
 *   node dist/bench/up/run.js [--sizes 1,10,30] [--runs 3] [--peers docker,podman] [--json]
 *
 * Every service runs `sh -c 'trap "exit 0" TERM; sleep 3600 & wait'` so a stop is answered at
 * once by every tool (no 10 s grace period hides the difference). berth runs against a private
 * BERTH_ROOT; dockerd is started here with a private data root, its own socket and without
 * touching iptables, and stopped at the end. The supervisor's resident memory is measured while
 * the largest stack runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxRootfs, removeRootfs } from '../../test/helpers/busybox-rootfs.js';
import { arg, median, startPrivateDockerd, which } from '../common.js';
import { packageRoot } from '../../src/paths.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// What users run: bin/berth.js, the bundled CLI with its code cache (the first, untimed import
// command writes no cache for up/down; the first timed run of each does, as a user's first run would).
const berthEntry = path.join(packageRoot, 'bin', 'berth.js');
const image = 'berth-bench/busybox:latest';
const maxServices = 60;
const maxRuns = 20;

/** Runs a command to completion, returning wall time; throws with its output when it fails. */
function timed(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: options.cwd, env: options.env, encoding: 'utf8', timeout: 300_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  return ms;
}

/** A compose file with `count` services of the bench image. */
function composeFile(count: number): string {
  const lines = ['services:'];
  for (let i = 1; i <= count; i++) {
    lines.push(`  svc${i}:`, `    image: ${image}`, `    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`);
  }
  return `${lines.join('\n')}\n`;
}

interface Peer {
  name: string;
  up(dir: string, project: string): number;
  down(dir: string, project: string): number;
  close(): void | Promise<void>;
}

interface Row { tool: string; services: number; upMs: number; downMs: number }

function berthPeer(work: string, tarball: string): Peer & { supervisorRss(project: string): number | undefined } {
  const root = path.join(work, 'berth-root');
  const env = { ...process.env, BERTH_ROOT: root };
  timed(process.execPath, [berthEntry, 'import', tarball, image], { env });
  return {
    name: 'berth',
    up: (dir, project) => timed(process.execPath, [berthEntry, '-p', project, 'up', '-d'], { cwd: dir, env }),
    down: (dir, project) => timed(process.execPath, [berthEntry, '-p', project, 'down', '-t', '10'], { cwd: dir, env }),
    supervisorRss(project) {
      const dir = path.join(root, 'run', 'projects', project);
      // `up -d` spawns the supervisor without waiting for it: give it a moment to come up (not timed).
      let pidFile: string | undefined;
      for (let i = 0; i < 100 && !pidFile; i++) {
        pidFile = existsSync(dir) ? readdirSync(dir).find((name) => name.endsWith('.pid')) : undefined;
        if (!pidFile) spawnSync('sleep', ['0.05']);
      }
      if (!pidFile) return undefined;
      spawnSync('sleep', ['0.5']); // let it adopt the stack before measuring
      const pid = readFileSync(path.join(dir, pidFile), 'utf8').trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : undefined;
    },
    close: () => rmSync(root, { recursive: true, force: true }),
  };
}

async function dockerPeer(work: string, tarball: string): Promise<Peer | undefined> {
  const docker = which('docker');
  const compose = which('docker-compose');
  if (!docker || !compose) return undefined;
  const daemon = await startPrivateDockerd(path.join(work, 'docker'));
  if (!daemon) return undefined;
  timed(docker, ['import', tarball, image], { env: daemon.env });
  // docker-compose gives up on a slow daemon after 60 s by default; the bench wants the time, not the error.
  const env = { ...daemon.env, COMPOSE_HTTP_TIMEOUT: '300' };
  return {
    name: 'docker-compose',
    up: (dir, project) => timed(compose, ['-p', project, 'up', '-d'], { cwd: dir, env }),
    down: (dir, project) => timed(compose, ['-p', project, 'down', '-t', '10'], { cwd: dir, env }),
    close: () => daemon.stop(),
  };
}

function podmanPeer(work: string, tarball: string): Peer | undefined {
  const podman = which('podman');
  const compose = which('podman-compose');
  if (!podman || !compose) return undefined;
  const storage = path.join(work, 'podman');
  const flags = ['--root', path.join(storage, 'root'), '--runroot', path.join(storage, 'run')];
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: path.join(storage, 'storage.conf') };
  mkdirSync(storage, { recursive: true });
  writeFileSync(env.CONTAINERS_STORAGE_CONF, `[storage]\ndriver = "overlay"\nrunroot = "${path.join(storage, 'run')}"\ngraphroot = "${path.join(storage, 'root')}"\n`);
  timed(podman, [...flags, 'import', tarball, image], { env });
  return {
    name: 'podman-compose',
    up: (dir, project) => timed(compose, ['-p', project, 'up', '-d'], { cwd: dir, env }),
    down: (dir, project) => timed(compose, ['-p', project, 'down', '-t', '10'], { cwd: dir, env }),
    close: () => { spawnSync(podman, [...flags, 'system', 'reset', '-f'], { env, stdio: 'ignore' }); },
  };
}

async function main(): Promise<void> {
  const sizes = (arg('sizes') ?? '1,10,30').split(',').map(Number).filter((n) => n > 0 && n <= maxServices);
  const runs = Math.min(maxRuns, Math.max(1, Number(arg('runs') ?? 3)));
  const wanted = new Set((arg('peers') ?? 'docker,podman').split(','));
  const work = mkdtempSync('/tmp/berth-bench-up-');
  const source = makeBusyboxRootfs();
  const tarball = path.join(work, 'busybox.tar');
  spawnSync('tar', ['-C', source, '-cf', tarball, '.']);
  removeRootfs(source);

  const berth = berthPeer(work, tarball);
  const peers: Peer[] = [berth];
  if (wanted.has('docker')) { const peer = await dockerPeer(work, tarball); if (peer) peers.push(peer); }
  if (wanted.has('podman')) { const peer = podmanPeer(work, tarball); if (peer) peers.push(peer); }

  const rows: Row[] = [];
  let rss: number | undefined;
  try {
    for (const size of sizes) {
      const dir = path.join(work, `stack-${size}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'compose.yaml'), composeFile(size));
      for (const peer of peers) {
        const ups: number[] = [];
        const downs: number[] = [];
        for (let run = 0; run < runs; run++) {
          const project = `benchup${size}x${run}`;
          ups.push(peer.up(dir, project));
          if (peer === berth && size === Math.max(...sizes)) rss = berth.supervisorRss(project) ?? rss;
          downs.push(peer.down(dir, project));
        }
        rows.push({ tool: peer.name, services: size, upMs: median(ups), downMs: median(downs) });
        process.stderr.write(`${peer.name} ${size} services: up -d ${median(ups).toFixed(0)} ms, down ${median(downs).toFixed(0)} ms\n`);
      }
    }
  } finally {
    for (const peer of peers) await peer.close();
    rmSync(work, { recursive: true, force: true });
  }

  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ runs, rows, supervisorRssBytes: rss })}\n`);
    return;
  }
  const lines = ['| tool | services | up -d (median) | down (median) | up ratio peer/berth | down ratio peer/berth |', '| --- | --- | --- | --- | --- | --- |'];
  for (const row of rows) {
    const base = rows.find((r) => r.tool === 'berth' && r.services === row.services)!;
    lines.push(`| ${row.tool} | ${row.services} | ${row.upMs.toFixed(0)} ms | ${row.downMs.toFixed(0)} ms | ${(row.upMs / base.upMs).toFixed(2)} | ${(row.downMs / base.downMs).toFixed(2)} |`);
  }
  lines.push('', `runs per cell: ${runs}; supervisor resident memory during the largest stack: ${rss === undefined ? 'not measured' : `${(rss / 1048576).toFixed(1)} MiB`}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
