// extends: same file, other file, chains, rebased paths, excluded keys, cycles, missing targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorOf, loadFixture, services } from './fixture.js';

test('extends a service in the same file; local attributes merge on top', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  base:\n    image: a\n    environment: {A: "1"}\n    ports: ["1:1"]\n  web:\n    extends: base\n    environment: {B: "2"}\n    ports: ["2:2"]\n',
  });
  assert.deepEqual(services(loaded).web, { image: 'a', environment: { A: '1', B: '2' }, ports: ['1:1', '2:2'] });
  assert.deepEqual(services(loaded).base, { image: 'a', environment: { A: '1' }, ports: ['1:1'] });
});

test('extends from another file rebases its relative paths', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    extends:\n      file: common/services.yaml\n      service: app\n',
    'common/services.yaml': 'services:\n  app:\n    build: ./app\n    env_file: [app.env]\n    volumes: ["./data:/data", "/abs:/abs"]\n',
  });
  assert.deepEqual(services(loaded).web, { build: './common/app', env_file: ['./common/app.env'], volumes: ['./common/data:/data', '/abs:/abs'] });
});

test('chains resolve, through other files too', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  c:\n    extends: {file: lib/b.yaml, service: b}\n    tty: true\n',
    'lib/b.yaml': 'services:\n  b:\n    extends: {file: a.yaml, service: a}\n    init: true\n',
    'lib/a.yaml': 'services:\n  a:\n    image: a\n    build: .\n',
  });
  assert.deepEqual(services(loaded).c, { image: 'a', build: './lib', init: true, tty: true });
});

test('depends_on and volumes_from are not inherited', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  db:\n    image: db\n  base:\n    image: a\n    depends_on: [db]\n    volumes_from: [db]\n  web:\n    extends: base\n    depends_on: [other]\n  other:\n    image: o\n',
  });
  assert.deepEqual(services(loaded).web, { image: 'a', depends_on: ['other'] });
});

test('a cycle is an error with the chain', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' }));
  assert.equal(error.message, 'extends cycle: "a" -> "b" -> "a"');
});

test('extending a missing service is an error at the extends line', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: a\n    extends: bsae\n  base:\n    image: b\n' }));
  assert.equal(error.message, 'service "web" extends undefined service "bsae"');
  assert.deepEqual(error.source, { file: 'compose.yaml', line: 4, column: 14, path: 'services.web.extends' });
  assert.equal(error.hint, 'services defined there: "base", "web"');
});

test('extending from a missing file is an error at the extends line', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    extends:\n      file: nope.yaml\n      service: x\n' }));
  assert.match(error.message, /compose file ".*nope\.yaml" not found/);
  assert.equal(error.source?.line, 4);
});

test('values from an extended service remember where they came from', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    extends: {file: common.yaml, service: app}\n',
    'common.yaml': 'services:\n  app:\n    image: a\n',
  });
  assert.deepEqual(loaded.sources.origin(['services', 'web', 'image']), {
    source: { file: 'common.yaml', line: 3, column: 12, path: 'services.web.image' },
    via: 'extends "app" from common.yaml',
  });
});

test('a cycle through another file names the files', async (t) => {
  const error = await errorOf(() => loadFixture(t, {
    'compose.yaml': 'services:\n  a:\n    extends: {file: other.yaml, service: b}\n',
    'other.yaml': 'services:\n  b:\n    extends: {file: compose.yaml, service: a}\n',
  }));
  assert.equal(error.message, 'extends cycle: "a" -> "b" (other.yaml) -> "a"');
});

test('several services may extend the same base without sharing data', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  base:\n    image: a\n    labels: [x=1]\n  one:\n    extends: base\n    labels: [y=1]\n  two:\n    extends: base\n',
  });
  assert.deepEqual(services(loaded).one.labels, ['x=1', 'y=1']);
  assert.deepEqual(services(loaded).two.labels, ['x=1']);
  assert.deepEqual(services(loaded).base.labels, ['x=1']);
});
