/**
 * post_start / pre_stop hooks and sharing with another service's container, with real
 * containers: hooks run as execs with their user and environment, a failing post_start stops
 * the container and fails `up` with the hook's output, a failing pre_stop is reported and the
 * stop goes on; volumes_from (`:ro`), `ipc: service:x` and `pid: service:x` (joined again after
 * the other container restarted); restartCount back to 0 on a user start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { runBerth } from '../helpers/cli.js';
import { readRunInfo, updateRunInfo } from '../../src/engine/records.js';
import { leftovers } from './leftovers.js';

const loop = '["sh", "-c", "trap \'exit 0\' TERM; while true; do sleep 0.1; done"]';

function compose(project: string, hostDir: string): string {
  return `name: ${project}
services:
  data:
    image: ${testImage}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo shared > /shared/x; while true; do sleep 0.1; done"]
    volumes: ["vol:/shared", "${hostDir}:/host"]
  app:
    image: ${testImage}
    command: ${loop}
    stop_grace_period: 2s
    volumes_from: ["data:ro"]
    ipc: service:data
    pid: service:data
    post_start:
      - command: ["sh", "-c", "id -u > /tmp/post; echo $$HOOKVAR >> /tmp/post"]
        user: "1000"
        environment: { HOOKVAR: from-hook }
    pre_stop:
      - command: ["sh", "-c", "echo app pre_stop > /host/app-stopped"]
  side:
    image: ${testImage}
    command: ${loop}
    volumes: ["${hostDir}:/host"]
    pre_stop:
      - command: ["sh", "-c", "echo side pre_stop > /host/side-stopped"]
  broken:
    image: ${testImage}
    command: ${loop}
    profiles: [broken]
    post_start:
      - command: ["sh", "-c", "echo hook says no; exit 3"]
volumes:
  vol: {}
`;
}

test('lifecycle hooks, volumes_from, ipc/pid service:x, restartCount reset', async (t) => {
  const root = await makeStackRoot();
  const project = `hooks${process.pid}`;
  const hostDir = path.join(root.root, 'host');
  const dir = root.project(project, compose(project, hostDir));
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  t.after(() => {
    berth('--profile', 'broken', 'down', '-t', '0', '-v');
    root.remove();
  });
  const up = berth('up', '-d');
  assert.equal(up.status, 0, up.stderr);
  const name = (service: string) => `${project}-${service}-1`;

  await t.test('post_start ran as an exec with its user and environment', () => {
    const post = berth('exec', '-T', 'app', 'cat', '/tmp/post');
    assert.equal(post.status, 0, post.stderr);
    assert.equal(post.stdout, '1000\nfrom-hook\n');
  });

  await t.test('volumes_from data:ro shares its volumes read-only; ipc and pid namespaces are data\'s', () => {
    const probe = 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; cat /shared/x; tr "\\0" " " < /proc/1/cmdline; echo; touch /shared/y 2>&1; true';
    const inside = (service: string) => berth('exec', '-T', service, 'sh', '-c', probe).stdout.split('\n');
    const [appIpc, appPid, shared, pid1, touch] = inside('app');
    const [dataIpc, dataPid] = inside('data');
    const [sideIpc] = inside('side');
    assert.equal(shared, 'shared');
    assert.match(touch, /Read-only file system/);
    assert.equal(appIpc, dataIpc);
    assert.equal(appPid, dataPid);
    assert.notEqual(sideIpc, dataIpc);
    // In data's pid namespace, data's process is pid 1.
    assert.match(pid1, /echo shared/);
  });

  await t.test('pre_stop runs before the stop signal; a failing one is reported and the stop goes on', () => {
    const stop = berth('stop', 'side', 'app');
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(readFileSync(path.join(hostDir, 'side-stopped'), 'utf8'), 'side pre_stop\n');
    // app's /host comes from data read-only: its hook fails.
    assert.ok(!existsSync(path.join(hostDir, 'app-stopped')));
    assert.match(stop.stderr, new RegExp(`Container ${name('app')}  Stopping \\(pre_stop\\[0\\] failed: .*exited with code 1: .*Read-only file system\\)`));
    assert.match(stop.stderr, new RegExp(`Container ${name('app')}  Stopped`));
  });

  await t.test('a user start resets restartCount and joins the namespaces of data\'s new run', () => {
    updateRunInfo(project, name('side'), (info) => ({ ...info, restartCount: 4 }), root.env);
    assert.equal(berth('restart', '-t', '1', 'data').status, 0);
    const start = berth('start', 'side', 'app');
    assert.equal(start.status, 0, start.stderr);
    assert.equal(readRunInfo(project, name('side'), root.env).restartCount, 0);
    const ns = (service: string) => berth('exec', '-T', service, 'readlink', '/proc/self/ns/pid').stdout;
    assert.equal(ns('app'), ns('data'));
  });

  await t.test('a failing post_start stops the container and fails up with the hook\'s output', () => {
    const broken = berth('--profile', 'broken', 'up', '-d', 'broken');
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, new RegExp(`error: post_start hook of container "${name('broken')}" failed: \\["sh","-c","echo hook says no; exit 3"\\] exited with code 3: hook says no`));
    assert.match(broken.stderr, /hint: the container was stopped; fix services\.broken\.post_start\[0\]/);
    const ps = JSON.parse(berth('--profile', 'broken', 'ps', '-a', '--format', 'json', 'broken').stdout) as { State: string };
    assert.equal(ps.State, 'exited');
  });

  await t.test('down leaves nothing behind', () => {
    writeFileSync(path.join(hostDir, 'keep'), '');
    const down = berth('--profile', 'broken', 'down', '-t', '1', '-v');
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(leftovers(root, project), []);
  });
});
