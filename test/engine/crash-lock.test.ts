/**
 * Robustness: a berth killed with -9 in the middle of `up` leaves a state the next `up`
 * converges and `down` fully removes; a project locked by another berth gets a clear message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { berthBin, runBerth } from '../helpers/cli.js';
import { withProjectLock } from '../../src/engine/lock.js';
import { leftovers } from './leftovers.js';

const services = ['a', 'b', 'c', 'd'];

test('kill -9 of the CLI during up: the next up converges and down leaves nothing', async (t) => {
  const root = await makeStackRoot();
  const project = `crash${process.pid}`;
  const yaml = `name: ${project}\nservices:\n${services.map((s, i) => `  ${s}:\n    image: ${testImage}\n    command: ["sleep", "300"]\n    stop_signal: SIGKILL\n${i > 0 ? `    depends_on: [${services[i - 1]}]\n` : ''}`).join('')}`;
  const dir = root.project(project, yaml);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  const child = spawn(process.execPath, [berthBin, 'up', '-d'], { cwd: dir, env: root.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  // Kill as soon as the first container exists: the chain of dependencies is still being created.
  await new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/Creat/.test(output)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => resolve());
  });
  await new Promise((resolve) => child.once('exit', resolve).once('close', resolve));
  const partial = berth('ps', '-a', '-q').stdout.trim().split('\n').filter(Boolean);
  assert.ok(partial.length < services.length, `up was killed before it finished (found ${partial.join(', ')})`);
  const up = berth('up', '-d');
  assert.equal(up.status, 0, up.stderr);
  const ps = berth('ps', '-q');
  assert.deepEqual(ps.stdout.trim().split('\n').sort(), services.map((s) => `${project}-${s}-1`));
  const down = berth('down', '-t', '1');
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(leftovers(root, project), []);
});

test('a project locked by another berth command gets a clear message', async (t) => {
  const root = await makeStackRoot();
  const project = `lock${process.pid}`;
  const dir = root.project(project, `name: ${project}\nservices:\n  a:\n    image: ${testImage}\n    command: ["sleep", "300"]\n`);
  t.after(() => root.remove());
  await withProjectLock(project, async () => {
    const result = runBerth(['up', '-d'], { cwd: dir, env: { ...root.env, BERTH_LOCK_WAIT_MS: '300' } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`error: project "${project}" is locked by berth up \\(pid ${process.pid}\\)`));
  }, { env: root.env, command: 'up' });
  assert.equal(runBerth(['ps', '-a', '-q'], { cwd: dir, env: root.env }).status, 0);
});
