/** Unit tests of the misspelling suggestions used in hints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, editDistance } from '../../src/validate/index.js';

test('editDistance counts an adjacent swap as one edit', () => {
  assert.equal(editDistance('environment', 'environment'), 0);
  assert.equal(editDistance('enviroment', 'environment'), 1);
  assert.equal(editDistance('depnedson', 'dependson'), 1);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('didYouMean finds close names and ignores far ones', () => {
  const keys = ['environment', 'entrypoint', 'env_file', 'expose', 'extends'];
  assert.equal(didYouMean('enviroment', keys), 'environment');
  assert.equal(didYouMean('ENVIRONMENT', keys), 'environment');
  assert.equal(didYouMean('exposse', keys), 'expose');
  assert.equal(didYouMean('volumes', keys), undefined);
  assert.equal(didYouMean('dbb', ['api', 'cache', 'db']), 'db');
  // Short words allow one edit only, or every three-letter name would match.
  assert.equal(didYouMean('xyz', ['abc', 'db']), undefined);
  // Ties go to the alphabetically first candidate, so hints are stable.
  assert.equal(didYouMean('dc', ['dd', 'db']), 'db');
});
