/**
 * `up` and images: a `build:` service whose image is missing is built, `pull_policy: build`
 * builds on every up, `up --build` and `run --build` rebuild, `up -d --watch` syncs files until
 * Ctrl-C and leaves the stack running; `up --pull always` pulls from a real registry (and
 * recreates when the tag moved), and `up --timeline` prints per-service times and the critical
 * path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ImageStore, importRootfs } from '../../src/images/index.js';
import { makeBusyboxRootfs, removeRootfs } from '../helpers/busybox-rootfs.js';
import { berthBin, runBerth } from '../helpers/cli.js';
import { startRegistry } from '../helpers/registry.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const idle = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('up builds what it needs: missing images, pull_policy: build, --build, run --build, up -d --watch', async (t) => {
  const root = await makeStackRoot();
  const project = `bld${process.pid}`;
  const dir = root.project(project, `name: ${project}
services:
  app:
    build: ./app
    command: ${idle}
    develop:
      watch:
        - action: sync
          path: ./app/src
          target: /src
  tool:
    image: ${project}/tool:1
    build: { context: ./app, dockerfile: Dockerfile.tool }
    pull_policy: build
    command: ${idle}
`);
  mkdirSync(path.join(dir, 'app', 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'app', 'Dockerfile'), `FROM ${testImage}\nCOPY msg.txt /msg.txt\nCOPY src/ /src/\n`);
  writeFileSync(path.join(dir, 'app', 'Dockerfile.tool'), `FROM ${testImage}\nCOPY src/ /tool/\n`);
  writeFileSync(path.join(dir, 'app', 'msg.txt'), 'v1\n');
  writeFileSync(path.join(dir, 'app', 'src', 'a.txt'), 'a\n');
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  const cat = (file: string) => berth('exec', '-T', 'app', 'cat', file).stdout;
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });

  const first = berth('up', '-d');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`app Building ${project}-app`));
  assert.match(first.stderr, new RegExp(`tool Building ${project}/tool:1`));
  assert.equal(cat('/msg.txt'), 'v1\n');

  // The image is there now: app is not built again; tool (pull_policy: build) is, from its cache: nothing is recreated.
  const again = berth('up', '-d');
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /app Building/);
  assert.match(again.stderr, /tool Building/);
  assert.doesNotMatch(again.stderr, /Recreate/);

  // A changed build context alone does not rebuild a service whose image exists; --build does.
  writeFileSync(path.join(dir, 'app', 'msg.txt'), 'v2\n');
  assert.equal(berth('up', '-d', 'app').status, 0);
  assert.equal(cat('/msg.txt'), 'v1\n');

  const rebuilt = berth('up', '-d', '--build', '-t', '1', 'app');
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /app Building/);
  assert.match(rebuilt.stderr, /image changed/);
  assert.equal(cat('/msg.txt'), 'v2\n');

  writeFileSync(path.join(dir, 'app', 'msg.txt'), 'v3\n');
  const run = berth('run', '--rm', '-T', '--build', 'app', 'cat', '/msg.txt');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'v3\n');

  // up -d --watch: stays in the foreground syncing files; Ctrl-C ends the watch, not the stack.
  const watch = spawn(process.execPath, [berthBin, 'up', '-d', '--watch'], { cwd: dir, env: root.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  watch.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => watch.on('exit', (code) => resolve(code)));
  t.after(() => { if (watch.exitCode === null) watch.kill('SIGKILL'); });
  for (let i = 0; i < 150 && !/watch: watching 1 rule of app/.test(stderr); i++) await sleep(100);
  assert.match(stderr, /watch: watching 1 rule of app/);
  writeFileSync(path.join(dir, 'app', 'src', 'b.txt'), 'synced\n');
  for (let i = 0; i < 50 && !/app sync: /.test(stderr); i++) await sleep(100);
  assert.match(stderr, /app sync: .*b\.txt.* -> \/src in 1 container/);
  assert.equal(cat('/src/b.txt'), 'synced\n');
  watch.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.match(berth('ps').stdout, new RegExp(`${project}-app-1 .* Up `));
});

/** Imports busybox under `ref` with config `changes` (a new manifest digest). */
async function importBusybox(rootDir: string, ref: string, changes: string[]): Promise<void> {
  const source = makeBusyboxRootfs();
  const tarball = path.join(rootDir, 'again.tar');
  try {
    execFileSync('tar', ['-C', source, '-cf', tarball, '.']);
    await importRootfs(await ImageStore.open(path.join(rootDir, 'images')), createReadStream(tarball), { ref, changes });
  } finally {
    removeRootfs(source);
    rmSync(tarball, { force: true });
  }
}

test('up --pull always from a registry, and --timeline with a healthy dependency', async (t) => {
  const registry = await startRegistry(t);
  const root = await makeStackRoot();
  const env = { ...root.env, DOCKER_CONFIG: path.join(root.root, 'docker'), BERTH_REGISTRY_MIRRORS: '', BERTH_INSECURE_REGISTRIES: '' };
  const project = `pull${process.pid}`;
  const ref = `${registry.host}/h7/busybox:1`;
  const dir = root.project(project, `name: ${project}
services:
  cache:
    image: ${ref}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "true"]
      interval: 5s
      start_interval: 100ms
      start_period: 10s
  api:
    image: ${ref}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    depends_on:
      cache: { condition: service_healthy }
`);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  const pushed = berth('push', testImage, ref);
  assert.equal(pushed.status, 0, pushed.stderr);

  const up = berth('up', '-d', '--pull', 'always', '--wait', '--timeline');
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stderr, /Pulled/);
  assert.match(up.stderr, /Startup timeline \(total \d+\.\d\ds\)/);
  assert.match(up.stderr, /^SERVICE\s+CREATED\s+STARTED\s+HEALTHY\s+EXITED$/m);
  assert.match(up.stderr, /^cache\s+\d+\.\d\ds\s+\d+\.\d\ds\s+\d+\.\d\ds\s+-$/m);
  assert.match(up.stderr, /^api\s+\d+\.\d\ds\s+\d+\.\d\ds\s+-\s+-$/m);
  assert.match(up.stderr, /^Critical path: cache \(healthy \d+\.\d\ds\) -> api \(started \d+\.\d\ds\)$/m);

  // The tag moves in the registry: --pull always fetches it and recreates both services.
  await importBusybox(root.root, 'berth-test/busybox:v2', ['CMD ["sh"]', 'ENV MOVED=1']);
  assert.equal(berth('push', 'berth-test/busybox:v2', ref).status, 0);
  const stale = berth('up', '--dry-run');
  assert.doesNotMatch(stale.stdout, /recreate/, 'without a pull nothing changes');
  const again = berth('up', '-d', '--pull', 'always', '-t', '0');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /image changed \(sha256:[0-9a-f]{12} -> sha256:[0-9a-f]{12}\)/);
  assert.equal(berth('exec', '-T', 'api', 'sh', '-c', 'echo $MOVED').stdout, '1\n');
});
