/** environment: list and map forms, values from the interpolation environment, env_file merging order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

test('list and map forms give a string map; a variable without value comes from the environment or is dropped', () => {
  const loaded = loadedFrom({ services: { a: { image: 'x', environment: ['A=1', 'B', 'C'] }, b: { image: 'x', environment: { N: 3, T: true, B: null } } } }, { environment: { B: 'from-env' } });
  const project = normalize(loaded);
  assert.deepEqual(project.services.get('a')!.environment, { A: '1', B: 'from-env' });
  assert.deepEqual(project.services.get('b')!.environment, { N: '3', T: 'true', B: 'from-env' });
});

test('env files merge in order, environment wins, optional missing files are skipped', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'one.env'), 'A=one\nB=one\n');
  fs.writeFileSync(path.join(dir, 'two.env'), 'B=two\nC=two\n');
  const loaded = loadedFrom({
    services: { app: { image: 'x', env_file: ['one.env', { path: 'two.env' }, { path: 'gone.env', required: false }], environment: { C: 'env' } } },
  }, { projectDirectory: dir });
  assert.deepEqual(normalize(loaded).services.get('app')!.environment, { A: 'one', B: 'two', C: 'env' });
});

test('a missing required env file is an error at the env_file key', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const loaded = loadedFrom({ services: { app: { image: 'x', env_file: 'nope.env' } } }, { projectDirectory: dir });
  assert.throws(() => normalize(loaded), (error: Error & { source?: { path: string } }) => {
    assert.equal(error.message, `env file "${dir}/nope.env" not found`);
    assert.equal(error.source?.path, 'services.app.env_file');
    return true;
  });
});
