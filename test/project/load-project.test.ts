/** loadProject: real files through load → validate → normalize → profiles → graph, in-process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphError, ValidationError } from '../../src/errors.js';
import { explainService, loadProject, loadProjectDetailed } from '../../src/project/index.js';

function projectDir(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const env = { PATH: process.env.PATH };

test('a project loads with services enabled by profile, unused resources dropped and the graph checked', async (t) => {
  const dir = projectDir(t, { 'compose.yaml': `name: shop
services:
  web:
    image: nginx
    depends_on: [api]
  api:
    image: api
    volumes: [data:/data]
  admin:
    image: admin
    profiles: [admin]
    networks: [adminnet]
volumes:
  data: {}
  spare: {}
networks:
  adminnet: {}
` });
  const project = await loadProject({ cwd: dir, env });
  assert.equal(project.name, 'shop');
  assert.equal(project.workingDir, dir);
  assert.deepEqual([...project.services.keys()], ['api', 'web']);
  assert.deepEqual([...project.disabledServices.keys()], ['admin']);
  assert.deepEqual([...project.volumes.keys()], ['data']);
  assert.deepEqual([...project.networks.keys()], ['default']);
  assert.deepEqual(project.profiles, ['admin']);
  assert.equal(path.basename(project.services.get('web')!.source.file), 'compose.yaml');
  assert.equal(project.services.get('web')!.source.path, 'services.web');
  const withAdmin = await loadProjectDetailed({ cwd: dir, env, profiles: ['admin'] });
  assert.deepEqual([...withAdmin.project.services.keys()], ['admin', 'api', 'web']);
  assert.deepEqual(withAdmin.graph?.startOrder, ['admin', 'api', 'web']);
});

test('validation problems and cycles surface as their error classes', async (t) => {
  const invalid = projectDir(t, { 'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports: "80"\n' });
  await assert.rejects(loadProject({ cwd: invalid, env }), ValidationError);
  const cyclic = projectDir(t, { 'compose.yaml': 'services:\n  a:\n    image: x\n    links: [b]\n  b:\n    image: x\n    depends_on: [a]\n' });
  await assert.rejects(loadProject({ cwd: cyclic, env }), (error: GraphError) => {
    assert.ok(error instanceof GraphError);
    assert.equal(error.message, 'dependency cycle: "a" → "b" → "a"');
    return true;
  });
});

test('explain follows values to the override file and the variables in them', async (t) => {
  const dir = projectDir(t, {
    'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports: ["${PORT}:80"]\n',
    'compose.override.yaml': 'services:\n  web:\n    image: nginx:${TAG:-1.25}\n',
    '.env': 'PORT=8080\n',
  });
  const { loaded, project } = await loadProjectDetailed({ cwd: dir, env });
  const explained = explainService(loaded, project, 'web');
  const image = explained.find((value) => value.path === 'image')!;
  assert.equal(image.value, 'nginx:1.25');
  assert.equal(image.at, 'compose.override.yaml:3:12');
  assert.deepEqual(image.variables, ['${TAG} = 1.25 (default)']);
  const published = explained.find((value) => value.path === 'ports[0].published')!;
  assert.equal(published.value, '8080');
  assert.match(published.via ?? '', /from short syntax "8080:80"/);
  assert.equal(published.variables?.length, 1);
  assert.match(published.variables![0], /^\$\{PORT\} = 8080 \(.*\.env.*\)$/);
  assert.equal(explained.find((value) => value.path === 'networks.default')?.via, 'default');
});

test('explain names the attribute behind an implied dependency and the env file behind a variable', async (t) => {
  const dir = projectDir(t, {
    'compose.yaml': 'services:\n  app:\n    image: x\n    links: [db]\n    env_file: [a.env, b.env]\n  db:\n    image: y\n',
    'a.env': 'ONE=a\nTWO=a\n',
    'b.env': 'TWO=b\n',
  });
  const { loaded, project } = await loadProjectDetailed({ cwd: dir, env });
  const explained = explainService(loaded, project, 'app');
  assert.equal(explained.find((value) => value.path === 'depends_on.db.restart')?.via, 'implied by links');
  assert.equal(explained.find((value) => value.path === 'environment.ONE')?.via, 'env_file a.env');
  assert.equal(explained.find((value) => value.path === 'environment.TWO')?.via, 'env_file b.env');
});
