// Attached `up` must behave like Docker Compose's: interleaved prefixed logs, "exited with code"
// lines, Ctrl-C stopping the stack gracefully (a second Ctrl-C kills it) with exit status 130,
// and the exit codes of --abort-on-container-exit and --exit-code-from. Ctrl-C is sent as a
// real keypress on a pseudo-terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cannotRunContainers } from '../runtime/runtimes.js';
import { runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { plainText, startBerth } from './helpers.js';

const skip = cannotRunContainers();
const forever = 'while true; do sleep 0.1; done';

test('attached up', { skip }, async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-attach-' });
  const downs: Array<() => void> = [];
  t.after(() => {
    for (const down of downs) down();
    root.remove();
  });
  let counter = 0;
  const stack = (yaml: string) => {
    const project = `h5att${process.pid}x${++counter}`;
    const dir = root.project(project, yaml);
    const berth = (args: string[]) => runBerth(['-p', project, ...args], { cwd: dir, env: root.env, timeoutMs: 60_000 });
    downs.push(() => berth(['down', '-t', '0']));
    return { project, dir, berth };
  };

  await t.test('Ctrl-C once stops the stack gracefully: TERM reaches the containers, status 130', async () => {
    const { project, dir, berth } = stack(`services:
  web:
    image: ${testImage}
    command: ["sh", "-c", "trap 'echo web got TERM; exit 0' TERM; echo web ready; ${forever}"]
  db:
    image: ${testImage}
    command: ["sh", "-c", "trap 'echo db got TERM; exit 0' TERM; echo db ready; ${forever}"]
`);
    const up = startBerth(['-p', project, 'up'], { cwd: dir, env: root.env, pty: true });
    await up.waitFor(/web-1 +\|.*web ready/);
    await up.waitFor(/db-1 +\|.*db ready/);
    up.send('\x03');
    const status = await up.exited;
    const text = plainText(up.output());
    assert.equal(status, 130, text);
    assert.match(text, /Attaching to db-1, web-1/);
    assert.match(text, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/);
    assert.match(text, /web-1 \| web got TERM/);
    assert.match(text, /db-1  \| db got TERM/);
    assert.match(text, /web-1 exited with code 0/);
    assert.match(text, new RegExp(`Container ${project}-web-1  Stopped`));
    assert.match(up.output(), /\x1b\[3\dm(db|web)-1 +\| \x1b\[0m/, 'prefixes are colored on a terminal');
    const ps = berth(['ps', '-a', '--format', 'json']);
    assert.doesNotMatch(ps.stdout, /"State":\s*"running"/i, ps.stdout);
  });

  await t.test('a second Ctrl-C kills containers that ignore the stop signal', async () => {
    const { project, dir } = stack(`services:
  stubborn:
    image: ${testImage}
    stop_grace_period: 60s
    command: ["sh", "-c", "trap 'echo ignoring TERM' TERM; echo stubborn ready; ${forever}"]
`);
    const up = startBerth(['-p', project, 'up'], { cwd: dir, env: root.env, pty: true });
    await up.waitFor(/stubborn ready/);
    up.send('\x03');
    await up.waitFor(/Gracefully stopping/);
    await up.waitFor(/ignoring TERM/);
    up.send('\x03');
    const status = await up.exited;
    const text = plainText(up.output());
    assert.equal(status, 130, text);
    assert.match(text, /Killing/);
    assert.match(text, /stubborn-1 exited with code 137/);
  });

  await t.test('--abort-on-container-exit returns the first exited container\'s code and stops the rest', () => {
    const { berth } = stack(`services:
  job:
    image: ${testImage}
    command: ["sh", "-c", "echo working; sleep 0.5; exit 3"]
  server:
    image: ${testImage}
    command: ["sh", "-c", "trap 'echo server stopping; exit 0' TERM; echo serving; ${forever}"]
`);
    const result = berth(['up', '--abort-on-container-exit']);
    assert.equal(result.status, 3, result.stdout + result.stderr);
    assert.match(result.stdout, /job-1 +\| working/);
    assert.match(result.stdout, /job-1 exited with code 3/);
    assert.match(result.stdout, /server-1 \| server stopping/);
    assert.match(result.stderr, /Aborting on container exit/);
  });

  await t.test('--exit-code-from returns that service\'s code, not the first one\'s', () => {
    const { berth } = stack(`services:
  job:
    image: ${testImage}
    command: ["sh", "-c", "sleep 0.5; exit 3"]
  server:
    image: ${testImage}
    command: ["sh", "-c", "trap 'exit 7' TERM; ${forever}"]
`);
    const fromServer = berth(['up', '--exit-code-from', 'server']);
    assert.equal(fromServer.status, 7, fromServer.stdout + fromServer.stderr);
    const fromJob = berth(['up', '--exit-code-from', 'job', '--no-attach', 'server']);
    assert.equal(fromJob.status, 3, fromJob.stdout + fromJob.stderr);
    assert.doesNotMatch(fromJob.stdout, /server-1/);
  });

  await t.test('up returns 0 once every attached container has exited; restarts keep it following', async () => {
    const { berth } = stack(`services:
  once:
    image: ${testImage}
    command: ["sh", "-c", "echo only once"]
  flaky:
    image: ${testImage}
    restart: on-failure:2
    command: ["sh", "-c", "echo flaky run; sleep 0.3; exit 1"]
`);
    const result = berth(['up', '--no-log-prefix']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /once-1 exited with code 0/);
    const runs = result.stdout.split('\n').filter((line) => line === 'flaky run').length;
    assert.equal(runs, 3, `on-failure:2 runs three times while attached:\n${result.stdout}`);
  });
  await t.test('up SERVICE attaches to that service only; --attach-dependencies adds its dependencies', async () => {
    const { project, dir, berth } = stack(`services:
  db:
    image: ${testImage}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo db says hi; ${forever}"]
  web:
    image: ${testImage}
    command: ["sh", "-c", "sleep 0.3; echo web says hi"]
    depends_on: [db]
`);
    // Only web is attached: up ends when web exits, db keeps running.
    const only = berth(['up', 'web']);
    assert.equal(only.status, 0, only.stdout + only.stderr);
    assert.match(only.stdout, /^Attaching to web-1$/m);
    assert.match(only.stdout, /web-1 +\| web says hi/);
    assert.doesNotMatch(only.stdout, /db says hi/);
    // With its dependencies, db is followed too (so up runs until Ctrl-C).
    const withDeps = startBerth(['-p', project, 'up', '--attach-dependencies', '--force-recreate', '-t', '1', 'web'], { cwd: dir, env: root.env });
    await withDeps.waitFor(/db-1 +\| db says hi/);
    await withDeps.waitFor(/web-1 +\| web says hi/);
    assert.match(withDeps.output(), /^Attaching to db-1, web-1$/m);
    withDeps.child.kill('SIGINT');
    assert.equal(await withDeps.exited, 130, withDeps.output());
  });

  await t.test('Ctrl-C while up waits for a slow dependency stops what it started, leaves nothing half-made, status 130', async () => {
    const { project, dir, berth } = stack(`services:
  slow:
    image: ${testImage}
    command: ["sh", "-c", "trap 'echo slow got TERM; exit 0' TERM; ${forever}"]
    healthcheck: { test: ["CMD", "test", "-f", "/tmp/never"], interval: 1s, retries: 100 }
  app:
    image: ${testImage}
    command: ["sh", "-c", "echo app up; ${forever}"]
    depends_on: { slow: { condition: service_healthy } }
`);
    for (const detach of [false, true]) {
      const up = startBerth(['-p', project, '--progress', 'plain', 'up', ...(detach ? ['-d'] : [])], { cwd: dir, env: root.env, pty: true });
      await up.waitFor(/Waiting for slow healthy/);
      up.send('\x03');
      const status = await up.exited;
      const text = plainText(up.output());
      assert.equal(status, 130, text);
      assert.match(text, /Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/);
      assert.match(text, new RegExp(`Container ${project}-slow-1  Stopped`));
      assert.doesNotMatch(text, /Attaching to|app up|error/);
      const ps = berth(['ps', '-a', '--format', 'json']).stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { Service: string; State: string });
      assert.deepEqual(ps.map((c) => `${c.Service} ${c.State}`), ['slow exited'], 'app was never created; slow was stopped');
      const containers = path.join(root.root, 'projects', project, 'containers');
      assert.deepEqual(readdirSync(containers).filter((name) => existsSync(path.join(containers, name, 'pending.json'))), [], 'no half-made container');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(`${project}-app`));
      assert.deepEqual(mounts, []);
    }
  });
});
