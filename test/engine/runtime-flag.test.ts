/** `--runtime runc` runs the same stack with runc: up, ps, stop, down with nothing left. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { runBerth } from '../helpers/cli.js';
import { leftovers } from './leftovers.js';

test('--runtime runc: up, ps, stop, down', async (t) => {
  const root = await makeStackRoot();
  const project = `runc${process.pid}`;
  const dir = root.project(project, `name: ${project}\nservices:\n  a:\n    image: ${testImage}\n    command: ["sleep", "300"]\n    stop_signal: SIGKILL\n`);
  const berth = (...args: string[]) => runBerth(['--runtime', 'runc', ...args], { cwd: dir, env: root.env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  const up = berth('up', '-d');
  assert.equal(up.status, 0, up.stderr);
  assert.ok(existsSync(`${root.root}/run/runtime/runc/${project}-a-1`), 'the container lives under runc\'s root');
  assert.match(berth('ps').stdout, new RegExp(`${project}-a-1 .* Up `));
  assert.equal(berth('stop', '-t', '1').status, 0);
  assert.match(berth('ps', '-a').stdout, /Exited \(\d+\)/);
  const down = berth('down');
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(leftovers(root, project), []);
});
