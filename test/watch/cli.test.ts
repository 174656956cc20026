/**
 * `berth watch` through the CLI on a service that runs as a non-root user: `--no-up` with
 * nothing running is a clear error; `initial_sync` and `include` rules; synced files keep the
 * owner they have in the container, new ones get the container user's uid/gid; Ctrl-C stops
 * watching and leaves the containers running.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import { berthBin, runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('watch CLI: --no-up error, initial_sync and include, ownership as a non-root user, Ctrl-C keeps containers', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-watchcli-' });
  const name = `watchcli${process.pid}`;
  const dir = root.project(name, `name: ${name}
services:
  app:
    build: .
    user: app
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app/src
          initial_sync: true
          include: ["**/*.txt", "docs"]
`);
  mkdirSync(path.join(dir, 'src', 'docs'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'a from host\n');
  writeFileSync(path.join(dir, 'src', 'notes.md'), 'not included\n');
  writeFileSync(path.join(dir, 'src', 'docs', 'guide.md'), 'guide\n');
  mkdirSync(path.join(dir, 'src', 'deep', 'er'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'deep', 'er', 'd.txt'), 'deep\n');
  writeFileSync(path.join(dir, 'src', 'deep', 'skip.md'), 'not included\n');
  // The image has its own a.txt, owned by neither root nor the container user.
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}
RUN mkdir -p /app/src && echo "a from image" > /app/src/a.txt && chown 1234:50 /app/src/a.txt && chown 1000:1000 /app/src
CMD ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
`);
  const engine = await Engine.open({ env: root.env });
  let child: ReturnType<typeof spawn> | undefined;
  t.after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await engine.down(name, { timeout: 1 }).catch(() => undefined);
    root.remove();
  });

  // --no-up with nothing running: the error names the service and how to start it.
  const noUp = runBerth(['watch', '--no-up'], { cwd: dir, env: root.env });
  assert.equal(noUp.status, 1, noUp.stderr);
  assert.match(noUp.stderr, new RegExp(`service "app" of project "${name}" has no running container`));
  assert.match(noUp.stderr, /berth up -d app/);
  assert.doesNotMatch(noUp.stderr, /    at /);

  let stderr = '';
  child = spawn(process.execPath, [berthBin, 'watch', '--quiet'], { cwd: dir, env: root.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
  const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(50);
    }
    assert.fail(`timed out waiting for ${what}; berth watch said:\n${stderr}`);
  };
  await until('watch ready', () => stderr.includes('watch: watching 1 rule of app'));

  const container = async () => {
    const found = (await engine.observe(name)).find((c) => c.record.service === 'app' && c.status === 'running');
    assert.ok(found, `app runs; berth watch said:\n${stderr}`);
    return found;
  };
  const sh = async (script: string) => (await engine.driver.exec((await container()).record.id, ['sh', '-c', script])).stdout;
  const show = (file: string) => sh(`if [ -e ${file} ]; then stat -c '%u:%g' ${file}; cat ${file}; else echo missing; fi`);
  assert.equal(await sh('id -u; id -g'), '1000\n1000\n', 'the container runs as app');

  // initial_sync: included files are there before watching starts; others are not.
  assert.equal(await show('/app/src/a.txt'), '1234:50\na from host\n', 'an existing file keeps its owner');
  assert.equal(await show('/app/src/docs/guide.md'), '1000:1000\nguide\n', 'a new file gets the container user');
  assert.equal(await sh("stat -c '%u:%g' /app/src/docs"), '1000:1000\n', 'a new directory too');
  assert.equal(await show('/app/src/notes.md'), 'missing\n', 'not included');
  assert.equal(await show('/app/src/deep/er/d.txt'), '1000:1000\ndeep\n', 'include patterns reach into directories');
  assert.equal(await show('/app/src/deep/skip.md'), 'missing\n');

  // Live edits: same ownership rules; a file outside `include` is never synced.
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'a edited\n');
  writeFileSync(path.join(dir, 'src', 'new.txt'), 'new\n');
  writeFileSync(path.join(dir, 'src', 'notes.md'), 'edited, still not included\n');
  await until('edits synced', async () => (await show('/app/src/new.txt')) === '1000:1000\nnew\n' && (await show('/app/src/a.txt')) === '1234:50\na edited\n');
  await sleep(100);
  assert.equal(await show('/app/src/notes.md'), 'missing\n');

  // Ctrl-C: watching stops, exit code 0, the container keeps running.
  const before = (await container()).record.id;
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /watch: stopped \(the containers keep running; "berth down" stops them\)/);
  assert.equal((await container()).record.id, before);
});
