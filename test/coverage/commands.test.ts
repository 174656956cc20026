/**
 * Command flags of the stack lifecycle that the area tests leave out, with real containers and
 * Docker Compose v2 as the reference: `run` before any `up`, `create`, `up --no-start`, container_name,
 * `--no-recreate`, `--force-recreate`, `-V`, `--no-deps`, `up -t`, `stop -t`, `restart -t`,
 * `kill -s` with a catchable signal, `exec --index`, `run -p` / `--service-ports` / `--name`,
 * `rm` with and without `-v`, `down` leaving orphans unless `--remove-orphans`, `down --rmi
 * local|all`, `down -t`, `up --pull always --quiet-pull`, `--wait-timeout` running out, and attached
 * `up --attach X --no-color` on a terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cannotRunContainers } from '../runtime/runtimes.js';
import { runBerth } from '../helpers/cli.js';
import { freePort, startRegistry } from '../helpers/registry.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { plainText, startBerth } from '../logs/helpers.js';

const skip = cannotRunContainers();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GET http://127.0.0.1:port/ (the only address these tests talk to). */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      response.on('end', () => resolve(body));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
  });
}

async function getWhenUp(port: number): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await get(port);
    } catch (err) {
      if (i >= 40) throw err;
      await sleep(100);
    }
  }
}

const loop = (traps: string) => JSON.stringify(`${traps} echo ready; while true; do sleep 0.1; done`);
const httpd = (text: string) => JSON.stringify(`mkdir -p /w && echo ${text} > /w/index.html && exec httpd -f -p 80 -h /w`);

function composeA(project: string, ports: { web: number; tool: number }, options: { level?: string; extra?: boolean } = {}): string {
  return `name: ${project}
services:
  db:
    image: ${testImage}
    command: ["sh", "-c", ${loop("trap 'echo got USR1' USR1; trap 'exit 0' TERM;")}]
    volumes: ["/anon"]
  web:
    image: ${testImage}
    command: ["sh", "-c", ${httpd('web')}]
    stop_signal: SIGKILL
    environment: { LEVEL: ${options.level ?? 'one'} }
    ports: ["127.0.0.1:${ports.web}:80"]
    depends_on: [db]
  named:
    image: ${testImage}
    container_name: ${project}-custom
    command: ["sh", "-c", ${loop("trap 'echo ignoring TERM' TERM;")}]
    volumes: ["/keep"]
  app:
    build: ./app
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  tool:
    image: ${testImage}
    profiles: [tools]
    command: ["sh", "-c", ${httpd('tool')}]
    stop_signal: SIGKILL
    ports: ["127.0.0.1:${ports.tool}:80"]
${options.extra === false ? '' : `  extra:
    image: ${testImage}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
`}`;
}

interface PsEntry { Name: string; Service: string; State: string; ExitCode: number; Pid: number }

