/**
 * Published-port performance: request latency and TCP throughput through a berth published port
 * (127.0.0.1 and the host's address on the project's bridge) versus straight to the container's
 * address, and versus dockerd's published port when Debian's docker.io is installed. Ratios are
 * printed; the target is >= 80% of direct throughput.
 *
 *   node dist/bench/net/run.js [--mb 512] [--rounds 5] [--pings 2000] [--mtu 1500] [--peers docker|none] [--json]
 *
 * Paths are measured round-robin (medians), so load from elsewhere on the machine hits every
 * path alike. Docker's bridges use MTU 1500, berth's default follows the uplink (1400 on some
 * hosts), so the berth network is pinned to --mtu (default 1500) for a like-for-like run.
 * The same server (this file with --serve, run by the host's node inside the container's network
 * namespace) answers every path, so only the path differs. Traffic goes only to 127.0.0.1 and to
 * addresses of the bridges this benchmark made. dockerd, when used, runs with a private data root
 * and socket and --iptables=false (its published ports then go through docker-proxy, the path
 * Docker uses for 127.0.0.1 anyway); it is stopped at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeStackRoot } from '../../test/helpers/stack.js';
import { listNetworks } from '../../src/network/index.js';
import { which } from '../common.js';

const here = fileURLToPath(import.meta.url);
const berthEntry = path.resolve(path.dirname(here), '../../test/helpers/berth-entry.js');
const serverPort = 5000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The server: 'T' + stream -> replies total bytes at end; 'L' -> echoes 64-byte messages. */
function serve(): void {
  net.createServer((socket) => {
    socket.setNoDelay(true);
    let mode: string | undefined;
    let total = 0;
    socket.on('data', (chunk) => {
      if (!mode) { mode = String.fromCharCode(chunk[0]); chunk = chunk.subarray(1); }
      if (mode === 'T') total += chunk.length;
      else socket.write(chunk);
    });
    socket.on('end', () => { if (mode === 'T') socket.end(String(total)); else socket.end(); });
    socket.on('error', () => undefined);
  }).listen(serverPort, '0.0.0.0', () => process.stdout.write('ready\n'));
}

async function throughput(host: string, port: number, mb: number): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 7);
  const total = mb * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      const start = process.hrtime.bigint();
      socket.write('T');
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) { socket.once('drain', pump); return; }
        }
        socket.end();
      };
      let reply = '';
      socket.on('data', (d) => { reply += d.toString(); });
      socket.on('end', () => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        if (Number(reply) !== total) reject(new Error(`server got ${reply} of ${total} bytes`));
        else resolve((total * 8) / seconds / 1e9);
      });
      pump();
    });
    socket.on('error', reject);
  });
}

async function latency(host: string, port: number, count: number): Promise<{ p50: number; p99: number }> {
  const msg = Buffer.alloc(64, 1);
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    const socket = net.connect({ host, port }, () => {
      socket.setNoDelay(true);
      socket.write('L');
      let t0 = process.hrtime.bigint();
      let got = 0;
      socket.on('data', (d) => {
        got += d.length;
        if (got < msg.length) return;
        got -= msg.length;
        samples.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (samples.length >= count) { socket.end(); return; }
        t0 = process.hrtime.bigint();
        socket.write(msg);
      });
      socket.write(msg);
    });
    socket.on('close', () => {
      const s = samples.slice(Math.min(50, Math.floor(samples.length / 10))).sort((a, b) => a - b);
      resolve({ p50: s[Math.floor(s.length * 0.5)], p99: s[Math.floor(s.length * 0.99)] });
    });
    socket.on('error', reject);
  });
}

