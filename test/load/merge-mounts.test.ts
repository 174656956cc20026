// Merging volumes, secrets and configs by the path they are mounted at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, services } from './fixture.js';

test('volumes merge by target: the later mount of a path replaces the earlier', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    volumes: ["./a:/data", "logs:/logs", "/cache"]\n',
    'compose.override.yaml': 'services:\n  web:\n    volumes:\n      - ./b:/data:ro\n      - type: volume\n        source: other\n        target: /logs\n      - ./x:/extra\n',
  });
  assert.deepEqual(services(loaded).web.volumes, ['./b:/data:ro', { type: 'volume', source: 'other', target: '/logs' }, '/cache', './x:/extra']);
});

test('secrets merge by mount path (default /run/secrets/<name>)', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    secrets: [token, key]\n',
    'compose.override.yaml': 'services:\n  web:\n    secrets:\n      - source: token2\n        target: token\n      - cert\n',
  });
  assert.deepEqual(services(loaded).web.secrets, [{ source: 'token2', target: 'token' }, 'key', 'cert']);
});

test('configs merge by mount path (default /<name>)', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    configs: [app]\n',
    'compose.override.yaml': 'services:\n  web:\n    configs:\n      - source: app\n        target: /app\n        mode: 0440\n',
  });
  assert.deepEqual(services(loaded).web.configs, [{ source: 'app', target: '/app', mode: 0o440 }]);
});
