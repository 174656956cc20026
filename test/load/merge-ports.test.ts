// Merging ports: entries with the same (host ip, published, target, protocol) appear once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortIdentity } from '../../src/load/index.js';
import { loadFixture, services } from './fixture.js';

test('ports append, and an identical port is not doubled', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    ports: ["8080:80", "127.0.0.1:53:53/udp"]\n',
    'compose.override.yaml': 'services:\n  web:\n    ports:\n      - "8080:80"\n      - target: 53\n        published: "53"\n        host_ip: 127.0.0.1\n        protocol: udp\n      - "9090:90"\n',
  });
  assert.deepEqual(services(loaded).web.ports, ['8080:80', { target: 53, published: '53', host_ip: '127.0.0.1', protocol: 'udp' }, '9090:90']);
});

test('same target on another protocol or host port is another port', async (t) => {
  const loaded = await loadFixture(t, {
    'compose.yaml': 'services:\n  web:\n    image: a\n    ports: ["53:53"]\n',
    'compose.override.yaml': 'services:\n  web:\n    ports: ["53:53/udp", "54:53"]\n',
  });
  assert.deepEqual(services(loaded).web.ports, ['53:53', '53:53/udp', '54:53']);
});

test('port short syntax identities', () => {
  assert.deepEqual(parsePortIdentity('80'), { hostIp: '', published: '', target: '80', protocol: 'tcp' });
  assert.deepEqual(parsePortIdentity('127.0.0.1:8080:80/udp'), { hostIp: '127.0.0.1', published: '8080', target: '80', protocol: 'udp' });
  assert.deepEqual(parsePortIdentity('[::1]:8080:80'), { hostIp: '::1', published: '8080', target: '80', protocol: 'tcp' });
  assert.deepEqual(parsePortIdentity(3000), { hostIp: '', published: '', target: '3000', protocol: 'tcp' });
});
