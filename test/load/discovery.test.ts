// File discovery: default names in cwd and parents, override files, COMPOSE_FILE, -f and stdin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_FILE_NAMES, loadCompose } from '../../src/load/index.js';
import { errorOf, loadFixture, services, writeFixture } from './fixture.js';

test('finds compose.yaml in the working directory', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
  assert.deepEqual(Object.keys(services(loaded)), ['web']);
  assert.equal(path.basename(loaded.configFiles[0]), 'compose.yaml');
});

test('searches parent directories and uses the found file as project directory', async (t) => {
  const dir = writeFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: nginx\n', 'sub/deeper/.keep': '' });
  const loaded = await loadCompose({ cwd: path.join(dir, 'sub/deeper'), env: {} });
  assert.equal(loaded.projectDirectory, dir);
  assert.deepEqual(loaded.configFiles, [path.join(dir, 'compose.yaml')]);
});

test('prefers compose.yaml over docker-compose.yml', async (t) => {
  const loaded = await loadFixture(t, {
    'docker-compose.yml': 'services:\n  old:\n    image: a\n',
    'compose.yaml': 'services:\n  new:\n    image: b\n',
  });
  assert.deepEqual(Object.keys(services(loaded)), ['new']);
});

test('falls back to docker-compose.yml', async (t) => {
  const loaded = await loadFixture(t, { 'docker-compose.yml': 'services:\n  old:\n    image: a\n' });
  assert.deepEqual(Object.keys(services(loaded)), ['old']);
});

test('merges the matching override file after the discovered file', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: nginx\n',
    'compose.override.yaml': 'services:\n  web:\n    image: nginx:2\n',
    'docker-compose.override.yml': 'services:\n  web:\n    image: wrong\n',
  });
  assert.equal(services(loaded).web.image, 'nginx:2');
  assert.deepEqual(loaded.configFiles.map((f) => path.basename(f)), ['compose.yaml', 'compose.override.yaml']);
});

test('-f files skip discovery and the override file; relative to cwd', async (t) => {
  const loaded = await loadFixture(
    t,
    { 'compose.yaml': 'services:\n  a:\n    image: a\n', 'compose.override.yaml': 'services:\n  b:\n    image: b\n', 'other/x.yaml': 'services:\n  x:\n    image: x\n' },
    { files: ['compose.yaml', 'other/x.yaml'] },
  );
  assert.deepEqual(Object.keys(services(loaded)), ['a', 'x']);
  assert.equal(loaded.projectDirectory, path.dirname(loaded.configFiles[0]));
});

test('COMPOSE_FILE lists files split by ":" by default', async (t) => {
  const dir = writeFixture(t, { 'a.yaml': 'services:\n  a:\n    image: a\n', 'b.yaml': 'services:\n  b:\n    image: b\n' });
  const loaded = await loadCompose({ cwd: dir, env: { COMPOSE_FILE: 'a.yaml:b.yaml' } });
  assert.deepEqual(Object.keys(services(loaded)), ['a', 'b']);
});

test('COMPOSE_PATH_SEPARATOR changes the COMPOSE_FILE separator', async (t) => {
  const dir = writeFixture(t, { 'a.yaml': 'services:\n  a:\n    image: a\n', 'b.yaml': 'services:\n  b:\n    image: b\n' });
  const loaded = await loadCompose({ cwd: dir, env: { COMPOSE_FILE: 'a.yaml;b.yaml', COMPOSE_PATH_SEPARATOR: ';' } });
  assert.deepEqual(Object.keys(services(loaded)), ['a', 'b']);
});

test('COMPOSE_FILE can come from the .env file of the working directory', async (t) => {
  const dir = writeFixture(t, { '.env': 'COMPOSE_FILE=b.yaml\n', 'b.yaml': 'services:\n  b:\n    image: b\n' });
  const loaded = await loadCompose({ cwd: dir, env: {} });
  assert.deepEqual(Object.keys(services(loaded)), ['b']);
});

test('-f - reads stdin; the project directory is then the working directory', async (t) => {
  const dir = writeFixture(t, { 'base.yaml': 'services:\n  web:\n    image: nginx\n' });
  const loaded = await loadCompose({
    cwd: dir,
    env: {},
    files: ['base.yaml', '-'],
    readStdin: async () => 'services:\n  web:\n    image: from-stdin\n',
  });
  assert.equal(services(loaded).web.image, 'from-stdin');
  assert.deepEqual(loaded.configFiles, [path.join(dir, 'base.yaml'), '-']);
  const alone = await loadCompose({ cwd: dir, env: {}, files: ['-'], readStdin: async () => 'services:\n  s:\n    image: x\n' });
  assert.equal(alone.projectDirectory, dir);
  assert.equal(alone.sources.lookup(['services', 's', 'image'])?.file, '<stdin>');
});

test('--project-directory sets the directory relative paths and .env come from', async (t) => {
  const dir = writeFixture(t, { 'files/compose.yaml': 'services:\n  web:\n    image: "${IMG}"\n', 'proj/.env': 'IMG=from-proj\n' });
  const loaded = await loadCompose({ cwd: dir, env: {}, files: ['files/compose.yaml'], projectDirectory: 'proj' });
  assert.equal(loaded.projectDirectory, path.join(dir, 'proj'));
  assert.equal(services(loaded).web.image, 'from-proj');
});

test('no compose file anywhere is an error that says where berth looked', async (t) => {
  const stray = ['/tmp', '/'].flatMap((d) => DEFAULT_FILE_NAMES.map((n) => path.join(d, n))).filter((f) => fs.existsSync(f));
  if (stray.length > 0) return t.skip(`a parent of the temp dir holds a compose file: ${stray.join(', ')}`);
  const dir = writeFixture(t, { 'empty/.keep': '' });
  const error = await errorOf(() => loadCompose({ cwd: path.join(dir, 'empty'), env: {} }));
  assert.match(error.message, /no compose file found in ".*empty" or any parent directory/);
  assert.match(error.hint ?? '', /compose\.yaml/);
});

test('a missing -f file is an error naming it', async (t) => {
  const error = await errorOf(() => loadFixture(t, {}, { files: ['nope.yaml'] }));
  assert.match(error.message, /compose file ".*nope\.yaml" not found/);
});

test('with --project-directory and no -f, the search starts in the project directory', async (t) => {
  const dir = writeFixture(t, { 'proj/compose.yaml': 'services:\n  p:\n    image: p\n', 'elsewhere/.keep': '' });
  const loaded = await loadCompose({ cwd: path.join(dir, 'elsewhere'), env: {}, projectDirectory: '../proj' });
  assert.deepEqual(Object.keys(services(loaded)), ['p']);
  assert.equal(loaded.projectDirectory, path.join(dir, 'proj'));
});
