/**
 * berth-runtime `run` (attached): each isolation feature is observed from inside a busybox
 * container, with the config built like Docker's defaults.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync, symlinkSync, chmodSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { makeBusyboxRootfs, removeRootfs, haveBusybox } from '../helpers/busybox-rootfs.js';
import { Sandbox, defaultConfig, mkdirDenyBpf, runtimeBin } from './bundle.js';

let rootfs = '';
const box = new Sandbox();
const canRun = process.getuid?.() === 0 && haveBusybox() && existsSync(runtimeBin);

before(() => { if (canRun) { rootfs = makeBusyboxRootfs(); chmodSync(rootfs, 0o755); } });
after(() => { box.cleanup(); if (rootfs) removeRootfs(rootfs); });

function sh(script: string, edit?: (c: ReturnType<typeof defaultConfig>) => void) {
  const cfg = defaultConfig(rootfs, ['sh', '-c', script]);
  edit?.(cfg);
  return box.run(cfg);
}

test('prints output, sets the hostname and passes the exit code', (t) => {
  if (!canRun) return t.skip('needs root, busybox-static and runtime/build/berth-runtime');
  const r = sh('echo hello; hostname; exit 42', (c) => { c.hostname = 'web-1'; });
  assert.equal(r.stdout, 'hello\nweb-1\n');
  assert.equal(r.code, 42);
});

test('runs as PID 1 in its own pid namespace and sees no host process', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('cat /proc/1/cmdline | tr "\\0" " "; echo; ps -o pid,args | grep -v "ps -o" | wc -l');
  assert.equal(r.code, 0, r.stderr);
  const [cmdline, count] = r.stdout.trim().split('\n');
  assert.equal(cmdline.trim(), 'sh -c cat /proc/1/cmdline | tr "\\0" " "; echo; ps -o pid,args | grep -v "ps -o" | wc -l');
  assert.ok(Number(count) <= 4, `sees only its own processes, got ${count} lines`);
});

test('user, groups, env, cwd and umask are applied', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('id; echo "$GREETING"; pwd; umask', (c) => {
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [50, 29], umask: 0o027 };
    c.process.env.push('GREETING=hi there');
    c.process.cwd = '/home/app/work';
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'uid=1000(app) gid=1000(app) groups=29(audio),50(staff)\nhi there\n/home/app/work\n0027\n');
});

test('capabilities, no_new_privs and rlimits are as configured', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs)" /proc/self/status; ulimit -n', (c) => {
    c.process.noNewPrivileges = true;
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /CapPrm:\s+00000000a80425fb/);
  assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
  assert.match(r.stdout, /CapBnd:\s+00000000a80425fb/);
  assert.match(r.stdout, /NoNewPrivs:\s+1/);
  assert.match(r.stdout, /\n321\n$/);
});

test('seccomp: a hand-made BPF filter makes mkdir fail with EPERM', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('grep ^Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; echo "rc=$?"; touch /tmp/file && echo touched', (c) => {
    c.annotations['run.berth.seccomp.bpf'] = mkdirDenyBpf();
  });
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stdout, /Operation not permitted/);
  assert.match(r.stdout, /rc=1\ntouched\n/);
});

test('linux.seccomp without the compiled annotation fails clearly', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('true', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }; });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /linux\.seccomp is set but annotation "run\.berth\.seccomp\.bpf" is missing/);
});

test('read-only root, masked paths, read-only /proc/sys, and no mount', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh([
    'touch /rootfile 2>/dev/null && echo root-writable || echo root-ro',
    'cat /proc/kcore 2>/dev/null | wc -c',
    'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-writable || echo sys-ro',
    'mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo no-mount',
    'ls /sys/firmware | wc -l',
  ].join('; '), (c) => { c.root.readonly = true; });
  assert.equal(r.stdout, 'root-ro\n0\nsys-ro\nno-mount\n0\n');
});

test('tmpfs size and bind mounts ro/rw', (t) => {
  if (!canRun) return t.skip('needs root');
  const rw = path.join(box.dir, 'rw'); const ro = path.join(box.dir, 'ro');
  mkdirSync(rw); mkdirSync(ro); writeFileSync(path.join(ro, 'data.txt'), 'from host\n');
  const r = sh('df -k /scratch | tail -1 | awk "{print \\$2}"; echo out > /rw/file; cat /ro/data.txt; echo x > /ro/new 2>/dev/null || echo ro-refused', (c) => {
    c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=4m', 'mode=1777'] });
    c.mounts.push({ destination: '/rw', type: 'bind', source: rw, options: ['rbind', 'rw'] });
    c.mounts.push({ destination: '/ro', type: 'bind', source: ro, options: ['rbind', 'ro'] });
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '4096\nfrom host\nro-refused\n');
  assert.equal(readFileSync(path.join(rw, 'file'), 'utf8'), 'out\n');
});

test('a symlink in the image cannot redirect a mount out of the rootfs', (t) => {
  if (!canRun) return t.skip('needs root');
  const evil = path.join(box.dir, 'evil-target');
  mkdirSync(evil);
  const own = makeBusyboxRootfs(box.dir);
  symlinkSync(evil, path.join(own, 'escape'));
  mkdirSync(path.join(own, evil), { recursive: true }); // the same path inside the rootfs
  const cfg = defaultConfig(own, ['sh', '-c', 'ls /escape']);
  cfg.mounts.push({ destination: '/escape/inner', type: 'tmpfs', source: 'tmpfs', options: [] });
  const r = box.run(cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(path.join(evil, 'inner')), false, 'nothing created on the host');
  assert.ok(existsSync(path.join(own, box.dir.slice(1), 'evil-target', 'inner')), 'created inside the rootfs instead');
});

test('no host file descriptor leaks into the container', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('ls /proc/self/fd');
  assert.equal(r.stdout, '0\n1\n2\n3\n'); // 3 is ls's own directory handle
});

test('init reaps zombies and forwards SIGTERM to its child', async (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig(rootfs, ['sh', '-c', '(sleep 0.1 &) ; sleep 0.5; ps -o stat,args | grep -c "^Z" ; trap "echo got-term; exit 5" TERM; echo ready; while true; do sleep 0.1; done']);
  cfg.annotations['run.berth.init'] = 'true';
  const running = box.spawnRun(cfg);
  const deadline = Date.now() + 10_000;
  while (!running.stdout().includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const first = box.state(running.id);
  const ps = readFileSync(`/proc/${first.pid}/cmdline`, 'utf8');
  assert.match(ps, /berth-runtime/, 'PID 1 is the runtime acting as init; the command runs in its child');
  process.kill(first.pid, 'SIGTERM');
  const code = await running.done;
  assert.equal(running.stdout(), '0\nready\ngot-term\n');
  assert.equal(code, 5);
});

test('with no_new_privs the seccomp filter is installed last and still applies', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; mkdir /tmp/y 2>/dev/null || echo refused', (c) => {
    c.process.noNewPrivileges = true;
    c.process.user = { uid: 1000, gid: 1000 };
    c.annotations['run.berth.seccomp.bpf'] = mkdirDenyBpf();
  });
  assert.equal(r.stdout, 'NoNewPrivs:\t1\nSeccomp:\t2\nrefused\n', r.stderr);
});

test('--no-pivot runs with chroot into the same rootfs', (t) => {
  if (!canRun) return t.skip('needs root');
  const id = box.id();
  const r = box.rt(['run', '--no-pivot', '--bundle', box.bundle(defaultConfig(rootfs, ['sh', '-c', 'cat /etc/hostname; hostname'])), id]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'rootfs\ntest\n');
});

test('hostile config.json: nesting and bad JSON are refused with a position', (t) => {
  if (!canRun) return t.skip('needs root');
  const bundle = box.bundle({});
  writeFileSync(path.join(bundle, 'config.json'), `{"ociVersion":"1.0.0","x":${'['.repeat(5000)}`);
  const id = box.id();
  const r = box.rt(['run', '--bundle', bundle, id]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^berth-runtime: create container ".*": load bundle: parse ".*config\.json": invalid JSON at byte \d+: nesting too deep\n$/);
  writeFileSync(path.join(bundle, 'config.json'), '{"ociVersion": "2.0.0", "process": {"args": ["true"]}}');
  assert.match(box.rt(['run', '--bundle', bundle, box.id()]).stderr, /unsupported ociVersion "2\.0\.0" \(1\.x expected\)/);
});

test('user namespace: root inside is an unprivileged uid outside', (t) => {
  if (!canRun) return t.skip('needs root');
  const r = sh('id -u; cat /proc/self/uid_map; touch /owned-by-host-root 2>/dev/null || echo refused; cat /proc/1/cmdline >/dev/null && hostname', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^0\n\s+0\s+200000\s+65536\nrefused\ntest\n$/);
  const missing = sh('true', (c) => { c.linux.namespaces.push({ type: 'user' }); });
  assert.match(missing.stderr, /namespaces: a user namespace needs linux\.uidMappings and linux\.gidMappings/);
});

test('namespaces given by path are joined', async (t) => {
  if (!canRun) return t.skip('needs root');
  const first = defaultConfig(rootfs, ['sleep', '20']);
  first.annotations['run.berth.log.path'] = path.join(box.dir, 'ns.log');
  const id = box.id('ns');
  assert.equal(box.rt(['run', '-d', '--bundle', box.bundle(first), id]).status, 0);
  const pid = box.state(id).pid as number;
  const netns = readlinkSync(`/proc/${pid}/ns/net`);
  const r = sh('readlink /proc/self/ns/net', (c) => {
    c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n));
  });
  assert.equal(r.stdout.trim(), netns);
  box.rt(['delete', '--force', id]);
});

test('sysctls are written inside the new namespaces, oomScoreAdj and domainname are set', (t) => {
  if (!canRun) return t.skip('needs root');
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const r = sh('cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj /proc/sys/kernel/domainname', (c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': hostForward.trim() === '1' ? '0' : '1' };
    c.process.oomScoreAdj = 321;
    c.domainname = 'example.test';
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${hostForward.trim() === '1' ? '0' : '1'}\n321\nexample.test\n`);
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, 'the host is untouched');
});
