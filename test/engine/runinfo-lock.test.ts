/**
 * run.json is rewritten by berth commands and by the supervisor at the same time: updateRunInfo's
 * per-container lock keeps every read-modify-write (here: four processes incrementing one
 * counter) and takes over a lock whose owner died.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerDir, readRunInfo, updateRunInfo } from '../../src/engine/records.js';

const records = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/engine/records.js');

test('updateRunInfo: concurrent writers in several processes lose no update; a dead owner\'s lock is taken over', async (t) => {
  const root = mkdtempSync('/tmp/berth-runinfo-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const env = { ...process.env, BERTH_ROOT: root };
  const dir = containerDir('p', 'c', env);
  mkdirSync(dir, { recursive: true });
  const script = `const { updateRunInfo } = await import(${JSON.stringify(records)});
for (let i = 0; i < 150; i++) updateRunInfo('p', 'c', (info) => ({ ...info, restartCount: info.restartCount + 1, [process.argv[1]]: i }));`;
  const writers = ['w1', 'w2', 'w3', 'w4'].map((name) => new Promise<number | null>((resolve) => {
    spawn(process.execPath, ['--input-type=module', '-e', script, name], { env, stdio: 'inherit' }).on('exit', resolve);
  }));
  assert.deepEqual(await Promise.all(writers), [0, 0, 0, 0]);
  const info = readRunInfo('p', 'c', env) as unknown as Record<string, number>;
  assert.equal(info.restartCount, 600);
  for (const name of ['w1', 'w2', 'w3', 'w4']) assert.equal(info[name], 149, 'every writer\'s own field survives the others');
  assert.equal(existsSync(path.join(dir, 'run.json.lock')), false);
  // A lock left by a process that died (pid 2^22 - 1 does not exist here) does not wedge anyone.
  writeFileSync(path.join(dir, 'run.json.lock'), '4194303 1');
  assert.equal(updateRunInfo('p', 'c', (i) => ({ ...i, restartCount: 0 }), env).restartCount, 0);
  assert.equal(readRunInfo('p', 'c', env).restartCount, 0);
});