test('command flags on a real stack', { skip, timeout: 150_000 }, async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-cov-cmd-' });
  const project = `covcmd${process.pid}`;
  const ports = { web: await freePort(), tool: await freePort(), run: await freePort() };
  const dir = root.project(project, composeA(project, ports));
  mkdirSync(path.join(dir, 'app'));
  writeFileSync(path.join(dir, 'app', 'Dockerfile'), `FROM ${testImage}\nENV BUILT=1\n`);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  const ps = (...args: string[]): Record<string, PsEntry> => {
    const result = berth('ps', '-a', '--format', 'json', ...args);
    assert.equal(result.status, 0, result.stderr);
    return Object.fromEntries(result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as PsEntry).map((e) => [e.Name, e]));
  };
  const c = (service: string, n = 1) => `${project}-${service}-${n}`;
  const record = (name: string) => JSON.parse(readFileSync(path.join(root.root, 'projects', project, 'containers', name, 'record.json'), 'utf8')) as { anonymousVolumes?: string[] };
  const volumeExists = (name: string) => existsSync(path.join(root.root, 'volumes', name));
  t.after(() => {
    berth('--profile', 'tools', 'down', '-v', '-t', '0', '--remove-orphans');
    root.remove();
  });

  await t.test('run on a project that was never brought up makes the networks it needs', () => {
    const run = berth('run', '--rm', '-T', '--no-deps', 'db', 'sh', '-c', 'echo fresh; exit 3');
    assert.equal(run.stdout, 'fresh\n', run.stderr);
    assert.equal(run.status, 3);
  });

  await t.test('create SERVICE, then up --no-start: containers created, none started; start starts them', () => {
    const create = berth('create', 'db');
    assert.equal(create.status, 0, create.stderr);
    assert.deepEqual(Object.values(ps()).map((e) => `${e.Name}:${e.State}`), [`${c('db')}:created`]);
    const noStart = berth('up', '--no-start', 'web');
    assert.equal(noStart.status, 0, noStart.stderr);
    const all = ps();
    assert.deepEqual(Object.keys(all).sort(), [c('db'), c('web')]);
    assert.ok(Object.values(all).every((e) => e.State === 'created'), JSON.stringify(all));
    const start = berth('start');
    assert.equal(start.status, 0, start.stderr);
    const started = ps();
    assert.equal(started[c('web')].State, 'running');
    assert.equal(started[c('db')].State, 'running');
  });

  await t.test('up -d: container_name; the published port answers', async () => {
    const up = berth('up', '-d');
    assert.equal(up.status, 0, up.stderr);
    const all = ps();
    assert.equal(all[`${project}-custom`]?.State, 'running', Object.keys(all).join(', '));
    assert.equal(all[c('app')].State, 'running');
    assert.equal(await getWhenUp(ports.web), 'web\n');
  });

  await t.test('--no-recreate keeps a changed service; --no-deps leaves a stopped dependency stopped', async () => {
    const webPid = ps()[c('web')].Pid;
    writeFileSync(path.join(dir, 'compose.yaml'), composeA(project, ports, { level: 'two' }));
    const keep = berth('up', '-d', '--no-recreate');
    assert.equal(keep.status, 0, keep.stderr);
    assert.equal(ps()[c('web')].Pid, webPid, '--no-recreate left web as it was');
    assert.equal(berth('stop', 'db').status, 0);
    const noDeps = berth('up', '-d', '--no-deps', 'web');
    assert.equal(noDeps.status, 0, noDeps.stderr);
    const all = ps();
    assert.notEqual(all[c('web')].Pid, webPid, 'web recreated for its changed environment');
    assert.equal(all[c('web')].State, 'running');
    assert.equal(all[c('db')].State, 'exited', '--no-deps did not start db');
    assert.equal(berth('exec', '-T', 'web', 'sh', '-c', 'echo $LEVEL').stdout, 'two\n');
    assert.equal(berth('start', 'db').status, 0);
  });

  await t.test('--force-recreate keeps anonymous volumes; -V renews them', () => {
    assert.equal(berth('exec', '-T', 'db', 'sh', '-c', 'echo kept > /anon/file').status, 0);
    const dbPid = ps()[c('db')].Pid;
    const forced = berth('up', '-d', '--force-recreate', 'db');
    assert.equal(forced.status, 0, forced.stderr);
    assert.notEqual(ps()[c('db')].Pid, dbPid, 'recreated although nothing changed');
    assert.equal(berth('exec', '-T', 'db', 'cat', '/anon/file').stdout, 'kept\n', 'the anonymous volume came along');
    const renewed = berth('up', '-d', '--force-recreate', '-V', 'db');
    assert.equal(renewed.status, 0, renewed.stderr);
    assert.equal(berth('exec', '-T', 'db', 'sh', '-c', 'ls /anon | wc -l').stdout.trim(), '0', '-V: a fresh anonymous volume');
  });

  await t.test('kill -s USR1 reaches the process and leaves it running', async () => {
    const kill = berth('kill', '-s', 'SIGUSR1', 'db');
    assert.equal(kill.status, 0, kill.stderr);
    let logs = '';
    for (let i = 0; i < 30 && !/got USR1/.test(logs); i++) {
      await sleep(100);
      logs = berth('logs', '--no-log-prefix', 'db').stdout;
    }
    assert.match(logs, /^got USR1$/m);
    assert.equal(ps()[c('db')].State, 'running');
  });

  await t.test('stop -t, restart -t and up -t bound the wait for a container that ignores SIGTERM', () => {
    const custom = `${project}-custom`;
    let started = Date.now();
    assert.equal(berth('stop', '-t', '1', 'named').status, 0);
    assert.ok(Date.now() - started < 8000, 'stop -t 1, not the 10 s default');
    assert.equal(ps()[custom].ExitCode, 137, 'killed after 1 s');
    assert.match(berth('logs', '--no-log-prefix', 'named').stdout, /^ignoring TERM$/m);
    assert.equal(berth('start', 'named').status, 0);
    const pid = ps()[custom].Pid;
    started = Date.now();
    const restart = berth('restart', '-t', '1', 'named');
    assert.equal(restart.status, 0, restart.stderr);
    assert.ok(Date.now() - started < 8000, 'restart -t 1');
    assert.notEqual(ps()[custom].Pid, pid);
    started = Date.now();
    const recreate = berth('up', '-d', '--force-recreate', '-t', '1', 'named');
    assert.equal(recreate.status, 0, recreate.stderr);
    assert.ok(Date.now() - started < 8000, 'up -t 1 when recreating');
  });

  await t.test('exec --index reaches the given replica', () => {
    const scale = berth('up', '-d', '--scale', 'extra=2', 'extra');
    assert.equal(scale.status, 0, scale.stderr);
    assert.equal(berth('exec', '-T', '--index', '2', 'extra', 'sh', '-c', 'echo two > /tmp/idx').status, 0);
    assert.equal(berth('exec', '-T', '--index', '2', 'extra', 'cat', '/tmp/idx').stdout, 'two\n');
    assert.notEqual(berth('exec', '-T', '--index', '1', 'extra', 'cat', '/tmp/idx').status, 0, 'replica 1 has no such file');
  });

  await t.test('run -p, run --service-ports and run --name', async () => {
    const published = berth('run', '-d', '--no-deps', '-p', `127.0.0.1:${ports.run}:80`, 'web');
    assert.equal(published.status, 0, published.stderr);
    assert.equal(await getWhenUp(ports.run), 'web\n');
    const name = `${project}-tool-once`;
    const servicePorts = berth('--profile', 'tools', 'run', '-d', '--service-ports', '--name', name, 'tool');
    assert.equal(servicePorts.status, 0, servicePorts.stderr);
    assert.equal(servicePorts.stdout.trim(), name);
    assert.equal(await getWhenUp(ports.tool), 'tool\n');
    assert.equal(ps()[name]?.State, 'running', 'ps -a lists the one-off under its --name');
  });

  await t.test('rm keeps anonymous volumes; rm -v removes them', () => {
    const keep = record(`${project}-custom`).anonymousVolumes ?? [];
    const anon = record(c('db')).anonymousVolumes ?? [];
    assert.equal(keep.length, 1);
    assert.equal(anon.length, 1);
    // named ignores SIGTERM: kill it rather than wait out its grace period.
    assert.equal(berth('kill', 'named').status, 0);
    assert.equal(berth('rm', '-f', 'named').status, 0);
    assert.ok(volumeExists(keep[0]), 'rm without -v keeps the anonymous volume');
    assert.equal(berth('rm', '-s', '-f', '-v', 'db').status, 0);
    assert.ok(!volumeExists(anon[0]), 'rm -v removed it');
    assert.equal(ps()[c('db')], undefined);
  });

  await t.test('down keeps orphans unless --remove-orphans; --rmi local removes built images only', () => {
    writeFileSync(path.join(dir, 'compose.yaml'), composeA(project, ports, { level: 'two', extra: false }));
    const down = berth('down', '-t', '0');
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(Object.keys(ps()).sort(), [c('extra'), c('extra', 2)], 'only the orphans are left');
    const all = berth('down', '-t', '0', '--remove-orphans', '--rmi', 'local');
    assert.equal(all.status, 0, all.stderr);
    assert.deepEqual(ps(), {});
    const images = berth('images', '--format', 'json');
    assert.equal(images.status, 0, images.stderr);
    assert.doesNotMatch(images.stdout, new RegExp(`${project}-app`), 'the built image is gone');
    assert.match(images.stdout, /berth-test\/busybox/, 'an image with a name of its own stays');
  });
});