/** Also a new TCP connection per request: the connect + request + close cost. */
async function connectLatency(host: string, port: number, count: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host, port }, () => { s.write('L'); s.write(Buffer.alloc(64)); });
      s.on('data', () => { s.destroy(); resolve(); });
      s.on('error', reject);
    });
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function startServer(nsArgs: string[]): Promise<ChildProcess> {
  const child = spawn(nsArgs[0], [...nsArgs.slice(1), process.execPath, here, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

interface PathResult { path: string; gbps: number; p50us: number; p99us: number; connectUs: number }
interface Target { path: string; host: string; port: number }

/** Measures every target round-robin (so load from elsewhere hits all paths alike); medians. */
async function measureAll(targets: Target[], mb: number, rounds: number, pings: number): Promise<PathResult[]> {
  const speeds = new Map<string, number[]>(targets.map((t) => [t.path, []]));
  for (const t of targets) await throughput(t.host, t.port, Math.min(64, mb)); // warm up
  for (let i = 0; i < rounds; i++) for (const t of targets) speeds.get(t.path)!.push(await throughput(t.host, t.port, mb));
  const results: PathResult[] = [];
  for (const t of targets) {
    const lat = await latency(t.host, t.port, pings);
    const connectUs = await connectLatency(t.host, t.port, Math.min(300, pings));
    const sorted = speeds.get(t.path)!.sort((a, b) => a - b);
    results.push({ path: t.path, gbps: sorted[Math.floor(sorted.length / 2)], p50us: lat.p50, p99us: lat.p99, connectUs });
  }
  return results;
}


async function dockerTargets(work: string, tarball: string | undefined, cleanups: Array<() => void>): Promise<Target[]> {
  const dockerd = which('dockerd');
  const docker = which('docker');
  if (!dockerd || !docker || !tarball) { process.stderr.write('docker peer skipped: docker.io is not installed\n'); return []; }
  const dataRoot = path.join(work, 'docker');
  mkdirSync(dataRoot, { recursive: true });
  const socket = path.join(dataRoot, 'docker.sock');
  const daemon = spawn(dockerd, ['--data-root', path.join(dataRoot, 'data'), '--exec-root', path.join(dataRoot, 'exec'), '--pidfile', path.join(dataRoot, 'docker.pid'),
    '-H', `unix://${socket}`, '--iptables=false', '--ip-masq=false', '--bridge=none'], { stdio: 'ignore' });
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const d = (args: string[]) => spawnSync(docker, args, { env, encoding: 'utf8' });
  let server: ChildProcess | undefined;
  cleanups.push(() => {
    server?.kill('SIGKILL');
    d(['rm', '-f', 'berthbench']);
    d(['network', 'rm', 'berthbench']);
    daemon.kill('SIGTERM');
    spawnSync('sh', ['-c', `for i in $(seq 50); do kill -0 ${daemon.pid} 2>/dev/null || exit 0; sleep 0.2; done`]);
    spawnSync('umount', ['-R', '-l', path.join(dataRoot, 'data')], { stdio: 'ignore' });
  });
  try {
    const deadline = Date.now() + 30_000;
    while (d(['version']).status !== 0) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error('dockerd did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    d(['import', '--change', 'CMD ["sleep","3600"]', tarball, 'bench/busybox:latest']);
    const created = d(['network', 'create', '--subnet', '10.212.77.0/24', 'berthbench']);
    if (created.status !== 0) throw new Error(created.stderr);
    const run = d(['run', '-d', '--name', 'berthbench', '--network', 'berthbench', '-p', `127.0.0.1::${serverPort}`, 'bench/busybox:latest']);
    if (run.status !== 0) throw new Error(run.stderr);
    const pid = d(['inspect', '-f', '{{.State.Pid}}', 'berthbench']).stdout.trim();
    const ip = d(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'berthbench']).stdout.trim();
    const hostPort = Number(d(['port', 'berthbench', String(serverPort)]).stdout.trim().split(':').pop());
    server = await startServer(['nsenter', '-t', pid, '-n']);
    return [
      { path: 'docker: direct to container', host: ip, port: serverPort },
      { path: 'docker: published 127.0.0.1 (docker-proxy)', host: '127.0.0.1', port: hostPort },
    ];
  } catch (err) {
    process.stderr.write(`docker peer skipped: ${(err as Error).message}\n`);
    return [];
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve')) { serve(); return; }
  const mb = Number(arg('mb') ?? 512);
  const rounds = Number(arg('rounds') ?? 5);
  const pings = Number(arg('pings') ?? 2000);
  const peers = arg('peers') ?? 'docker';
  const root = await makeStackRoot({ prefix: 'berth-bench-net-', changes: ['CMD ["sleep","3600"]'] });
  const project = `benchnet${process.pid}`;
  // Docker's bridges use MTU 1500; berth's default follows the uplink, so both are pinned to --mtu.
  const mtu = arg('mtu') ?? '1500';
  const dir = root.project(project, `services:\n  sink:\n    image: berth-test/busybox:latest\n    ports: ["127.0.0.1::${serverPort}", "${serverPort}"]\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.driver.mtu: "${mtu}"\n`);
  const env = { ...root.env, BERTH_DNS_UPSTREAM: '' };
  const berth = (args: string[]) => spawnSync(process.execPath, [berthEntry, '-p', project, ...args], { cwd: dir, env, encoding: 'utf8' });
  let results: PathResult[] = [];
  let server: ChildProcess | undefined;
  const cleanups: Array<() => void> = [];
  try {
    const up = berth(['up', '-d']);
    if (up.status !== 0) throw new Error(`berth up failed: ${up.stderr}`);
    const record = JSON.parse(readFileSync(path.join(root.root, 'projects', project, 'containers', `${project}-sink-1`, 'record.json'), 'utf8'));
    const ip: string = record.network.addresses[0].ipv4;
    const local = record.network.ports.find((p: { hostIp: string }) => p.hostIp === '127.0.0.1').hostPort;
    const any = record.network.ports.find((p: { hostIp: string }) => p.hostIp === '0.0.0.0').hostPort;
    const gateway = listNetworks(root.root).find((n) => n.project === project)!.gateway;
    server = await startServer(['nsenter', `--net=${record.network.netnsPath}`]);
    const targets: Target[] = [
      { path: 'berth: direct to container', host: ip, port: serverPort },
      { path: 'berth: published 127.0.0.1 (NAT)', host: '127.0.0.1', port: local },
      { path: 'berth: published host address on bridge (NAT)', host: gateway, port: any },
    ];
    if (peers === 'docker') {
      const tarball = path.join(root.root, 'busybox.tar');
      const { makeBusyboxRootfs, removeRootfs } = await import('../../test/helpers/busybox-rootfs.js');
      const source = makeBusyboxRootfs();
      spawnSync('tar', ['-C', source, '-cf', tarball, '.']);
      removeRootfs(source);
      targets.push(...await dockerTargets(root.root, tarball, cleanups));
    }
    results = await measureAll(targets, mb, rounds, pings);
  } finally {
    for (const cleanup of cleanups) cleanup();
    server?.kill('SIGKILL');
    berth(['down', '-t', '1']);
    rmSync(root.root, { recursive: true, force: true });
  }
  if (process.argv.includes('--json')) { process.stdout.write(JSON.stringify(results, null, 2) + '\n'); return; }
  const direct = results.find((r) => r.path === 'berth: direct to container')!;
  const lines = [`${'path'.padEnd(48)} ${'Gbit/s'.padStart(8)} ${'vs direct'.padStart(9)} ${'rtt p50 us'.padStart(10)} ${'p99 us'.padStart(8)} ${'connect us'.padStart(10)}`];
  for (const r of results) {
    const base = r.path.startsWith('docker') ? results.find((x) => x.path === 'docker: direct to container') ?? direct : direct;
    lines.push(`${r.path.padEnd(48)} ${r.gbps.toFixed(2).padStart(8)} ${`${((r.gbps / base.gbps) * 100).toFixed(0)}%`.padStart(9)} ${r.p50us.toFixed(0).padStart(10)} ${r.p99us.toFixed(0).padStart(8)} ${r.connectUs.toFixed(0).padStart(10)}`);
  }
  const ours = results.find((r) => r.path.startsWith('berth: published 127'))!;
  const peer = results.find((r) => r.path.startsWith('docker: published'));
  if (peer) lines.push(`berth published / docker published throughput: ${(ours.gbps / peer.gbps).toFixed(2)}x; rtt p50 ${(peer.p50us / ours.p50us).toFixed(2)}x faster`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
