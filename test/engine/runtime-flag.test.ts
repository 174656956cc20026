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
