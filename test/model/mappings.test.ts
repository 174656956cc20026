/** labels, sysctls, extra_hosts and string-or-list attributes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const serviceOf = (app: Record<string, unknown>): Record<string, unknown> =>
  normalize(loadedFrom({ services: { app: { image: 'x', ...app } } })).services.get('app')! as Record<string, unknown>;

test('labels and sysctls: list or map into a string map', () => {
  const service = serviceOf({ labels: ['a=1', 'flag'], sysctls: { 'net.core.somaxconn': 1024 } });
  assert.deepEqual(service.labels, { a: '1', flag: '' });
  assert.deepEqual(service.sysctls, { 'net.core.somaxconn': '1024' });
});

test('extra_hosts: host:ip, host=ip and maps print as host=ip', () => {
  assert.deepEqual(serviceOf({ extra_hosts: ['a:1.2.3.4', 'b=::1', 'c:[::2]'] }).extra_hosts, ['a=1.2.3.4', 'b=::1', 'c=::2']);
  assert.deepEqual(serviceOf({ extra_hosts: { a: '1.2.3.4', m: ['10.0.0.1', '10.0.0.2'] } }).extra_hosts, ['a=1.2.3.4', 'm=10.0.0.1', 'm=10.0.0.2']);
});

test('dns, tmpfs and friends: one string becomes a list', () => {
  const service = serviceOf({ dns: '8.8.8.8', tmpfs: ['/run', '/tmp'], expose: [80, '90/udp'] });
  assert.deepEqual(service.dns, ['8.8.8.8']);
  assert.deepEqual(service.tmpfs, ['/run', '/tmp']);
  assert.deepEqual(service.expose, ['80', '90/udp']);
});
