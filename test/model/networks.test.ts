/** networks: list/map forms, the implicit default network, network_mode, and top-level names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

test('a service without networks joins default, which is added as <project>_default', () => {
  const project = normalize(loadedFrom({ services: { app: { image: 'x' } } }));
  assert.deepEqual(project.services.get('app')!.networks, { default: null });
  const network = project.networks.get('default')!;
  assert.equal(network.name, 'demo_default');
  assert.deepEqual(network.ipam, {});
});

test('network_mode means no networks and no default network', () => {
  const project = normalize(loadedFrom({ services: { app: { image: 'x', network_mode: 'host' } } }));
  assert.equal(project.services.get('app')!.networks, undefined);
  assert.equal(project.networks.has('default'), false);
});

test('list and map forms; names follow compose rules for external and named networks', () => {
  const project = normalize(loadedFrom({
    services: { app: { image: 'x', networks: ['front'] }, db: { image: 'y', networks: { back: { aliases: ['database'] }, front: null } } },
    networks: { front: {}, back: { name: 'backend' }, ext: { external: true }, legacy: { external: { name: 'old' } } },
  }));
  assert.deepEqual(project.services.get('app')!.networks, { front: null });
  assert.deepEqual(project.services.get('db')!.networks, { back: { aliases: ['database'] }, front: null });
  assert.deepEqual([...project.networks.values()].map((n) => [n.key, n.name, n.external ?? false]), [
    ['back', 'backend', false], ['ext', 'ext', true], ['front', 'demo_front', false], ['legacy', 'old', true],
  ]);
});
