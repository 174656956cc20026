// Merging environment, labels, extra_hosts, sysctls (list or map forms) and ulimits as maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, services } from './fixture.js';

test('environment: map onto list gives a map, later values win', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    environment: [A=1, B=2, C]\n',
    'compose.override.yaml': 'services:\n  web:\n    environment:\n      B: "3"\n      D: "4"\n',
  });
  assert.deepEqual(services(loaded).web.environment, { A: '1', B: '3', C: null, D: '4' });
});

test('environment: two lists stay a list merged by key', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    environment: [A=1, B=2]\n',
    'compose.override.yaml': 'services:\n  web:\n    environment: [B=3, C=4]\n',
  });
  assert.deepEqual(services(loaded).web.environment, ['A=1', 'B=3', 'C=4']);
});

test('labels and sysctls merge by key', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    labels: {a: "1", b: "2"}\n    sysctls: [net.core.somaxconn=1024]\n',
    'compose.override.yaml': 'services:\n  web:\n    labels: [b=3]\n    sysctls:\n      net.core.somaxconn: 2048\n      net.ipv4.tcp_syncookies: 0\n',
  });
  assert.deepEqual(services(loaded).web.labels, { a: '1', b: '3' });
  assert.deepEqual(services(loaded).web.sysctls, { 'net.core.somaxconn': 2048, 'net.ipv4.tcp_syncookies': 0 });
});

test('extra_hosts merge by host name (host:ip and host=ip forms)', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    extra_hosts: ["db:10.0.0.1", "cache=10.0.0.2"]\n',
    'compose.override.yaml': 'services:\n  web:\n    extra_hosts: ["db:10.0.0.9", "v6:::1"]\n',
  });
  assert.deepEqual(services(loaded).web.extra_hosts, ['db:10.0.0.9', 'cache=10.0.0.2', 'v6:::1']);
});

test('ulimits merge by name; each limit is replaced whole', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    ulimits:\n      nproc: 65535\n      nofile: {soft: 1, hard: 2}\n',
    'compose.override.yaml': 'services:\n  web:\n    ulimits:\n      nofile: {soft: 10}\n',
  });
  assert.deepEqual(services(loaded).web.ulimits, { nproc: 65535, nofile: { soft: 10 } });
});
