/**
 * Detached containers: create/start/state/kill/delete through the per-container monitor, the
 * json-file log with rotation, exec, pause/resume, ps and list.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { makeBusyboxRootfs, removeRootfs, haveBusybox } from '../helpers/busybox-rootfs.js';
import { Sandbox, defaultConfig, runtimeBin, waitFor, readOr } from './bundle.js';

let rootfs = '';
const box = new Sandbox();
const canRun = process.getuid?.() === 0 && haveBusybox() && existsSync(runtimeBin);

before(() => { if (canRun) { rootfs = makeBusyboxRootfs(); chmodSync(rootfs, 0o755); } });
after(() => { box.cleanup(); if (rootfs) removeRootfs(rootfs); });

function detached(script: string, annotations: Record<string, string> = {}) {
  const cfg = defaultConfig(rootfs, ['sh', '-c', script]);
  // with no log path the container would inherit our stdio (like runc) and spawnSync would wait for it
  Object.assign(cfg.annotations, { 'run.berth.log.path': path.join(box.dir, 'default.log') }, annotations);
  const id = box.id('d');
  const bundle = box.bundle(cfg);
  return { id, bundle, cfg };
}

test('create, start, state, kill and delete; the monitor logs json-file lines and records the exit', async (t) => {
  if (!canRun) return t.skip('needs root, busybox-static and runtime/build/berth-runtime');
  const log = path.join(box.dir, 'life.log');
  const { id, bundle } = detached('echo out-line; echo err-line >&2; trap "exit 3" TERM; while true; do sleep 0.05; done', { 'run.berth.log.path': log });
  const pidFile = path.join(box.dir, 'life.pid');
  const created = box.rt(['create', '--bundle', bundle, '--pid-file', pidFile, id]);
  assert.equal(created.status, 0, created.stderr);
  let st = box.state(id);
  assert.equal(st.status, 'created');
  assert.equal(st.id, id);
  assert.equal(st.bundle, bundle);
  assert.equal(Number(readFileSync(pidFile, 'utf8')), st.pid);
  assert.equal(st.annotations['run.berth.log.path'], log);
  const monitorRss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${st.monitorPid}/status`, 'utf8'))?.[1]);
  t.diagnostic(`monitor VmRSS: ${monitorRss} kB`);
  assert.ok(monitorRss > 0 && monitorRss <= 4096, `monitor RSS ${monitorRss} kB within 4 MiB`);
  assert.equal(box.rt(['start', id]).status, 0);
  st = box.state(id);
  assert.equal(st.status, 'running');
  assert.ok(st.startedAt);
  assert.ok(await waitFor(() => readOr(log).includes('err-line')), 'log written');
  const refused = box.rt(['delete', id]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /cannot delete container ".*" that is running: stop it first or use --force/);
  assert.equal(box.rt(['kill', id, 'TERM']).status, 0);
  assert.ok(await waitFor(() => box.state(id).status === 'stopped'), 'stopped after SIGTERM');
  st = box.state(id);
  assert.equal(st.exitCode, 3);
  assert.ok(st.finishedAt);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
  assert.deepEqual(lines.map((l) => [l.log, l.stream]), [['out-line\n', 'stdout'], ['err-line\n', 'stderr']].sort((a, b) => lines.findIndex((l) => l.log === a[0]) - lines.findIndex((l) => l.log === b[0])));
  assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(box.rt(['delete', id]).status, 0);
  assert.equal(existsSync(path.join(box.root, id)), false);
  assert.notEqual(box.rt(['state', id]).status, 0);
});

test('a killed container reports 128+signal, and run -d starts at once', async (t) => {
  if (!canRun) return t.skip('needs root');
  const { id, bundle } = detached('sleep 30');
  assert.equal(box.rt(['run', '-d', '--bundle', bundle, id]).status, 0);
  assert.equal(box.state(id).status, 'running');
  assert.equal(box.rt(['kill', '--all', id, 'SIGKILL']).status, 0);
  assert.ok(await waitFor(() => box.state(id).status === 'stopped'));
  const st = box.state(id);
  assert.equal(st.exitCode, 137);
  assert.equal(st.exitSignal, 9);
  assert.equal(box.rt(['delete', id]).status, 0);
});

test('log rotation keeps max-file files of about max-size bytes', async (t) => {
  if (!canRun) return t.skip('needs root');
  const log = path.join(box.dir, 'rot.log');
  const { id, bundle } = detached('i=0; while [ $i -lt 200 ]; do echo "line number $i"; i=$((i+1)); done', {
    'run.berth.log.path': log, 'run.berth.log.max-size': '2000', 'run.berth.log.max-file': '3',
  });
  assert.equal(box.rt(['run', '-d', '--bundle', bundle, id]).status, 0);
  assert.ok(await waitFor(() => box.state(id).status === 'stopped'));
  assert.ok(existsSync(`${log}.1`) && existsSync(`${log}.2`) && !existsSync(`${log}.3`));
  for (const f of [log, `${log}.1`, `${log}.2`]) assert.ok(readFileSync(f).length <= 2000, `${f} within max-size`);
  const last = readFileSync(log, 'utf8').trim().split('\n').pop() ?? '';
  assert.equal((JSON.parse(last) as { log: string }).log, 'line number 199\n');
  box.rt(['delete', id]);
});

test('stdin fifo stays open and feeds the container', async (t) => {
  if (!canRun) return t.skip('needs root');
  const log = path.join(box.dir, 'stdin.log');
  const { id, bundle } = detached('while read line; do echo "got $line"; done', { 'run.berth.log.path': log, 'run.berth.stdin': 'true' });
  assert.equal(box.rt(['run', '-d', '--bundle', bundle, id]).status, 0);
  writeFileSync(path.join(box.root, id, 'stdin'), 'one\n');
  writeFileSync(path.join(box.root, id, 'stdin'), 'two\n'); // a second writer: no EOF in between
  assert.ok(await waitFor(() => readOr(log).includes('got two')), readOr(log));
  assert.equal(box.state(id).status, 'running');
  assert.equal(box.rt(['delete', '--force', id]).status, 0);
});

test('exec joins the container: env, cwd, user, exit code; ps and list see it', async (t) => {
  if (!canRun) return t.skip('needs root');
  const { id, bundle } = detached('echo $$ > /tmp/init.pid; while true; do sleep 0.05; done');
  assert.equal(box.rt(['run', '-d', '--bundle', bundle, id]).status, 0);
  const r = box.rt(['exec', '--env', 'FOO=bar', '--cwd', '/tmp', '--user', '1000:1000', id, 'sh', '-c', 'echo $FOO; pwd; id -u; cat /tmp/init.pid; hostname; exit 7']);
  assert.equal(r.stdout, 'bar\n/tmp\n1000\n1\ntest\n');
  assert.equal(r.status, 7);
  const missing = box.rt(['exec', id, 'no-such-command']);
  assert.equal(missing.status, 127);
  assert.match(missing.stderr, /exec in container ".*": exec: "no-such-command": executable file not found in \$PATH/);
  const ps = box.rt(['ps', '--format', 'json', id]);
  const pids = JSON.parse(ps.stdout) as number[];
  assert.ok(pids.includes(box.state(id).pid));
  const list = JSON.parse(box.rt(['list', '--format', 'json']).stdout) as Array<{ id: string; status: string }>;
  assert.equal(list.find((c) => c.id === id)?.status, 'running');
  const stats = JSON.parse(box.rt(['stats', id]).stdout) as { memory: { usage: number }; pids: { current: number } };
  assert.ok(stats.memory.usage > 0 && stats.pids.current >= 1);
  assert.equal(box.rt(['delete', '--force', id]).status, 0);
});

test('pause freezes the container and resume thaws it', async (t) => {
  if (!canRun) return t.skip('needs root');
  const { id, bundle } = detached('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done');
  assert.equal(box.rt(['run', '-d', '--bundle', bundle, id]).status, 0);
  const counter = () => Number(readFileSync(path.join(rootfs, 'tmp/count'), 'utf8'));
  assert.ok(await waitFor(() => existsSync(path.join(rootfs, 'tmp/count')) && counter() > 2));
  assert.equal(box.rt(['pause', id]).status, 0);
  assert.equal(box.state(id).status, 'paused');
  const frozen = counter();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(counter(), frozen, 'counter stands still while paused');
  assert.equal(box.rt(['resume', id]).status, 0);
  assert.equal(box.state(id).status, 'running');
  assert.ok(await waitFor(() => counter() > frozen), 'counter moves again');
  assert.equal(box.rt(['delete', '--force', id]).status, 0);
});

test('create returns without leaving the caller\'s descriptors open in the monitor or the waiting init', async (t) => {
  if (!canRun) return t.skip('needs root');
  const { id, bundle } = detached('sleep 20');
  const child = spawn(runtimeBin, ['--root', box.root, 'create', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const extra = child.stdio[3] as Readable;
  extra.resume();
  const closed = new Promise<boolean>((resolve) => { extra.on('close', () => resolve(true)); setTimeout(() => resolve(false), 5000); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.equal(await closed, true, 'fd 3 reached EOF once create returned');
  assert.equal(box.state(id).status, 'created');
  assert.equal(box.rt(['delete', id]).status, 0);
});

test('BERTH_ERROR_FD receives one JSON error line', async (t) => {
  if (!canRun) return t.skip('needs root');
  const cfg = defaultConfig('/nonexistent/rootfs', ['true']);
  const id = box.id('efd');
  const child = spawn(runtimeBin, ['--root', box.root, 'create', '--bundle', box.bundle(cfg), id], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, BERTH_ERROR_FD: '3' },
  });
  let text = '';
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (d: string) => { text += d; });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  assert.deepEqual(JSON.parse(text), { message: `create container "${id}": rootfs "/nonexistent/rootfs": No such file or directory`, errno: 2 });
});

test('exec --process FILE and exec --tty', async (t) => {
  if (!canRun) return t.skip('needs root');
  const { id, bundle } = detached('sleep 20');
  assert.equal(box.rt(['run', '-d', '--bundle', bundle, id]).status, 0);
  const processFile = path.join(box.dir, 'process.json');
  writeFileSync(processFile, JSON.stringify({ args: ['sh', '-c', 'echo "$A"; id -u; pwd'], env: ['A=from-file', 'PATH=/bin'], cwd: '/etc', user: { uid: 5, gid: 5 }, terminal: false }));
  const r = box.rt(['exec', '--process', processFile, id]);
  assert.equal(r.stdout, 'from-file\n5\n/etc\n', r.stderr);
  const tty = box.rt(['exec', '--tty', id, 'sh', '-c', 'test -t 1 && echo tty']);
  assert.equal(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /^tty\r?\n$/);
  assert.equal(box.rt(['delete', '--force', id]).status, 0);
});

test('run.berth.init reaps orphans that a non-reaping PID 1 would leave as zombies', async (t) => {
  if (!canRun) return t.skip('needs root');
  // the orphaned sleep is re-parented to PID 1; `exec sleep` as PID 1 never calls wait()
  const script = '(sleep 0.1 &); exec sleep 20';
  const withInit = detached(script, { 'run.berth.init': 'true' });
  const without = detached(script);
  assert.equal(box.rt(['run', '-d', '--bundle', withInit.bundle, withInit.id]).status, 0);
  assert.equal(box.rt(['run', '-d', '--bundle', without.bundle, without.id]).status, 0);
  await new Promise((r) => setTimeout(r, 600));
  const zombies = (id: string) => box.rt(['exec', id, 'sh', '-c', 'ps -o stat | grep -c "^Z"']).stdout.trim();
  assert.equal(zombies(without.id), '1', 'without init the zombie stays');
  assert.equal(zombies(withInit.id), '0', 'with init it is reaped');
  assert.equal(box.rt(['delete', '--force', withInit.id]).status, 0);
  assert.equal(box.rt(['delete', '--force', without.id]).status, 0);
});
