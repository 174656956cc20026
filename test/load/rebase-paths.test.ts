// rebasePath: relative paths move between directories; absolute, home and unchanged ones stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rebasePath } from '../../src/load/index.js';

test('relative paths are rewritten relative to the target directory', () => {
  assert.equal(rebasePath('./src', '/p/sub', '/p'), './sub/src');
  assert.equal(rebasePath('.', '/p/sub', '/p'), './sub');
  assert.equal(rebasePath('../x', '/p/sub', '/p'), './x');
  assert.equal(rebasePath('.', '/p', '/p/sub'), '..');
  assert.equal(rebasePath('./a', '/q', '/p'), '../q/a');
});

test('absolute paths, ~ paths and same-directory moves stay as written', () => {
  assert.equal(rebasePath('/abs', '/p/sub', '/p'), '/abs');
  assert.equal(rebasePath('~/x', '/p/sub', '/p'), '~/x');
  assert.equal(rebasePath('x', '/p', '/p'), 'x');
});
