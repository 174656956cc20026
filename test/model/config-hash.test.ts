/** serviceConfigHash: stable, changes with runtime fields, ignores scale, profiles, depends_on and build. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, serviceConfigHash } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const hashOf = (app: Record<string, unknown>): string =>
  serviceConfigHash(normalize(loadedFrom({ services: { app: { image: 'x', ...app }, db: { image: 'y' } } })).services.get('app')!);

test('the hash is a sha256 hex and does not depend on key order', () => {
  const a = hashOf({ environment: { A: '1', B: '2' }, ports: ['80'] });
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(hashOf({ ports: ['80'], environment: { B: '2', A: '1' } }), a);
});

test('runtime fields change it; scale, replicas, profiles, depends_on and build do not', () => {
  const base = hashOf({});
  assert.notEqual(hashOf({ environment: { A: '1' } }), base);
  assert.notEqual(hashOf({ command: 'true' }), base);
  assert.equal(hashOf({ scale: 3 }), base);
  assert.equal(hashOf({ deploy: { replicas: 2 } }), base);
  assert.equal(hashOf({ profiles: ['p'] }), base);
  assert.equal(hashOf({ depends_on: ['db'] }), base);
  assert.equal(hashOf({ build: '.' }), base);
  assert.notEqual(hashOf({ deploy: { replicas: 2, resources: { limits: { memory: '1g' } } } }), base);
});