test('pull, wait timeout, attached --attach/--no-color, down --rmi all', { skip, timeout: 90_000 }, async (t) => {
  const registry = await startRegistry(t);
  const root = await makeStackRoot({ prefix: 'berth-cov-pull-' });
  const env = { ...root.env, DOCKER_CONFIG: path.join(root.root, 'docker'), BERTH_REGISTRY_MIRRORS: '', BERTH_INSECURE_REGISTRIES: '' };
  const project = `covpull${process.pid}`;
  const ref = `${registry.host}/cov/busybox:1`;
  const dir = root.project(project, `name: ${project}
services:
  a:
    image: ${ref}
    command: ["sh", "-c", "echo a-line"]
  b:
    image: ${ref}
    command: ["sh", "-c", "echo b-line"]
  never:
    image: ${ref}
    command: ["sh", "-c", "trap '' TERM; sleep 3600"]
    profiles: [slow]
    healthcheck:
      test: ["CMD", "false"]
      start_period: 60s
      start_interval: 30s
`);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env });
  t.after(() => {
    berth('--profile', 'slow', 'down', '-t', '0');
    root.remove();
  });
  assert.equal(berth('push', testImage, ref).status, 0);
  berth('rmi', ref); // when push tagged it locally: the up below must pull it

  await t.test('up --pull always --quiet-pull pulls and prints no per-layer progress', () => {
    const up = berth('up', '--no-start', '--pull', 'always', '--quiet-pull');
    assert.equal(up.status, 0, up.stderr);
    const imageLines = up.stderr.split('\n').filter((line) => line.includes(ref) || /Pull/.test(line));
    assert.ok(imageLines.length > 0 && imageLines.every((line) => /^ Image \S+  Pull(ing|ed)$/.test(line)), up.stderr);
    assert.match(berth('images').stdout, /cov\/busybox/);
  });

  await t.test('up --wait --wait-timeout gives up on a container still starting', () => {
    const up = berth('--profile', 'slow', 'up', '-d', '--wait', '--wait-timeout', '2', 'never');
    assert.notEqual(up.status, 0);
    assert.match(up.stderr, new RegExp(`timed out after 2 s waiting for container "${project}-never-1"`));
  });

  await t.test('attached up --attach a --no-color on a terminal: only a, no colors', async () => {
    const up = startBerth(['up', '--attach', 'a', '--no-color', 'a', 'b'], { cwd: dir, env, pty: true });
    const status = await up.exited;
    const text = plainText(up.output());
    assert.equal(status, 0, text);
    assert.match(text, /^a-1 +\| a-line$/m);
    assert.doesNotMatch(text, /b-1 +\|/, 'b is not attached');
    assert.doesNotMatch(up.output(), /\x1b\[3\dm/, 'no colors');
    assert.match(berth('logs', '--no-log-prefix', 'b').stdout, /^b-line$/m, 'b ran all the same');
  });

  await t.test('down -t 1 --rmi all: a container ignoring SIGTERM is killed after 1 s; the images of the services go', () => {
    const started = Date.now();
    const down = berth('--profile', 'slow', 'down', '-t', '1', '--rmi', 'all');
    assert.equal(down.status, 0, down.stderr);
    assert.ok(Date.now() - started < 8000, 'down -t 1, not the 10 s default');
    assert.match(down.stderr, new RegExp(`Container ${project}-never-1  Removed`));
    assert.doesNotMatch(berth('images').stdout, /cov\/busybox/);
  });
});
