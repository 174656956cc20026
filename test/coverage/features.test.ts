/**
 * Service features through `berth up -d` with real containers, one stack for many checks: each
 * service's main process reports what it sees (`key=value` lines read back with `berth logs`),
 * then `berth stop` checks stop signals and grace periods. The reference is Docker Compose v2:
 * command/entrypoint and image defaults, environment over the image's, working_dir, user,
 * hostname, labels, tty/stdin_open, init, stop_signal (service and image), stop_grace_period
 * (service and the 10 s default), restart count in `ps`, healthchecks (image HEALTHCHECK, NONE,
 * disable, timeout), named volumes with and without nocopy, bind mounts with create_host_path,
 * tmpfs, read_only, configs and secrets from files, environment and content, cgroup limits
 * (mem_limit, mem_reservation, cpus, cpu_shares, cpuset, pids_limit, deploy.resources),
 * ulimits, shm_size, cap_add/cap_drop, privileged, no-new-privileges, sysctls and devices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cannotRunContainers } from '../runtime/runtimes.js';
import { runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const skip = cannotRunContainers();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a cgroup file under v2 or (as on cgroup v1 hosts) its v1 controller directory. */
const cg = (v2: string, v1: string) => `$(cat /sys/fs/cgroup/${v2} 2>/dev/null || cat /sys/fs/cgroup/${v1} 2>/dev/null || echo none)`;
const cgroupProbe = [
  `echo "mem=${cg('memory.max', 'memory/memory.limit_in_bytes')}"`,
  `echo "memlow=${cg('memory.low', 'memory/memory.soft_limit_in_bytes')}"`,
  `if [ -f /sys/fs/cgroup/cpu.max ]; then echo "cpu=$(cat /sys/fs/cgroup/cpu.max)"; else echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi`,
  `if [ -f /sys/fs/cgroup/cpu.weight ]; then echo "shares=weight:$(cat /sys/fs/cgroup/cpu.weight)"; else echo "shares=shares:$(cat /sys/fs/cgroup/cpu/cpu.shares)"; fi`,
  `echo "cpuset=${cg('cpuset.cpus', 'cpuset/cpuset.cpus')}"`,
  `echo "pids=${cg('pids.max', 'pids/pids.max')}"`,
];
const status = (field: string) => `$(grep ${field} /proc/self/status | cut -f2)`;

/** The all-in-one service: entrypoint + command, runs as 1000:50 with init, a read-only root and the rest. */
const probeScript = [
  'echo "pid=$$"',
  'echo "args=$0|$1"',
  'echo "env=$SHARED,$OWN,$FROM_IMAGE"',
  'echo "cwd=$(pwd)"',
  'echo "id=$(id -u):$(id -g)"',
  'echo "host=$(hostname)"',
  ...cgroupProbe,
  `echo "capbnd=${status('CapBnd')}"`,
  `echo "nnp=${status('NoNewPrivs')}"`,
  'echo "nofile=$(ulimit -Sn):$(ulimit -Hn)"',
  'echo "shm=$(df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2)"',
  'echo "somaxconn=$(cat /proc/sys/net/core/somaxconn)"',
  'echo "device=$(test -c /dev/covzero && head -c 3 /dev/covzero | od -An -tx1 | tr -d " ")"',
  'echo "fsecret=$(cat /run/secrets/fsecret)"',
  'echo "esecret=$(cat /run/secrets/esecret)"',
  'echo "fconfig=$(cat /conf/file)"',
  'echo "cconfig=$(cat /conf/content)"',
  'echo "cmode=$(stat -c %a:%u /conf/content)"',
  'echo "home=$(ls /home)"',
  'echo "made=$(test -d /made && echo dir)"',
  'echo "auto=$(test -d /auto && echo dir)"',
  'if touch /rootfs-write 2>/dev/null; then echo root=rw; else echo root=ro; fi',
  'echo "scratch=$(grep " /scratch " /proc/mounts | cut -d" " -f3)"',
  'touch /scratch/x && echo scratchw=ok',
  "trap 'echo got USR1; exit 0' USR1",
  'echo probe ready',
  'while true; do sleep 0.1; done',
];

