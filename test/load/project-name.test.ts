// Project name precedence (-p, COMPOSE_PROJECT_NAME, name:, directory) and its rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadCompose, normalizeProjectName } from '../../src/load/index.js';
import { errorOf, writeFixture } from './fixture.js';

const RULE = 'must contain only lowercase letters, decimal digits, dashes, and underscores, and must begin with a lowercase letter or decimal digit';

test('-p beats COMPOSE_PROJECT_NAME, which beats name:, which beats the directory', async (t) => {
  const dir = writeFixture(t, { 'My App.dir/compose.yaml': 'name: from-file\nservices: {}\n', 'plain/compose.yaml': 'services: {}\n' });
  const cwd = path.join(dir, 'My App.dir');
  assert.equal((await loadCompose({ cwd, env: { COMPOSE_PROJECT_NAME: 'from-env' }, projectName: 'from-flag' })).projectName, 'from-flag');
  assert.equal((await loadCompose({ cwd, env: { COMPOSE_PROJECT_NAME: 'from-env' } })).projectName, 'from-env');
  assert.equal((await loadCompose({ cwd, env: {} })).projectName, 'from-file');
  assert.equal((await loadCompose({ cwd: path.join(dir, 'plain'), env: {} })).projectName, 'plain');
});

test('the directory name is normalized: lowercase, other characters dropped', async (t) => {
  const dir = writeFixture(t, { '_My App.v2/compose.yaml': 'services: {}\n' });
  const loaded = await loadCompose({ cwd: path.join(dir, '_My App.v2'), env: {} });
  assert.equal(loaded.projectName, 'myappv2');
  assert.equal(normalizeProjectName('-_Foo_Bar'), 'foo_bar');
});

test('name: is interpolated', async (t) => {
  const dir = writeFixture(t, { 'compose.yaml': 'name: app-${STAGE:-dev}\nservices: {}\n' });
  assert.equal((await loadCompose({ cwd: dir, env: { STAGE: 'prod' } })).projectName, 'app-prod');
});

test('an invalid -p is an error stating the rule', async (t) => {
  const dir = writeFixture(t, { 'compose.yaml': 'services: {}\n' });
  const error = await errorOf(() => loadCompose({ cwd: dir, env: {}, projectName: 'My_App' }));
  assert.equal(error.message, `invalid project name "My_App" (from -p): ${RULE}`);
  assert.equal(error.hint, 'try "my_app"');
});

test('an invalid name: is an error at its line', async (t) => {
  const dir = writeFixture(t, { 'compose.yaml': 'services: {}\nname: "-bad"\n' });
  const error = await errorOf(() => loadCompose({ cwd: dir, env: {} }));
  assert.equal(error.message, `invalid project name "-bad": ${RULE}`);
  assert.deepEqual(error.source, { file: 'compose.yaml', line: 2, column: 7, path: 'name' });
});

test('an invalid COMPOSE_PROJECT_NAME is an error', async (t) => {
  const dir = writeFixture(t, { 'compose.yaml': 'services: {}\n' });
  const error = await errorOf(() => loadCompose({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'a b' } }));
  assert.match(error.message, /invalid project name "a b" \(from COMPOSE_PROJECT_NAME\)/);
});

test('COMPOSE_PROJECT_NAME in a compose file resolves to the project name', async (t) => {
  const dir = writeFixture(t, { 'Stack/compose.yaml': 'services:\n  web:\n    image: a\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n' });
  const cwd = path.join(dir, 'Stack');
  const fromDir = await loadCompose({ cwd, env: {} });
  assert.equal((fromDir.document.services as Record<string, Record<string, unknown>>).web.container_name, 'stack-web');
  assert.deepEqual(fromDir.warnings, []);
  const fromFlag = await loadCompose({ cwd, env: {}, projectName: 'flagged' });
  assert.equal((fromFlag.document.services as Record<string, Record<string, unknown>>).web.container_name, 'flagged-web');
});
