// The !reset and !override tags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, services } from './fixture.js';

const BASE = 'services:\n  web:\n    image: a\n    ports: ["80:80"]\n    environment:\n      A: "1"\n      B: "2"\n    build: ./app\n';

test('!reset removes a value set by an earlier file', async (t) => {
  const loaded = await loadFixture(
    t,
    { 'compose.yaml': BASE, 'compose.override.yaml': 'services:\n  web:\n    ports: !reset []\n    build: !reset null\n' },
  );
  assert.deepEqual(services(loaded).web, { image: 'a', environment: { A: '1', B: '2' } });
});

test('!override replaces instead of merging', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': BASE, 'compose.override.yaml': 'services:\n  web:\n    ports: !override ["81:81"]\n    environment: !override\n      C: "3"\n' });
  assert.deepEqual(services(loaded).web.ports, ['81:81']);
  assert.deepEqual(services(loaded).web.environment, { C: '3' });
});

test('!reset on a key no earlier file set just drops it', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: a\n    command: !reset null\n' });
  assert.deepEqual(services(loaded).web, { image: 'a' });
});

test('!reset and !override work with extends', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  base:\n    image: a\n    ports: ["1:1"]\n    labels: [x=1]\n  web:\n    extends: base\n    ports: !reset []\n    labels: !override [y=2]\n',
  });
  assert.deepEqual(services(loaded).web, { image: 'a', labels: ['y=2'] });
});
