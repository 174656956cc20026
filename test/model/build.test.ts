/** build: string and long forms, absolute context, Dockerfile default, args from the environment. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const buildOf = (build: unknown, environment: Record<string, string> = {}): unknown =>
  normalize(loadedFrom({ services: { app: { build } } }, { environment })).services.get('app')!.build;

test('a context string becomes {context, dockerfile: Dockerfile}', () => {
  assert.deepEqual(buildOf('./app'), { context: '/srv/demo/app', dockerfile: 'Dockerfile' });
  assert.deepEqual(buildOf('.'), { context: '/srv/demo', dockerfile: 'Dockerfile' });
});

test('long form: default context, list args into a map, dockerfile_inline without dockerfile', () => {
  assert.deepEqual(buildOf({ args: ['A=1', 'FROM_ENV', 'UNSET'] }, { FROM_ENV: 'e' }), {
    context: '/srv/demo', dockerfile: 'Dockerfile', args: { A: '1', FROM_ENV: 'e', UNSET: null },
  });
  assert.deepEqual(buildOf({ dockerfile_inline: 'FROM busybox' }), { context: '/srv/demo', dockerfile_inline: 'FROM busybox' });
});

test('remote contexts stay as written', () => {
  assert.deepEqual(buildOf('https://example.com/repo.git'), { context: 'https://example.com/repo.git', dockerfile: 'Dockerfile' });
});
