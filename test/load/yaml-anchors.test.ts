// YAML anchors, aliases, merge keys (single and list) and x- extension fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, services } from './fixture.js';

test('aliases copy anchored values', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'x-env: &env\n  A: "1"\nservices:\n  a:\n    image: x\n    environment: *env\n  b:\n    image: y\n    environment: *env\n' });
  assert.deepEqual(services(loaded).a.environment, { A: '1' });
  assert.deepEqual(services(loaded).b.environment, { A: '1' });
  assert.notEqual(services(loaded).a.environment, services(loaded).b.environment, 'each alias gets its own copy');
});

test('a merge key merges one mapping; explicit keys win wherever they are written', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'x-base: &base\n  image: base\n  restart: always\nservices:\n  web:\n    image: mine\n    <<: *base\n' });
  assert.deepEqual(services(loaded).web, { image: 'mine', restart: 'always' });
});

test('a merge key with a list: earlier mappings win', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'x-a: &a\n  image: a\n  tty: true\nx-b: &b\n  image: b\n  init: true\nservices:\n  web:\n    <<: [*a, *b]\n' });
  assert.deepEqual(services(loaded).web, { image: 'a', tty: true, init: true });
});

test('x- extension fields are kept at top level and in services', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'x-top: 1\nservices:\n  web:\n    image: a\n    x-note: hi\n' });
  assert.equal(loaded.document['x-top'], 1);
  assert.equal(services(loaded).web['x-note'], 'hi');
});

test('values merged from an anchor keep the anchor position', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'x-base: &base\n  restart: always\nservices:\n  web:\n    image: a\n    <<: *base\n' });
  assert.deepEqual(loaded.sources.lookup(['services', 'web', 'restart']), { file: 'compose.yaml', line: 2, column: 12, path: 'services.web.restart' });
});

test('an alias to an unknown anchor is an error', async (t) => {
  await assert.rejects(() => loadFixture(t, { 'compose.yaml': 'services:\n  web: *nope\n' }), /unknown|alias|nope/i);
});

test('an alias refers to the latest anchor of that name written before it', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'x-a: &y {k: &x 1}\nx-b: &x 2\nx-c: *y\nx-d: *x\nservices: {}\n' });
  assert.deepEqual(loaded.document['x-c'], { k: 1 });
  assert.equal(loaded.document['x-d'], 2);
});
