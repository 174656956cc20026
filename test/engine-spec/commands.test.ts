/**
 * exec, run, cp, top and stats through the CLI against a real stack: exit codes, flags, a real
 * TTY (through `script`), one-off containers (names, labels, --rm, dependencies), copies that
 * cannot escape through container symlinks, process listings and usage figures with totals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listRecords } from '../../src/engine/records.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { berthBin, runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const skipReason = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime is not built' : undefined;

test('exec, run, cp, top and stats on a running stack', { skip: skipReason, timeout: 90_000 }, async (t) => {
  const root = await makeStackRoot();
  const name = `h2cmd${process.pid}`;
  const dir = root.project(name, `
name: ${name}
services:
  web:
    image: ${testImage}
    command: ["sleep", "3600"]
    environment: { GREETING: hello }
  db:
    image: ${testImage}
    command: ["sleep", "3600"]
    profiles: [later]
  job:
    image: ${testImage}
    command: ["echo", "job default"]
    depends_on: [db]
    profiles: [later]
`);
  const berth = (args: string[], input?: string) => runBerth(args, { cwd: dir, env: root.env, input });
  t.after(() => {
    berth(['--profile', 'later', 'down', '-v', '-t', '1']);
    root.remove();
  });
  const up = berth(['up', '-d', 'web']);
  assert.equal(up.status, 0, up.stderr);

  await t.test('exec: exit code, -e -w -u, --privileged, stdin, -d, index errors', () => {
    let r = berth(['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING; exit 3']);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.status, 3, 'the exit code is the command\'s');
    r = berth(['exec', '-T', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'app', 'web', 'sh', '-c', 'echo $FOO $(pwd) $(id -u):$(id -g)']);
    assert.equal(r.stdout, 'bar /tmp 1000:1000\n', r.stderr);
    const caps = (args: string[]) => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(berth(['exec', '-T', ...args, 'web', 'cat', '/proc/self/status']).stdout)?.[1]}`);
    assert.equal(caps([]) & (1n << 21n), 0n, 'no CAP_SYS_ADMIN by default');
    assert.notEqual(caps(['--privileged']) & (1n << 21n), 0n, '--privileged grants CAP_SYS_ADMIN');
    r = berth(['exec', '-T', 'web', 'cat'], 'piped input\n');
    assert.equal(r.stdout, 'piped input\n', 'stdin reaches the process');
    r = berth(['exec', '-d', 'web', 'sh', '-c', 'echo detached > /tmp/detached']);
    assert.equal(r.status, 0, r.stderr);
    let seen = '';
    for (let i = 0; i < 50 && seen !== 'detached\n'; i++) seen = berth(['exec', '-T', 'web', 'cat', '/tmp/detached']).stdout;
    assert.equal(seen, 'detached\n');
    r = berth(['exec', '-T', '--index', '2', 'web', 'true']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /service "web" has no container with index 2/);
  });

  await t.test('exec -t and run with a real TTY', () => {
    const viaScript = (args: string[]) => spawnSync('script', ['-qec', [process.execPath, berthBin, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
      cwd: dir, env: root.env, encoding: 'utf8', timeout: 30_000,
    });
    let r = viaScript(['exec', 'web', 'sh', '-c', 'tty; test -t 0 && echo stdin-is-tty']);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n/);
    assert.match(r.stdout, /stdin-is-tty/);
    r = viaScript(['run', '--rm', '--no-deps', 'web', 'tty']);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    r = viaScript(['exec', '-T', 'web', 'sh', '-c', 'tty || true']);
    assert.match(r.stdout, /not a tty/, '-T allocates no TTY');
  });

  await t.test('run: dependencies, exit code, overrides, --rm, -d names and labels', () => {
    const hostDir = path.join(dir, 'hostdir');
    mkdirSync(hostDir);
    writeFileSync(path.join(hostDir, 'f'), 'content');
    let r = berth(['--profile', 'later', 'run', '--rm', '-T', 'job', 'sh', '-c', 'echo run-out; exit 5']);
    assert.equal(r.stdout.trim().split('\n').pop(), 'run-out', r.stderr);
    assert.equal(r.status, 5, 'run returns the container\'s exit code');
    assert.equal(berth(['exec', '-T', 'db', 'true']).status, 0, 'the dependency was started first');
    assert.deepEqual(listRecords(name, root.env).filter((c) => c.oneoff), [], '--rm removed the one-off container');
    r = berth(['--profile', 'later', 'run', '--rm', '-T', '--no-deps', 'job']);
    assert.equal(r.stdout, 'job default\n', 'the service command by default');
    r = berth(['run', '--rm', '-T', '--no-deps', '-e', 'A=1', '-v', './hostdir:/mnt:ro', '-w', '/mnt', '-u', 'app', '--entrypoint', 'sh -c', 'web', 'echo $A $(pwd) $(id -u) $(cat f); touch x 2>/dev/null || echo read-only']);
    assert.equal(r.stdout, '1 /mnt 1000 content\nread-only\n', r.stderr);
    r = berth(['run', '-d', '--no-deps', '-l', 'purpose=test', 'web', 'sleep', '60']);
    assert.equal(r.status, 0, r.stderr);
    const runName = r.stdout.trim();
    assert.match(runName, new RegExp(`^${name}-web-run-[0-9a-f]{12}$`));
    const record = listRecords(name, root.env).find((c) => c.name === runName);
    assert.ok(record);
    assert.equal(record.oneoff, true);
    assert.equal(record.labels['com.docker.compose.oneoff'], 'True');
    assert.equal(record.labels.purpose, 'test');
    r = berth(['run', '--rm', '-T', '--no-deps', '--name', `${name}-custom`, 'web', 'hostname']);
    assert.equal(r.status, 0, r.stderr);
  });

  await t.test('cp: both directions, directories, tar to stdout, no escape through symlinks', () => {
    writeFileSync(path.join(dir, 'secret.txt'), 'secret\n');
    let r = berth(['exec', '-T', 'web', 'sh', '-c', 'ln -s / /tmp/escape; ln -s /etc/passwd /tmp/pw; mkdir -p /tmp/d/sub; echo in > /tmp/d/sub/x']);
    assert.equal(r.status, 0, r.stderr);
    const hostTarget = `/berth-cp-escape-${process.pid}`;
    r = berth(['cp', 'secret.txt', `web:/tmp/escape${hostTarget}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(hostTarget), false, 'a container symlink to / is not the host\'s /');
    assert.equal(berth(['exec', '-T', 'web', 'cat', hostTarget]).stdout, 'secret\n', 'the file landed in the container root');
    r = berth(['cp', '-L', 'web:/tmp/pw', './pw']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(path.join(dir, 'pw'), 'utf8'), /^app:x:1000:1000/m, 'the container\'s /etc/passwd, not the host\'s');
    r = berth(['cp', 'web:/tmp/d', './dcopy']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path.join(dir, 'dcopy/sub/x'), 'utf8'), 'in\n');
    r = berth(['cp', './dcopy', 'web:/tmp/back']);
    assert.equal(r.status, 0, r.stderr);
    r = berth(['exec', '-T', 'web', 'sh', '-c', 'cat /tmp/back/sub/x; stat -c %u /tmp/back/sub/x']);
    assert.equal(r.stdout, 'in\n0\n');
    const tar = spawnSync(process.execPath, [berthBin, 'cp', 'web:/tmp/d', '-'], { cwd: dir, env: root.env });
    const list = spawnSync('tar', ['-t'], { input: tar.stdout, encoding: 'utf8' });
    assert.deepEqual(list.stdout.split('\n').filter(Boolean).sort(), ['d/', 'd/sub/', 'd/sub/x']);
    r = berth(['cp', 'web:/nope', './x']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such file or directory in container/);
  });

  await t.test('top and stats', () => {
    let r = berth(['top', 'web']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `${name}-web-1`);
    assert.match(lines[1], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.match(r.stdout, /^root\s+\d+\s+\d+\s+\d+\s+\S+\s+\?\s+\d\d:\d\d:\d\d\s+sleep 3600$/m);
    r = berth(['stats', '--no-stream', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as { Name: string; pids: number; memoryBytes: number; Project: string });
    const web = rows.find((row) => row.Name === `${name}-web-1`);
    assert.ok(web);
    assert.ok(web.pids >= 1 && web.memoryBytes > 0);
    const total = rows.find((row) => row.Name === 'TOTAL');
    assert.ok(total);
    assert.equal(total.Project, name);
    const running = rows.filter((row) => row.Name !== 'TOTAL');
    assert.equal(total.pids, running.reduce((sum, row) => sum + row.pids, 0), 'the total adds up the containers');
    r = berth(['stats', '--no-stream']);
    assert.match(r.stdout, /^NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+PIDS$/m);
    assert.match(r.stdout, new RegExp(`^TOTAL \\(${name}\\)\\s+\\d+\\.\\d\\d%`, 'm'));
  });
});
