/** The CLI prints validation errors exactly as the golden files say and exits with status 1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runBerth } from '../helpers/cli.js';
import { packageRoot } from '../../src/paths.js';

test('berth config on an invalid project prints every problem and exits 1', () => {
  const dir = path.join(packageRoot, 'test', 'validate', 'fixtures', 'multiple-problems');
  const result = runBerth(['config'], { cwd: dir });
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.ok(result.stderr.includes(readFileSync(path.join(dir, 'expected.txt'), 'utf8').trimEnd()), result.stderr);
});

test('berth config -q on the every-attribute project exits 0', () => {
  const dir = path.join(packageRoot, 'test', 'validate', 'valid', 'kitchen-sink');
  const result = runBerth(['config', '-q'], { cwd: dir, env: { DEBUG: '1' } });
  assert.equal(result.status, 0, result.stderr);
});
