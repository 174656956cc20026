// Merging depends_on, service networks and build (short and long forms) as maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, services } from './fixture.js';

test('depends_on merges as a map; the list form means service_started', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    depends_on: [db, cache]\n',
    'compose.override.yaml': 'services:\n  web:\n    depends_on:\n      db:\n        condition: service_healthy\n',
  });
  assert.deepEqual(services(loaded).web.depends_on, {
    db: { condition: 'service_healthy', required: true },
    cache: { condition: 'service_started', required: true },
  });
});

test('depends_on: two lists stay a list without duplicates', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    depends_on: [db]\n',
    'compose.override.yaml': 'services:\n  web:\n    depends_on: [db, cache]\n',
  });
  assert.deepEqual(services(loaded).web.depends_on, ['db', 'cache']);
});

test('service networks merge as a map', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    networks: [front]\n',
    'compose.override.yaml': 'services:\n  web:\n    networks:\n      back:\n        aliases: [api]\n',
  });
  assert.deepEqual(services(loaded).web.networks, { front: null, back: { aliases: ['api'] } });
});

test('build: a string becomes the context of the later long form', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    build: ./app\n',
    'compose.override.yaml': 'services:\n  web:\n    build:\n      dockerfile: Dockerfile.dev\n      args: [A=1]\n',
  });
  assert.deepEqual(services(loaded).web.build, { context: './app', dockerfile: 'Dockerfile.dev', args: ['A=1'] });
});
