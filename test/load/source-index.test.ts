// Source positions and origins in the merged document: main file, override files, includes, nearest ancestor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture } from './fixture.js';

const FILES = {
  'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n    environment:\n      A: "1"\ninclude:\n  - db/compose.yaml\n',
  'compose.override.yaml': 'services:\n  web:\n    ports:\n      - "443:443"\n    environment:\n      B: "${B:-two}"\n',
  'db/compose.yaml': 'services:\n  db:\n    image: postgres\n',
};

test('values of the main file point at their line and column', async (t) => {
  const loaded = await loadFixture(t, FILES);
  assert.deepEqual(loaded.sources.lookup(['services', 'web', 'image']), { file: 'compose.yaml', line: 3, column: 12, path: 'services.web.image' });
  assert.deepEqual(loaded.sources.lookup(['services', 'web', 'ports', 0]), { file: 'compose.yaml', line: 5, column: 9, path: 'services.web.ports[0]' });
  assert.equal(loaded.sources.origin(['services', 'web', 'image'])?.via, undefined);
});

test('values from the override file keep that file and say so', async (t) => {
  const loaded = await loadFixture(t, FILES);
  assert.deepEqual(loaded.sources.lookup(['services', 'web', 'ports', 1]), { file: 'compose.override.yaml', line: 4, column: 9, path: 'services.web.ports[1]' });
  const origin = loaded.sources.origin(['services', 'web', 'environment', 'B']);
  assert.equal(origin?.via, 'override file compose.override.yaml');
  assert.deepEqual(origin?.variables, [{ name: 'B', value: undefined, from: 'unset' }, { name: 'B', value: 'two', from: 'default' }]);
  assert.equal(loaded.sources.lookup(['services', 'web', 'environment', 'A'])?.file, 'compose.yaml');
});

test('values from an included file point into it', async (t) => {
  const loaded = await loadFixture(t, FILES);
  const origin = loaded.sources.origin(['services', 'db', 'image']);
  assert.deepEqual(origin?.source, { file: 'db/compose.yaml', line: 3, column: 12, path: 'services.db.image' });
  assert.equal(origin?.via, 'include db/compose.yaml');
});

test('unknown paths give the nearest ancestor position; origin needs an exact path', async (t) => {
  const loaded = await loadFixture(t, FILES);
  assert.deepEqual(loaded.sources.lookup(['services', 'web', 'nothing', 3]), { file: 'compose.yaml', line: 3, column: 5, path: 'services.web.nothing[3]' });
  assert.equal(loaded.sources.origin(['services', 'web', 'nothing']), undefined);
  assert.equal(loaded.sources.lookup([])?.line, 1);
});