/** deploy.resources, privileged and a nocopy volume; ignores SIGTERM (stop_grace_period 1s). */
const deployScript = [
  ...cgroupProbe,
  `echo "capeff=${status('CapEff')}"`,
  'echo "home=$(ls -A /home | wc -l)"',
  "trap 'echo ignoring TERM' TERM",
  'echo deploy ready',
  'while true; do sleep 0.1; done',
];

/** tty + stdin_open, no init; takes 2 s to stop on SIGTERM (inside the default 10 s grace period). */
const termScript = [
  'echo "pid=$$"',
  'if [ -t 0 ]; then echo stdin=tty; else echo stdin=none; fi',
  'if [ -t 1 ]; then echo stdout=tty; else echo stdout=none; fi',
  "trap 'sleep 2; echo term done; exit 0' TERM",
  'echo term ready',
  'while true; do sleep 0.1; done',
];

const yamlScript = (lines: string[]) => JSON.stringify(lines.join('; ').replaceAll('$', '$$$$'));

function compose(project: string): string {
  return `name: ${project}
services:
  probe:
    image: ${testImage}
    entrypoint: ["sh", "-c"]
    command: [${yamlScript(probeScript)}]
    environment: { SHARED: service, OWN: own }
    working_dir: /work
    user: "1000:50"
    hostname: probe-host
    labels: { com.example.role: probe }
    init: true
    stop_signal: SIGUSR1
    healthcheck: { disable: true }
    mem_limit: 64m
    mem_reservation: 32m
    cpus: 0.5
    cpu_shares: 512
    cpuset: "0"
    pids_limit: 64
    ulimits: { nofile: { soft: 256, hard: 512 } }
    shm_size: 4m
    cap_add: [NET_ADMIN]
    cap_drop: [CHOWN]
    security_opt: ["no-new-privileges:true"]
    sysctls: { net.core.somaxconn: 1000 }
    devices: ["/dev/zero:/dev/covzero"]
    read_only: true
    tmpfs: [/scratch]
    volumes:
      - pop:/home
      - type: bind
        source: ./made
        target: /made
        bind: { create_host_path: true }
      - ./auto:/auto
    secrets: [fsecret, esecret]
    configs:
      - { source: fconf, target: /conf/file }
      - { source: cconf, target: /conf/content, mode: 0440, uid: "1000" }
  deploy:
    image: ${testImage}
    command: ["sh", "-c", ${yamlScript(deployScript)}]
    privileged: true
    stop_signal: SIGTERM
    stop_grace_period: 1s
    healthcheck: { test: ["NONE"] }
    volumes: ["bare:/home:nocopy"]
    deploy:
      resources:
        limits: { cpus: "0.25", memory: 40M, pids: 50 }
        reservations: { memory: 20M }
  term:
    image: ${testImage}
    command: ["sh", "-c", ${yamlScript(termScript)}]
    tty: true
    stdin_open: true
    stop_signal: SIGTERM
    healthcheck: { disable: true }
  imgdef:
    image: ${testImage}
    environment: { OWN: own }
  timeouty:
    image: ${testImage}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "sleep", "5"]
      interval: 300ms
      timeout: 200ms
      retries: 1
  flaky:
    image: ${testImage}
    command: ["sh", "-c", "echo flaky run; exit 4"]
    restart: on-failure:1
    healthcheck: { disable: true }
volumes:
  pop: {}
  bare: {}
secrets:
  fsecret: { file: ./secret.txt }
  esecret: { environment: COV_TOKEN }
configs:
  fconf: { file: ./conf.txt }
  cconf: { content: "content config" }
`;
}

interface PsEntry { Name: string; Service: string; State: string; Status: string; Health: string; ExitCode: number; Labels: string; RestartCount: number }

