// include: short and long forms, paths relative to the including file, own project directory and env, cycles, conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorOf, loadFixture, services } from './fixture.js';

test('included services, networks and volumes join the project', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n',
    'db/compose.yaml': 'services:\n  db:\n    image: postgres\n    volumes: [data:/var/lib/postgresql/data]\nvolumes:\n  data: {}\nnetworks:\n  back: {}\n',
  });
  assert.deepEqual(Object.keys(services(loaded)).sort(), ['db', 'web']);
  assert.deepEqual(loaded.document.volumes, { data: {} });
  assert.deepEqual(loaded.document.networks, { back: {} });
  assert.equal(loaded.document.include, undefined);
});

test('relative paths of an included file are rebased onto the project directory', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include:\n  - sub/compose.yaml\n',
    'sub/compose.yaml': 'services:\n  app:\n    build: ./src\n    env_file: app.env\n    volumes: ["./conf:/etc/app", "named:/data"]\n    develop:\n      watch:\n        - path: ./src\n          action: sync\n          target: /app\nsecrets:\n  key:\n    file: ./key.txt\n',
  });
  const app = services(loaded).app;
  assert.deepEqual(app.develop, { watch: [{ path: './sub/src', action: 'sync', target: '/app' }] });
  assert.equal(app.build, './sub/src');
  assert.equal(app.env_file, './sub/app.env');
  assert.deepEqual(app.volumes, ['./sub/conf:/etc/app', 'named:/data']);
  assert.deepEqual(loaded.document.secrets, { key: { file: './sub/key.txt' } });
});

test('long form: project_directory and env_file', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include:\n  - path: defs/compose.yaml\n    project_directory: app-root\n    env_file: defs/inc.env\n',
    'defs/compose.yaml': 'services:\n  app:\n    image: "app:${TAG}"\n    build: ./ctx\n',
    'defs/inc.env': 'TAG=from-include-env\n',
  });
  assert.equal(services(loaded).app.image, 'app:from-include-env');
  assert.equal(services(loaded).app.build, './app-root/ctx');
});

test('the included project reads .env from its own directory; the includer\'s variables win', async (t) => {
  const files = {
    'compose.yaml': 'include:\n  - sub/compose.yaml\n',
    'sub/compose.yaml': 'services:\n  app:\n    image: "${A}-${B}"\n',
    'sub/.env': 'A=sub-a\nB=sub-b\n',
    '.env': 'B=main-b\n',
  };
  assert.equal(services(await loadFixture(t, files)).app.image, 'sub-a-main-b');
});

test('a list of paths merges like override files', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include:\n  - path: [a.yaml, b.yaml]\n',
    'a.yaml': 'services:\n  s:\n    image: a\n    ports: ["1:1"]\n',
    'b.yaml': 'services:\n  s:\n    ports: ["2:2"]\n',
  });
  assert.deepEqual(services(loaded).s, { image: 'a', ports: ['1:1', '2:2'] });
});

test('nested includes resolve relative to each including file', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include: [a/compose.yaml]\n',
    'a/compose.yaml': 'include: [b/compose.yaml]\nservices:\n  a:\n    image: a\n',
    'a/b/compose.yaml': 'services:\n  b:\n    build: .\n',
  });
  assert.deepEqual(Object.keys(services(loaded)).sort(), ['a', 'b']);
  assert.equal(services(loaded).b.build, './a/b');
});

test('an include cycle is an error showing the chain', async (t) => {
  const error = await errorOf(() => loadFixture(t, {
    'compose.yaml': 'include: [a.yaml]\nservices: {}\n',
    'a.yaml': 'include: [b.yaml]\n',
    'b.yaml': 'include: [a.yaml]\n',
  }));
  assert.equal(error.message, 'include cycle: compose.yaml -> a.yaml -> b.yaml -> a.yaml');
});

test('a service defined both in an include and in the including file is an error', async (t) => {
  const error = await errorOf(() => loadFixture(t, {
    'compose.yaml': 'include: [other.yaml]\nservices:\n  web:\n    image: mine\n',
    'other.yaml': 'services:\n  web:\n    image: theirs\n',
  }));
  assert.equal(error.message, 'service "web" is defined both here and in included file "other.yaml"');
  assert.deepEqual(error.source, { file: 'compose.yaml', line: 4, column: 5, path: 'services.web' });
});

test('identical definitions on both sides are no conflict', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include: [other.yaml]\nnetworks:\n  shared: {}\n',
    'other.yaml': 'networks:\n  shared: {}\n',
  });
  assert.deepEqual(loaded.document.networks, { shared: {} });
});

test('a missing included file is an error', async (t) => {
  await assert.rejects(() => loadFixture(t, { 'compose.yaml': 'include: [nope.yaml]\n' }), /compose file ".*nope\.yaml" not found/);
});

test('an include env_file may use the including project\'s variables', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'include:\n  - path: sub/compose.yaml\n    env_file: sub/x.env\n',
    'sub/compose.yaml': 'services:\n  app:\n    image: "${IMG}"\n',
    'sub/x.env': 'IMG=app:${VERSION}\n',
  }, { env: { VERSION: '7' } });
  assert.equal(services(loaded).app.image, 'app:7');
});

test('a file including itself is a cycle', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'include: [compose.yaml]\n' }));
  assert.equal(error.message, 'include cycle: compose.yaml -> compose.yaml');
  assert.equal(error.source?.line, 1);
});
