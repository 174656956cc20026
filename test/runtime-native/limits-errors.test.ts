/**
 * cgroup limits seen from inside (OOM kill, pids limit), hooks, terminals, and failures: the
 * exact error text and nothing left behind (mounts, cgroup, state dir).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, chmodSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeBusyboxRootfs, removeRootfs, haveBusybox } from '../helpers/busybox-rootfs.js';
import { Sandbox, defaultConfig, runtimeBin } from './bundle.js';

let rootfs = '';
const box = new Sandbox();
const canRun = process.getuid?.() === 0 && haveBusybox() && existsSync(runtimeBin);
const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

before(() => { if (canRun) { rootfs = makeBusyboxRootfs(); chmodSync(rootfs, 0o755); } });
after(() => { box.cleanup(); if (rootfs) removeRootfs(rootfs); });

/** Where a container's cgroup would be on this host (memory controller on v1). */
function cgroupDir(id: string): string {
  return cgroupV2 ? `/sys/fs/cgroup/${id}` : `/sys/fs/cgroup/memory/${id}`; // default cgroupsPath: /<id>, as runc
}

test('a memory hog over the limit is OOM-killed: exit 137', (t) => {
  if (!canRun) return t.skip('needs root, busybox-static and runtime/build/berth-runtime');
  const cfg = defaultConfig(rootfs, ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=96M count=1']);
  cfg.linux.resources.memory = { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 };
  const r = box.run(cfg);
  assert.equal(r.code, 137, r.stderr);
  assert.equal(existsSync(cgroupDir(r.id)), false, 'cgroup removed after run');
});

test('the pids limit stops a fork loop', (t) => {
  if (!canRun) return t.skip('needs root');
  // the loop runs in a subshell, which dies at the first failed fork; then only builtins
  const script = '(for i in $(seq 1 30); do sleep 3 & done); f=/sys/fs/cgroup/pids/pids.current; [ -e $f ] || f=/sys/fs/cgroup/pids.current; read n < $f; echo $n';
  const cfg = defaultConfig(rootfs, ['sh', '-c', script]);
  cfg.linux.resources.pids = { limit: 10 };
  const r = box.run(cfg);
  const tasks = Number(r.stdout.trim());
  assert.ok(tasks >= 5 && tasks <= 10, `pids.current ${tasks} within the limit of 10`);
  assert.match(r.stderr, /can't fork/);
});

test('hooks get the state on stdin: prestart, createRuntime, poststart, poststop', (t) => {
  if (!canRun) return t.skip('needs root');
  const out = (name: string) => path.join(box.dir, `${name}.json`);
  const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out(name)}`], timeout: 5 });
  const cfg = defaultConfig(rootfs, ['true']);
  cfg.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
  const r = box.run(cfg);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ['prestart', 'createRuntime', 'poststart', 'poststop']) {
    const state = JSON.parse(readFileSync(out(name), 'utf8')) as { id: string; pid: number; status: string; bundle: string };
    assert.equal(state.id, r.id, name);
    assert.ok(state.pid > 0, `${name} sees the pid`);
  }
  assert.equal((JSON.parse(readFileSync(out('poststop'), 'utf8')) as { status: string }).status, 'stopped');
});

test('a failing hook fails the create with its name and leaves nothing', (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig(rootfs, ['true']);
  cfg.hooks = { prestart: [{ path: '/bin/false' }] };
  const r = box.run(cfg);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^berth-runtime: create container "c-[\d-]+": prestart hook "\/bin\/false" exited with status 1\n$/);
  assert.equal(existsSync(path.join(box.root, r.id)), false);
});

test('terminal: an attached run relays the pty', (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig(rootfs, ['sh', '-c', 'tty; test -t 0 && test -t 1 && echo both-tty']);
  cfg.process.terminal = true;
  const r = box.run(cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/dev\/pts\/0\r?\nboth-tty\r?\n$/);
});

test('missing rootfs: exact message, JSON error line, nothing left behind', (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig(path.join(box.dir, 'no-such-rootfs'), ['true']);
  const id = box.id('err');
  const logFile = path.join(box.dir, 'error.log');
  const r = box.rt(['--log', logFile, '--log-format', 'json', 'run', '--bundle', box.bundle(cfg), id]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `berth-runtime: create container "${id}": rootfs "${box.dir}/no-such-rootfs": No such file or directory\n`);
  const line = JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop() ?? '') as { message: string; errno: number };
  assert.equal(line.message, `create container "${id}": rootfs "${box.dir}/no-such-rootfs": No such file or directory`);
  assert.equal(line.errno, 2);
  assert.equal(existsSync(path.join(box.root, id)), false);
});

test('a bad bind mount fails with the mount named and leaves no mount, cgroup, process or state', (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig(rootfs, ['true']);
  cfg.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent/berth-data', options: ['rbind'] });
  const id = box.id('err');
  const r = box.rt(['create', '--bundle', box.bundle(cfg), id]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `berth-runtime: create container "${id}": set up mounts: mount "/data": bind source "/nonexistent/berth-data": No such file or directory\n`);
  assert.equal(existsSync(path.join(box.root, id)), false, 'no state dir');
  assert.equal(existsSync(cgroupDir(id)), false, 'no cgroup');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(rootfs), 'no mount on the host');
  const leftovers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id); } catch { return false; }
  });
  assert.deepEqual(leftovers, [], 'no process left');
});

test('a second container with the same id is refused', (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig(rootfs, ['sleep', '10']);
  cfg.annotations['run.berth.log.path'] = path.join(box.dir, 'dup.log');
  const id = box.id('dup');
  const bundle = box.bundle(cfg);
  assert.equal(box.rt(['create', '--bundle', bundle, id]).status, 0);
  const again = box.rt(['create', '--bundle', bundle, id]);
  assert.equal(again.stderr, `berth-runtime: container "${id}" already exists\n`);
  assert.equal(box.state(id).status, 'created', 'the first one is untouched');
  assert.equal(box.rt(['delete', id]).status, 0, 'a created container can be deleted');
});

test('cgroup v2 code paths on the unified hierarchy: device program, freeze, cleanup', async (t) => {
  if (!canRun) return t.skip('needs root');
  // On a pure v2 host every other test already runs on v2; on a hybrid host drive the v2 code
  // through the unified mount (BERTH_CGROUP_ROOT), where no resource controller is enabled.
  const unified = cgroupV2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
  if (!existsSync(path.join(unified, 'cgroup.controllers'))) return t.skip('no cgroup2 hierarchy mounted');
  const id = box.id('v2');
  const cfg = defaultConfig(rootfs, ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/v2count; sleep 0.02; done']);
  cfg.annotations['run.berth.log.path'] = path.join(box.dir, 'v2.log');
  cfg.linux.cgroupsPath = `/berth-test-v2/${id}`;
  cfg.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 9, access: 'r' }] };
  const saved = process.env.BERTH_CGROUP_ROOT;
  process.env.BERTH_CGROUP_ROOT = unified;
  try {
    const started = box.rt(['run', '-d', '--bundle', box.bundle(cfg), id]);
    assert.equal(started.status, 0, started.stderr);
  } finally {
    if (saved === undefined) delete process.env.BERTH_CGROUP_ROOT; else process.env.BERTH_CGROUP_ROOT = saved;
  }
  const dir = path.join(unified, 'berth-test-v2', id);
  try {
    assert.ok(readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').includes(String(box.state(id).pid)));
    // The standard /dev nodes stay usable (runc appends the same default allow rules); a
    // device outside the rules cannot be made even with CAP_MKNOD.
    const r = box.rt(['exec', id, 'sh', '-c', 'echo x > /dev/null && echo null-ok; head -c1 /dev/zero | wc -c; mknod /tmp/kmsg c 1 11 2>/dev/null || echo mknod-denied']);
    assert.equal(r.stdout, 'null-ok\n1\nmknod-denied\n', r.stderr);
    assert.equal(box.rt(['pause', id]).status, 0);
    assert.equal(box.state(id).status, 'paused');
    assert.match(readFileSync(path.join(dir, 'cgroup.events'), 'utf8'), /frozen 1/);
    assert.equal(box.rt(['resume', id]).status, 0);
    assert.equal(box.state(id).status, 'running');
    assert.equal(box.rt(['delete', '--force', id]).status, 0);
    assert.equal(existsSync(dir), false, 'cgroup removed');
  } finally {
    box.rt(['delete', '--force', id]);
    try { rmdirSync(path.join(unified, 'berth-test-v2')); } catch { /* another test's container may still use it */ }
  }
});

test('resources land in the cgroup files: cpu, cpuset, memory, pids, blkio', (t) => {
  if (!canRun) return t.skip('needs root');
  if (cgroupV2) return t.skip('checks the v1 file names; v2 is covered by the test above and R2\'s driver tests');
  const id = box.id('res');
  const cfg = defaultConfig(rootfs, ['sleep', '20']);
  cfg.annotations['run.berth.log.path'] = path.join(box.dir, 'res.log');
  cfg.linux.resources.cpu = { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' };
  cfg.linux.resources.memory = { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 };
  cfg.linux.resources.pids = { limit: 77 };
  cfg.linux.resources.blockIO = { weight: 300 };
  assert.equal(box.rt(['create', '--bundle', box.bundle(cfg), id]).status, 0);
  const read = (ctrl: string, file: string) => readFileSync(`/sys/fs/cgroup/${ctrl}/${id}/${file}`, 'utf8').trim();
  try {
    assert.equal(read('cpu', 'cpu.shares'), '512');
    assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(read('cpu', 'cpu.cfs_period_us'), '100000');
    assert.equal(read('cpuset', 'cpuset.cpus'), '0');
    assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(read('memory', 'memory.soft_limit_in_bytes'), String(32 * 1024 * 1024));
    assert.equal(read('pids', 'pids.max'), '77');
    const pid = String(box.state(id).pid);
    for (const ctrl of ['cpu', 'cpuset', 'memory', 'pids', 'devices', 'freezer']) {
      assert.ok(read(ctrl, 'cgroup.procs').split('\n').includes(pid), `init joined ${ctrl}`);
    }
    if (existsSync(`/sys/fs/cgroup/blkio/${id}/blkio.weight`)) assert.equal(read('blkio', 'blkio.weight'), '300');
  } finally {
    assert.equal(box.rt(['delete', id]).status, 0);
  }
  for (const ctrl of ['cpu', 'cpuset', 'memory', 'pids', 'devices', 'freezer']) assert.equal(existsSync(`/sys/fs/cgroup/${ctrl}/${id}`), false);
});

test('--console-socket receives the pty master over SCM_RIGHTS, like runc', (t) => {
  if (!canRun) return t.skip('needs root');
  if (spawnSync('python3', ['-c', 'import socket']).status !== 0) return t.skip('needs python3 to receive a descriptor (node cannot)');
  const id = box.id('tty');
  const cfg = defaultConfig(rootfs, ['sh', '-c', 'tty; echo via-console']);
  cfg.process.terminal = true;
  const bundle = box.bundle(cfg);
  const socketPath = path.join(box.dir, 'console.sock');
  // a tiny console-socket server: accept, take the fd, run the container, print what the pty says
  const server = [
    'import socket, array, os, subprocess, sys, time',
    `s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(socketPath)}); s.listen(1)`,
    `p = subprocess.Popen([${JSON.stringify(runtimeBin)}, '--root', ${JSON.stringify(box.root)}, 'run', '-d', '--console-socket', ${JSON.stringify(socketPath)}, '--bundle', ${JSON.stringify(bundle)}, ${JSON.stringify(id)}])`,
    'c, _ = s.accept()',
    'msg, anc, flags, addr = c.recvmsg(1, socket.CMSG_LEN(4))',
    'fd = array.array("i", anc[0][2][:4])[0]',
    'rc = p.wait()',
    'out = b""',
    'end = time.time() + 5',
    'while b"via-console" not in out and time.time() < end:',
    '    try: out += os.read(fd, 1024)',
    '    except OSError: break',
    'sys.stdout.write("rc=%d %r" % (rc, out.decode()))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', server], { encoding: 'utf8', timeout: 20_000 });
  assert.match(r.stdout, /^rc=0 '\/dev\/pts\/0\\r\\nvia-console\\r\\n'$/, r.stderr);
  box.rt(['delete', '--force', id]);
});
