/** depends_on: list and map forms, defaults, and dependencies implied by links, namespaces and volumes_from. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const serviceOf = (app: Record<string, unknown>): Record<string, unknown> =>
  normalize(loadedFrom({ services: { app: { image: 'x', ...app }, db: { image: 'db' }, cache: { image: 'c' } } })).services.get('app')! as Record<string, unknown>;

test('list form becomes service_started, required', () => {
  assert.deepEqual(serviceOf({ depends_on: ['db', 'cache'] }).depends_on, {
    db: { condition: 'service_started', required: true },
    cache: { condition: 'service_started', required: true },
  });
});

test('map form fills condition and required, keeps restart only when true', () => {
  assert.deepEqual(serviceOf({ depends_on: { db: { condition: 'service_healthy', restart: true }, cache: { required: false, restart: false } } }).depends_on, {
    db: { condition: 'service_healthy', restart: true, required: true },
    cache: { condition: 'service_started', required: false },
  });
});

test('links, network_mode service: and volumes_from add dependencies unless already declared', () => {
  const service = serviceOf({ links: ['db:database'], network_mode: 'service:cache', volumes_from: ['db:ro', 'container:other'], depends_on: { cache: { condition: 'service_healthy' } } });
  assert.deepEqual(service.depends_on, {
    cache: { condition: 'service_healthy', required: true },
    db: { condition: 'service_started', restart: true, required: true },
  });
});

test('an unknown condition is an error with the allowed values', () => {
  assert.throws(() => serviceOf({ depends_on: { db: { condition: 'service_ready' } } }), (error: Error & { hint?: string }) => {
    assert.equal(error.message, 'unknown depends_on condition "service_ready"');
    assert.match(error.hint ?? '', /service_healthy/);
    return true;
  });
});
