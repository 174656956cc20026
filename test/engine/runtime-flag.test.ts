/**
 * `--runtime runc` runs the same stack with runc, and the runtime is remembered per container:
 * later commands without `--runtime` (ps, exec, stop, start, scale up, down) use runc for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { runBerth } from '../helpers/cli.js';
import { leftovers } from './leftovers.js';
import { readRunInfo } from '../../src/engine/records.js';
import { readEvents } from '../../src/supervisor/index.js';

test('--runtime runc: up, then ps, exec, stop, start, scale and down without --runtime', async (t) => {
  const root = await makeStackRoot();
  const project = `runc${process.pid}`;
  const dir = root.project(project, `name: ${project}\nservices:\n  a:\n    image: ${testImage}\n    command: ["sleep", "300"]\n    stop_signal: SIGKILL\n`);
  const runc = (...args: string[]) => runBerth(['--runtime', 'runc', ...args], { cwd: dir, env: root.env });
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  const up = runc('up', '-d');
  assert.equal(up.status, 0, up.stderr);
  const runcRoot = `${root.root}/run/runtime/runc`;
  assert.ok(existsSync(`${runcRoot}/${project}-a-1`), 'the container lives under runc\'s root');
  const record = JSON.parse(readFileSync(`${root.root}/projects/${project}/containers/${project}-a-1/record.json`, 'utf8')) as { runtime?: string };
  assert.equal(record.runtime, 'runc');
  // No --runtime from here on: the recorded runtime is used.
  assert.match(berth('ps').stdout, new RegExp(`${project}-a-1 .* Up `));
  const exec = berth('exec', '-T', 'a', 'echo', 'hello from runc');
  assert.equal(exec.status, 0, exec.stderr);
  assert.equal(exec.stdout, 'hello from runc\n');
  assert.equal(berth('stop', '-t', '1').status, 0);
  assert.match(berth('ps', '-a').stdout, /Exited \(\d+\)/);
  const start = berth('start');
  assert.equal(start.status, 0, start.stderr);
  assert.match(berth('ps').stdout, new RegExp(`${project}-a-1 .* Up `));
  // A new replica joins the runtime the project already uses.
  const scaled = berth('up', '-d', '--scale', 'a=2');
  assert.equal(scaled.status, 0, scaled.stderr);
  assert.ok(existsSync(`${runcRoot}/${project}-a-2`), 'the new replica runs under runc too');
  assert.ok(!existsSync(`${root.root}/run/runtime/berth/${project}-a-2`));
  const down = berth('down');
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(leftovers(root, project), []);
});

test('the supervisor watches, probes and restarts each container with the runtime it was created with', async (t) => {
  const root = await makeStackRoot();
  const project = `mixrt${process.pid}`;
  const dir = root.project(project, `name: ${project}
services:
  b:
    image: ${testImage}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
  a:
    image: ${testImage}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck: { test: ["CMD", "true"], interval: 300ms }
  r:
    image: ${testImage}
    command: ["sh", "-c", "sleep 0.3; exit 3"]
    restart: on-failure:1
`);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  // The supervisor starts with berth-runtime as its default; a and r then run under runc.
  assert.equal(berth('--runtime', 'berth', 'up', '-d', 'b').status, 0);
  const up = berth('--runtime', 'runc', 'up', '-d', 'a', 'r');
  assert.equal(up.status, 0, up.stderr);
  const run = (service: string) => readRunInfo(project, `${project}-${service}-1`, root.env);
  const exits = () => readEvents(project, { services: ['r'], containersOnly: true }, { env: root.env }).filter((e) => e.type === 'container' && e.action === 'exited');
  const deadline = Date.now() + 20_000;
  // runc reports no exit code: the exits are seen (events), the restart counted, the probes pass.
  while (!(run('a').health?.status === 'healthy' && run('r').restartCount === 1 && !run('r').restartingAt && exits().length === 2)) {
    assert.ok(Date.now() < deadline, `a: ${JSON.stringify(run('a').health)}; r: ${JSON.stringify(run('r'))}; exits of r: ${exits().length}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(berth('down', '-t', '0').status, 0);
  assert.deepEqual(leftovers(root, project), []);
});
