/** toComposeDocument: compose's key order, metadata left out, JSON-only nulls, unused resources dropped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, toComposeDocument, withoutUnusedResources } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const project = withoutUnusedResources(normalize(loadedFrom({
  'x-top': 1,
  services: { web: { ports: ['80'], image: 'x', volumes: ['data:/d'] }, api: { image: 'y' } },
  volumes: { data: {}, unused: {} },
})));

test('top level and services in compose order; no source or name metadata', () => {
  const document = toComposeDocument(project, { format: 'json' });
  assert.deepEqual(Object.keys(document), ['name', 'services', 'networks', 'volumes', 'x-top']);
  const services = document.services as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(services), ['api', 'web']);
  assert.deepEqual(Object.keys(services.web), ['command', 'entrypoint', 'image', 'networks', 'ports', 'volumes']);
  assert.deepEqual(Object.keys((services.web.ports as object[])[0]), ['mode', 'target', 'protocol']);
  assert.equal(services.web.command, null);
  assert.deepEqual(document.volumes, { data: { name: 'demo_data' } });
});

test('YAML leaves out null command/entrypoint and empty ipam', () => {
  const document = toComposeDocument(project, { format: 'yaml' });
  const web = (document.services as Record<string, Record<string, unknown>>).web;
  assert.equal('command' in web, false);
  assert.deepEqual(document.networks, { default: { name: 'demo_default' } });
});