test('service features seen from inside real containers', { skip, timeout: 120_000 }, async (t) => {
  const root = await makeStackRoot({
    prefix: 'berth-cov-feat-',
    changes: [
      'ENV FROM_IMAGE=image SHARED=image',
      'WORKDIR /imgwd',
      `CMD ["sh", "-c", "echo cmd-from-image cwd=$(pwd) env=$SHARED,$FROM_IMAGE,$OWN; trap 'echo got USR2; exit 0' USR2; while true; do sleep 0.1; done"]`,
      'STOPSIGNAL SIGUSR2',
      'HEALTHCHECK --interval=300ms --retries=2 CMD ["true"]',
    ],
  });
  const project = `covfeat${process.pid}`;
  const dir = root.project(project, compose(project));
  writeFileSync(path.join(dir, 'secret.txt'), 'file secret');
  writeFileSync(path.join(dir, 'conf.txt'), 'file config');
  const env = { ...root.env, COV_TOKEN: 'env-secret' };
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env });
  const ps = (): Record<string, PsEntry> => Object.fromEntries(berth('ps', '-a', '--format', 'json').stdout.trim().split('\n').filter(Boolean)
    .map((line) => JSON.parse(line) as PsEntry).map((e) => [e.Service, e]));
  const logs = (service: string) => berth('logs', '--no-log-prefix', service).stdout.replace(/\r/g, '');
  const seen = (service: string) => Object.fromEntries(logs(service).split('\n').filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const until = async (what: string, probe: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(150);
    }
  };
  t.after(() => {
    berth('down', '-v', '-t', '0');
    root.remove();
  });

  const up = berth('up', '-d');
  assert.equal(up.status, 0, up.stderr);
  await until('every service reported', () => ['probe ready', 'deploy ready', 'term ready', 'cmd-from-image'].every((text) => berth('logs').stdout.includes(text)));

  await t.test('probe: entrypoint+command, environment, working_dir, user, hostname, init, limits, security, mounts, secrets', () => {
    const p = seen('probe');
    assert.notEqual(p.pid, '1', 'init: true puts an init at PID 1, the command is its child');
    assert.equal(p.args, 'sh|', 'entrypoint ["sh","-c"] with command [script]: sh -c script');
    assert.equal(p.env, 'service,own,image', 'service environment over the image Env');
    assert.equal(p.cwd, '/work', 'working_dir created and used');
    assert.equal(p.id, '1000:50');
    assert.equal(p.host, 'probe-host');
    assert.equal(Number(p.mem), 64 * 1024 * 1024, 'mem_limit');
    assert.equal(Number(p.memlow), 32 * 1024 * 1024, 'mem_reservation');
    assert.equal(p.cpu, '50000 100000', 'cpus: 0.5');
    // cpu_shares 512: cgroup v1 cpu.shares, or v2 cpu.weight by the usual conversion 1 + (s-2)*9999/262142.
    assert.ok(p.shares === 'shares:512' || p.shares === 'weight:20', `cpu_shares: ${p.shares}`);
    assert.equal(p.cpuset, '0', 'cpuset');
    assert.equal(p.pids, '64', 'pids_limit');
    const caps = BigInt(`0x${p.capbnd}`);
    assert.equal(caps & 1n, 0n, 'cap_drop CHOWN');
    assert.equal((caps >> 12n) & 1n, 1n, 'cap_add NET_ADMIN');
    assert.equal(p.nnp, '1', 'security_opt no-new-privileges');
    assert.equal(p.nofile, '256:512', 'ulimits');
    assert.equal(p.shm, '4096', 'shm_size 4m');
    assert.equal(p.somaxconn, '1000', 'sysctls');
    assert.equal(p.device, '000000', 'devices: /dev/zero mapped to /dev/covzero');
    assert.equal(p.fsecret, 'file secret');
    assert.equal(p.esecret, 'env-secret');
    assert.equal(p.fconfig, 'file config');
    assert.equal(p.cconfig, 'content config');
    assert.equal(p.cmode, '440:1000', 'config mode and uid');
    assert.equal(p.home, 'app', 'named volume populated from the image at first use');
    assert.equal(p.made, 'dir');
    assert.equal(p.auto, 'dir');
    assert.ok(statSync(path.join(dir, 'made')).isDirectory(), 'create_host_path made the host directory');
    assert.ok(statSync(path.join(dir, 'auto')).isDirectory(), 'short-syntax bind source created');
    assert.equal(p.root, 'ro', 'read_only');
    assert.equal(p.scratch, 'tmpfs');
    assert.equal(p.scratchw, 'ok');
    const volume = JSON.parse(readFileSync(path.join(root.root, 'volumes', `${project}_pop`, 'volume.json'), 'utf8')) as { labels: Record<string, string> };
    assert.equal(volume.labels['com.docker.compose.project'], project, 'named volume labelled with its project');
    assert.equal(volume.labels['com.docker.compose.volume'], 'pop');
  });

  await t.test('labels: service labels and Compose labels on the container', () => {
    const labels = ps().probe.Labels.split(',');
    assert.ok(labels.includes('com.example.role=probe'), labels.join(','));
    assert.ok(labels.includes(`com.docker.compose.project=${project}`));
    assert.ok(labels.includes('com.docker.compose.service=probe'));
    assert.ok(labels.includes('com.docker.compose.container-number=1'));
  });

  await t.test('deploy.resources limits and reservations, privileged, nocopy', () => {
    const d = seen('deploy');
    assert.equal(Number(d.mem), 40 * 1024 * 1024, 'deploy.resources.limits.memory');
    assert.equal(Number(d.memlow), 20 * 1024 * 1024, 'deploy.resources.reservations.memory');
    assert.equal(d.cpu, '25000 100000', 'deploy.resources.limits.cpus');
    assert.equal(d.pids, '50', 'deploy.resources.limits.pids');
    assert.equal((BigInt(`0x${d.capeff}`) >> 21n) & 1n, 1n, 'privileged: CAP_SYS_ADMIN effective');
    assert.equal(d.home, '0', 'nocopy: the volume stays empty');
  });

  await t.test('tty and stdin_open; no init: the command is PID 1', () => {
    const s = seen('term');
    assert.equal(s.stdin, 'tty');
    assert.equal(s.stdout, 'tty');
    assert.equal(s.pid, '1');
  });

  await t.test('image defaults: CMD, WORKDIR, Env merged, HEALTHCHECK; NONE and disable turn it off', async () => {
    assert.match(logs('imgdef'), /^cmd-from-image cwd=\/imgwd env=image,image,own$/m);
    await until('imgdef healthy from the image HEALTHCHECK', () => ps().imgdef.Health === 'healthy');
    assert.match(ps().imgdef.Status, /^Up .* \(healthy\)$/);
    const all = ps();
    for (const service of ['probe', 'deploy', 'term']) assert.equal(all[service].Health, '', `${service} has no healthcheck`);
    assert.doesNotMatch(all.term.Status, /health/);
  });

  await t.test('healthcheck timeout makes the container unhealthy', async () => {
    await until('timeouty unhealthy', () => ps().timeouty.Health === 'unhealthy');
    assert.match(ps().timeouty.Status, /\(unhealthy\)$/);
    const run = JSON.parse(readFileSync(path.join(root.root, 'projects', project, 'containers', `${project}-timeouty-1`, 'run.json'), 'utf8')) as { health: { log: Array<{ exitCode: number; output: string }> } };
    assert.match(run.health.log.at(-1)!.output, /exceeded timeout/);
  });

  await t.test('restart on-failure:1: restarted once, the count shows in ps', async () => {
    await until('flaky restarted once and exited', () => {
      const f = ps().flaky;
      return f.RestartCount === 1 && f.State === 'exited';
    });
    const f = ps().flaky;
    assert.equal(f.ExitCode, 4);
    assert.equal(logs('flaky').split('\n').filter((l) => l === 'flaky run').length, 2);
  });

  await t.test('stop: stop_signal, the image STOPSIGNAL, stop_grace_period and the 10 s default', () => {
    const started = Date.now();
    const stop = berth('stop', 'probe', 'imgdef', 'deploy', 'term');
    const took = Date.now() - started;
    t.diagnostic(`stop took ${took} ms`);
    assert.equal(stop.status, 0, stop.stderr);
    const all = ps();
    assert.match(logs('probe'), /^got USR1$/m, 'stop_signal SIGUSR1 reached the command through init');
    assert.equal(all.probe.ExitCode, 0);
    assert.match(logs('imgdef'), /^got USR2$/m, 'the image STOPSIGNAL is used');
    assert.equal(all.imgdef.ExitCode, 0);
    assert.match(logs('deploy'), /^ignoring TERM$/m);
    assert.equal(all.deploy.ExitCode, 137, 'killed once stop_grace_period (1s) ran out');
    assert.match(logs('term'), /^term done$/m, 'the default grace period (10 s) outlasts a 2 s shutdown');
    assert.equal(all.term.ExitCode, 0);
    assert.ok(took < 9_000, `stop waited ${took} ms: deploy's 1 s grace period, not the 10 s default, applied`);
    assert.ok(existsSync(path.join(root.root, 'volumes', `${project}_bare`)));
  });
});
