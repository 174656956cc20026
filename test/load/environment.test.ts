// Interpolation environment: .env, --env-file, COMPOSE_ENV_FILES, process env precedence, profiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorOf, loadFixture, services } from './fixture.js';

const COMPOSE = 'services:\n  web:\n    image: "${IMAGE}"\n    command: "${CMD:-none}"\n';

test('.env in the project directory feeds interpolation', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': COMPOSE, '.env': 'IMAGE=from-dotenv\n' });
  assert.equal(services(loaded).web.image, 'from-dotenv');
  assert.equal(loaded.environment.IMAGE, 'from-dotenv');
  assert.equal(loaded.envFiles.length, 1);
});

test('the process environment beats .env', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': COMPOSE, '.env': 'IMAGE=from-dotenv\n' }, { env: { IMAGE: 'from-shell' } });
  assert.equal(services(loaded).web.image, 'from-shell');
  assert.deepEqual(loaded.sources.origin(['services', 'web', 'image'])?.variables, [{ name: 'IMAGE', value: 'from-shell', from: 'environment' }]);
});

test('--env-file replaces .env; later files win; values name their file', async (t) => {
  const loaded = await loadFixture(
    t,
    { 'compose.yaml': COMPOSE, '.env': 'IMAGE=dotenv\nCMD=dotenv\n', 'a.env': 'IMAGE=a\nCMD=a\n', 'b.env': 'IMAGE=b\n' },
    { envFiles: ['a.env', 'b.env'] },
  );
  assert.equal(services(loaded).web.image, 'b');
  assert.equal(services(loaded).web.command, 'a');
  assert.deepEqual(loaded.sources.origin(['services', 'web', 'command'])?.variables, [{ name: 'CMD', value: 'a', from: '--env-file a.env' }]);
});

test('a missing --env-file is an error', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': COMPOSE }, { envFiles: ['missing.env'] }));
  assert.match(error.message, /env file ".*missing\.env" not found/);
});

test('COMPOSE_ENV_FILES names env files, comma-separated', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': COMPOSE, 'x.env': 'IMAGE=x\n', 'y.env': 'CMD=y\n' }, { env: { COMPOSE_ENV_FILES: 'x.env,y.env' } });
  assert.equal(services(loaded).web.image, 'x');
  assert.equal(services(loaded).web.command, 'y');
});

test('.env origins say ".env file"', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': COMPOSE, '.env': 'IMAGE=i\n' });
  const variables = loaded.sources.origin(['services', 'web', 'command'])?.variables;
  assert.deepEqual(loaded.sources.origin(['services', 'web', 'image'])?.variables, [{ name: 'IMAGE', value: 'i', from: '.env file .env' }]);
  assert.deepEqual(variables, [{ name: 'CMD', value: undefined, from: 'unset' }, { name: 'CMD', value: 'none', from: 'default' }]);
});

test('COMPOSE_PROFILES applies when no --profile is given; --profile replaces it', async (t) => {
  const files = { 'compose.yaml': 'services: {}\n', '.env': 'COMPOSE_PROFILES=debug, tools\n' };
  assert.deepEqual((await loadFixture(t, files)).profiles, ['debug', 'tools']);
  assert.deepEqual((await loadFixture(t, files, { profiles: ['web'] })).profiles, ['web']);
});

test('an unset variable without default becomes blank with a warning', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': COMPOSE });
  assert.equal(services(loaded).web.image, '');
  assert.deepEqual(loaded.warnings, ['the "IMAGE" variable is not set, defaulting to a blank string']);
});

test('COMPOSE_DISABLE_ENV_FILE skips the default .env', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': COMPOSE, '.env': 'IMAGE=from-dotenv\n' }, { env: { COMPOSE_DISABLE_ENV_FILE: 'true' } });
  assert.equal(services(loaded).web.image, '');
  assert.deepEqual(loaded.envFiles, []);
});
