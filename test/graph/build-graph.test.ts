/** buildGraph: start/stop order, dependents, resources, cycles and unknown dependencies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphError } from '../../src/errors.js';
import { buildGraph } from '../../src/graph/index.js';
import { normalize } from '../../src/model/index.js';
import { loadedFrom } from '../model/loaded.js';

const projectOf = (services: Record<string, unknown>, volumes: Record<string, unknown> = {}) => normalize(loadedFrom({ services, volumes }));

test('dependencies start first and stop last; dependents and dependencies are transitive', () => {
  const graph = buildGraph(projectOf({
    web: { image: 'x', depends_on: ['api'] },
    api: { image: 'x', depends_on: { db: { condition: 'service_healthy' } }, links: ['cache'] },
    db: { image: 'x', volumes: ['data:/d'] },
    cache: { image: 'x' },
  }, { data: {} }));
  assert.deepEqual(graph.startOrder, ['cache', 'db', 'api', 'web']);
  assert.deepEqual(graph.stopOrder, ['web', 'api', 'db', 'cache']);
  assert.deepEqual(graph.dependents('db'), ['api', 'web']);
  assert.deepEqual(graph.dependents('db', { direct: true }), ['api']);
  assert.deepEqual(graph.dependencies('web'), ['api', 'cache', 'db']);
  assert.deepEqual(graph.resources('db'), ['network:default', 'volume:data']);
});

test('a cycle names the whole loop, visited in sorted order', () => {
  const project = projectOf({
    worker: { image: 'x', depends_on: ['api'] },
    api: { image: 'x', depends_on: ['worker'] },
    web: { image: 'x', depends_on: ['api'] },
  });
  assert.throws(() => buildGraph(project), (error: GraphError) => {
    assert.ok(error instanceof GraphError);
    assert.equal(error.message, 'dependency cycle: "api" → "worker" → "api"');
    assert.equal(error.source?.path, 'services.api');
    return true;
  });
});

test('namespace sharing and volumes_from take part in cycles too', () => {
  const project = projectOf({ a: { image: 'x', network_mode: 'service:b' }, b: { image: 'x', volumes_from: ['a'] } });
  assert.throws(() => buildGraph(project), /dependency cycle: "a" → "b" → "a"/);
});

test('an unknown dependency names the service, the place and the likely intended name', () => {
  const project = projectOf({ web: { image: 'x', depends_on: ['dbb'] }, db: { image: 'x' }, cache: { image: 'x' } });
  assert.throws(() => buildGraph(project), (error: GraphError) => {
    assert.equal(error.message, 'service "web" depends on undefined service "dbb"');
    assert.equal(error.hint, 'defined services are "cache", "db", "web"; did you mean "db"?');
    assert.equal(error.source?.path, 'services.web.depends_on.dbb');
    return true;
  });
});
