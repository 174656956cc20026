// Merging sequences: command/entrypoint/healthcheck.test replaced, dns/tmpfs/env_file unique, others appended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, services } from './fixture.js';

test('command, entrypoint and healthcheck.test are replaced', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    command: [a, b]\n    entrypoint: [sh, -c]\n    healthcheck:\n      test: [CMD, x]\n      interval: 5s\n',
    'compose.override.yaml': 'services:\n  web:\n    command: [c]\n    entrypoint: /run.sh\n    healthcheck:\n      test: [CMD, y]\n',
  });
  assert.deepEqual(services(loaded).web.command, ['c']);
  assert.equal(services(loaded).web.entrypoint, '/run.sh');
  assert.deepEqual(services(loaded).web.healthcheck, { test: ['CMD', 'y'], interval: '5s' });
  assert.equal(loaded.sources.lookup(['services', 'web', 'command'])?.file, 'compose.override.yaml');
  assert.equal(loaded.sources.lookup(['services', 'web', 'healthcheck'])?.file, 'compose.yaml');
});

test('dns, dns_search, tmpfs and env_file append without duplicates', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    dns: 8.8.8.8\n    dns_search: [a.local]\n    tmpfs: [/tmp]\n    env_file: [a.env]\n',
    'compose.override.yaml': 'services:\n  web:\n    dns: [8.8.8.8, 1.1.1.1]\n    dns_search: [a.local, b.local]\n    tmpfs: /run\n    env_file:\n      - path: a.env\n        required: false\n      - b.env\n',
  });
  const web = services(loaded).web;
  assert.deepEqual(web.dns, ['8.8.8.8', '1.1.1.1']);
  assert.deepEqual(web.dns_search, ['a.local', 'b.local']);
  assert.deepEqual(web.tmpfs, ['/tmp', '/run']);
  assert.deepEqual(web.env_file, [{ path: 'a.env', required: false }, 'b.env']);
});

test('other sequences append', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    devices: ["/dev/a:/dev/a"]\n    x-list: [1]\n',
    'compose.override.yaml': 'services:\n  web:\n    devices: ["/dev/b:/dev/b"]\n    x-list: [1, 2]\n',
  });
  assert.deepEqual(services(loaded).web.devices, ['/dev/a:/dev/a', '/dev/b:/dev/b']);
  assert.deepEqual(services(loaded).web['x-list'], [1, 1, 2]);
});

test('scalars are replaced and mappings merge recursively', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits: {cpus: "1", memory: 1g}\nnetworks:\n  front: {driver: bridge}\n',
    'compose.override.yaml': 'services:\n  web:\n    image: b\n    deploy:\n      resources:\n        limits: {memory: 2g}\nnetworks:\n  front: {internal: true}\n',
  });
  assert.equal(services(loaded).web.image, 'b');
  assert.deepEqual(services(loaded).web.deploy, { resources: { limits: { cpus: '1', memory: '2g' } } });
  assert.deepEqual(loaded.document.networks, { front: { driver: 'bridge', internal: true } });
});
