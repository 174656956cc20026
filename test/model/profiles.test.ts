/** withProfiles: which services are enabled, and what happens to dependencies on disabled ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphError } from '../../src/errors.js';
import { normalize, withProfiles } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

const project = normalize(loadedFrom({ services: {
  app: { image: 'x' },
  debug: { image: 'x', profiles: ['debug'] },
  docs: { image: 'x', profiles: ['docs', 'tools'] },
} }));
const enabled = (profiles: string[], servicesNamed?: string[]): string[] => [...withProfiles(project, profiles, { servicesNamed }).services.keys()];

test('services without profiles are always enabled; profiles enable theirs; * enables all', () => {
  assert.deepEqual(enabled([]), ['app']);
  assert.deepEqual(enabled(['tools']), ['app', 'docs']);
  assert.deepEqual(enabled(['*']), ['app', 'debug', 'docs']);
  assert.deepEqual(project.profiles, ['debug', 'docs', 'tools']);
});

test('a service named on the command line is enabled with its profiles', () => {
  const derived = withProfiles(project, [], { servicesNamed: ['debug'] });
  assert.deepEqual([...derived.services.keys()], ['app', 'debug']);
  assert.deepEqual(derived.activeProfiles, ['debug']);
  assert.deepEqual([...derived.disabledServices.keys()], ['docs']);
});

test('a required dependency on a disabled service is an error; an optional one is dropped', () => {
  const withDeps = normalize(loadedFrom({ services: {
    app: { image: 'x', depends_on: { mock: { condition: 'service_started', required: false }, db: { condition: 'service_started' } } },
    db: { image: 'x', profiles: ['db'] },
    mock: { image: 'x', profiles: ['test'] },
  } }));
  assert.throws(() => withProfiles(withDeps, []), (error: GraphError) => {
    assert.ok(error instanceof GraphError);
    assert.equal(error.message, 'service "app" depends on service "db", which is not enabled by the active profiles');
    assert.equal(error.hint, 'enable it with --profile db, or mark the dependency "required: false"');
    return true;
  });
  const derived = withProfiles(withDeps, ['db']);
  assert.deepEqual(derived.services.get('app')!.depends_on, { db: { condition: 'service_started', required: true } });
});

test('selected services keep what they depend on, transitively; an unknown name is an error', async () => {
  const { withSelectedServices } = await import('../../src/model/index.js');
  const chain = normalize(loadedFrom({ services: {
    web: { image: 'x', depends_on: ['api'] }, api: { image: 'x', links: ['db'] }, db: { image: 'x' }, other: { image: 'x' },
  } }));
  assert.deepEqual([...withSelectedServices(chain, ['web']).services.keys()], ['api', 'db', 'web']);
  assert.deepEqual([...withSelectedServices(chain, []).services.keys()], ['api', 'db', 'other', 'web']);
  assert.throws(() => withSelectedServices(chain, ['wbe']), /no such service: "wbe"/);
});
