/** volumes: short syntax becomes long form; bind sources are absolute; named volumes get `volume: {}`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const volumesOf = (volumes: unknown[], resolvePaths = true): unknown =>
  normalize(loadedFrom({ services: { app: { image: 'x', volumes } }, volumes: { data: {} } }), { resolvePaths }).services.get('app')!.volumes;

test('short binds resolve against the project directory and get create_host_path', () => {
  assert.deepEqual(volumesOf(['./src:/app:ro', '/etc/hosts:/etc/hosts']), [
    { type: 'bind', source: '/srv/demo/src', target: '/app', read_only: true, bind: { create_host_path: true } },
    { type: 'bind', source: '/etc/hosts', target: '/etc/hosts', bind: { create_host_path: true } },
  ]);
});

test('named and anonymous volumes get an empty volume mapping', () => {
  assert.deepEqual(volumesOf(['data:/data', '/scratch']), [
    { type: 'volume', source: 'data', target: '/data', volume: {} },
    { type: 'volume', target: '/scratch', volume: {} },
  ]);
});

test('long syntax is kept, only bind sources are resolved', () => {
  assert.deepEqual(volumesOf([{ type: 'bind', source: 'conf', target: '/conf' }, { type: 'tmpfs', target: '/tmp' }]), [
    { type: 'bind', source: '/srv/demo/conf', target: '/conf' },
    { type: 'tmpfs', target: '/tmp' },
  ]);
});

test('--no-path-resolution keeps relative sources as written', () => {
  assert.deepEqual(volumesOf(['./src:/app']), [{ type: 'bind', source: '/srv/demo/src', target: '/app', bind: { create_host_path: true } }]);
  assert.deepEqual(volumesOf(['./src:/app'], false), [{ type: 'bind', source: './src', target: '/app', bind: { create_host_path: true } }]);
});

test('a bad short volume reports the entry', () => {
  assert.throws(() => volumesOf(['data:relative']), /invalid volume "data:relative": target "relative" must be an absolute path/);
});
