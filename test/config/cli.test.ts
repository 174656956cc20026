/** `berth config` list modes, hashes, quiet, explain, output file and `berth graph` through the real CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBerth } from '../helpers/cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
const project = path.join(dir, 'shop');
fs.mkdirSync(project);
fs.writeFileSync(path.join(project, 'compose.yaml'), `services:
  web:
    image: nginx:\${NGINX_TAG:-1.25}
    ports: ["\${WEB_PORT}:80"]
    depends_on:
      api: {condition: service_started}
  api:
    build: ./api
    depends_on:
      db: {condition: service_healthy}
    volumes: [uploads:/uploads]
    networks: [back, default]
  db:
    image: postgres
    profiles: [db]
  debug:
    image: busybox
    profiles: [debug, tools]
volumes:
  uploads: {}
networks:
  back: {}
`);
fs.writeFileSync(path.join(project, 'compose.override.yaml'), `services:
  web:
    environment:
      MODE: dev
`);
fs.writeFileSync(path.join(project, '.env'), 'WEB_PORT=8080\n');
const env = { HOME: '/home/tester', COMPOSE_FILE: undefined, COMPOSE_PROJECT_NAME: undefined, COMPOSE_PROFILES: 'db' };
const berth = (...args: string[]) => runBerth(args, { cwd: project, env });

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--services, --volumes, --networks, --profiles and --images print one name per line', () => {
  assert.equal(berth('config', '--services').stdout, 'api\ndb\nweb\n');
  assert.equal(berth('config', '--volumes').stdout, 'uploads\n');
  assert.equal(berth('config', '--networks').stdout, 'back\ndefault\n');
  assert.equal(berth('config', '--profiles').stdout, 'db\ndebug\ntools\n');
  assert.equal(berth('config', '--images').stdout, 'shop-api\npostgres\nnginx:1.25\n');
  assert.equal(berth('--profile', 'db', '--profile', 'tools', 'config', '--services').stdout, 'api\ndb\ndebug\nweb\n');
});

test('--hash prints "service hash" lines; the hash follows runtime changes only', () => {
  const all = berth('config', '--hash', '*');
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /^api [0-9a-f]{64}\ndb [0-9a-f]{64}\nweb [0-9a-f]{64}\n$/);
  const some = berth('config', '--hash', 'web,db');
  assert.deepEqual(some.stdout.split('\n').map((line) => line.split(' ')[0]), ['web', 'db', '']);
  const webHash = all.stdout.split('\n').find((line) => line.startsWith('web '));
  assert.ok(some.stdout.includes(`${webHash}\n`));
  const unknown = berth('config', '--hash', 'wbe');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /error: no such service: "wbe"\n {2}hint: defined services are "api", "db", "web"; did you mean "web"\?/);
});

test('--quiet prints nothing and exits 0 for a valid project, non-zero with the error otherwise', () => {
  const ok = berth('config', '--quiet');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, '');
  const broken = runBerth(['config', '-q'], { cwd: project, env: { ...env, COMPOSE_PROFILES: '' } });
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /service "api" depends on service "db", which is not enabled by the active profiles/);
  assert.doesNotMatch(broken.stderr, /at .*\.js:\d+/);
});

test('YAML output is compose-shaped: name first, services sorted, published ports quoted', () => {
  const result = berth('config');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^name: shop\nservices:\n {2}api:\n/);
  assert.match(result.stdout, /\n {4}ports:\n {6}- mode: ingress\n {8}target: 80\n {8}published: "8080"\n {8}protocol: tcp\n/);
  assert.doesNotMatch(result.stdout, /command: null|ipam/);
});

test('--explain shows where each value came from, with files and variables', () => {
  const result = berth('config', '--explain', 'web');
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.split('\n');
  assert.match(lines.find((line) => line.startsWith('environment.MODE'))!, /^environment\.MODE: "dev" +compose\.override\.yaml:4:13/);
  assert.match(lines.find((line) => line.startsWith('ports[0].published'))!, /compose\.yaml:4:13 .*from short syntax "8080:80".* from \$\{WEB_PORT\} = 8080 \(.*\.env.*\)/);
  assert.match(lines.find((line) => line.startsWith('depends_on.api.required'))!, /\(default\)/);
  const json = JSON.parse(berth('config', '--explain', 'web.image', '--format', 'json').stdout);
  assert.equal(json.length, 1);
  assert.equal(json[0].path, 'image');
  assert.equal(json[0].value, 'nginx:1.25');
  assert.equal(json[0].at, 'compose.yaml:3:12');
  const missing = berth('config', '--explain', 'nope');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no such service: "nope"/);
});

test('--environment, --no-normalize and -o', () => {
  assert.match(berth('config', '--environment').stdout, /^WEB_PORT=8080$/m);
  const raw = berth('config', '--no-normalize', '--format', 'json');
  assert.equal(raw.status, 0, raw.stderr);
  assert.deepEqual(JSON.parse(raw.stdout).services.web.ports, ['8080:80']);
  const out = path.join(dir, 'out.json');
  const written = berth('config', '--format', 'json', '-o', out);
  assert.equal(written.stdout, '');
  assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).name, 'shop');
});

test('usage errors: unknown format exits non-zero with a hint', () => {
  const result = berth('config', '--format', 'toml');
  assert.equal(result.status, 1);
  assert.equal(result.stderr, 'error: unknown format "toml"\n  hint: use --format yaml or --format json\n');
});

test('berth graph prints a tree, dot and mermaid', () => {
  const tree = berth('graph');
  assert.equal(tree.status, 0, tree.stderr);
  assert.equal(tree.stdout, 'web\n└── api (service_started)\n    └── db (service_healthy)\n');
  assert.match(berth('graph', '--format', 'dot').stdout, /^digraph "shop" \{\n[\s\S]*"api" -> "db" \[label="service_healthy"\];\n/);
  assert.match(berth('graph', '--format', 'mermaid').stdout, /^graph LR\n[\s\S]*s0 -->\|service_healthy\| s1\n/);
  assert.equal(berth('graph', '--format', 'png').status, 1);
});

test('-f - reads the compose file from stdin; --no-consistency prints a cyclic project', () => {
  const fromStdin = runBerth(['-f', '-', '-p', 'piped', 'config', '--format', 'json'], { cwd: dir, env, input: 'services:\n  a:\n    image: x\n    ports: [80]\n' });
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  assert.deepEqual(JSON.parse(fromStdin.stdout).services.a.ports, [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  const cyclic = 'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n';
  const checked = runBerth(['-f', '-', 'config', '-q'], { cwd: dir, env, input: cyclic });
  assert.equal(checked.status, 1);
  assert.match(checked.stderr, /^error: dependency cycle: "a" → "b" → "a"\n/);
  const unchecked = runBerth(['-f', '-', 'config', '--no-consistency', '--services'], { cwd: dir, env, input: cyclic });
  assert.equal(unchecked.stdout, 'a\nb\n');
});
