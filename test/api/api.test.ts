/**
 * The JS API as an integration test uses it: `up()` a stack with a published port, reach it from
 * the host, exec in it, read its logs, and `down()` leaving nothing; two stacks from one
 * directory at once get separate project names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { up } from '../../src/index.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const compose = `
services:
  web:
    image: ${testImage}
    command: ["sh", "-c", "mkdir -p /www && echo hello from web > /www/index.html && echo web ready && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      start_interval: 200ms
      start_period: 10s
  worker:
    image: ${testImage}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    environment:
      ROLE: worker
    depends_on:
      web:
        condition: service_healthy
`;

test('up() brings a stack up, the handle reaches it, down() removes it', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-api-' });
  const saved = process.env.BERTH_ROOT;
  process.env.BERTH_ROOT = root.root;
  const dir = root.project('apidemo', compose);
  const stacks: Array<{ down(o?: { volumes?: boolean }): Promise<void> }> = [];
  t.after(async () => {
    for (const stack of stacks) await stack.down({ volumes: true }).catch(() => undefined);
    if (saved === undefined) delete process.env.BERTH_ROOT;
    else process.env.BERTH_ROOT = saved;
    root.remove();
  });

  // Two stacks from the same directory, at the same time: unique project names keep them apart.
  const [first, second] = await Promise.all([up({ cwd: dir }), up({ cwd: dir })]);
  stacks.push(first, second);
  assert.match(first.name, /^apidemo-[0-9a-f]{8}$/);
  assert.notEqual(first.name, second.name);
  assert.deepEqual([...first.services].sort(), ['web', 'worker']);

  const a = await first.port('web', 8080);
  const b = await second.port('web', 8080);
  assert.equal(a.host, '127.0.0.1');
  assert.notEqual(a.port, b.port, 'each stack has its own random host port');
  const response = await fetch(`http://${a.address}/`);
  assert.equal(await response.text(), 'hello from web\n');

  const exec = await first.exec('worker', 'echo "$ROLE $GREETING"; echo oops >&2; exit 3', { env: { GREETING: 'hi' } });
  assert.deepEqual(exec, { exitCode: 3, stdout: 'worker hi\n', stderr: 'oops\n' });
  const argv = await first.exec('web', ['cat', '/www/index.html']);
  assert.equal(argv.stdout, 'hello from web\n');

  assert.match(await first.logs('web'), /^web ready$/m);
  const running = await first.ps();
  assert.deepEqual(running.map((c) => `${c.record.service}:${c.status}`).sort(), ['web:running', 'worker:running']);

  await first.stop(['worker']);
  assert.equal((await first.ps()).find((c) => c.record.service === 'worker')?.status, 'exited');
  await first.start(['worker']);
  assert.equal((await first.ps()).find((c) => c.record.service === 'worker')?.status, 'running');

  await first.down({ volumes: true });
  assert.deepEqual(await first.ps(), [], 'no container of the first stack is left');
  await assert.rejects(fetch(`http://${a.address}/`), 'its published port is closed');
  assert.equal((await second.ps()).length, 2, 'the second stack is untouched');

  // `await using` support: disposing the handle brings the stack down.
  await second[Symbol.asyncDispose]();
  assert.deepEqual(await second.ps(), []);
});

test('up() of a broken stack fails with the reason and leaves nothing behind', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-api-' });
  const saved = process.env.BERTH_ROOT;
  process.env.BERTH_ROOT = root.root;
  t.after(() => {
    if (saved === undefined) delete process.env.BERTH_ROOT;
    else process.env.BERTH_ROOT = saved;
    root.remove();
  });
  const dir = root.project('apibroken', `
services:
  db:
    image: ${testImage}
    command: ["sh", "-c", "exit 7"]
  app:
    image: ${testImage}
    command: ["sleep", "3600"]
    depends_on:
      db:
        condition: service_completed_successfully
`);
  await assert.rejects(up({ cwd: dir, projectName: 'apibroken' }), (err: Error) => /db/.test(err.message) && /7/.test(err.message));
  const { Engine } = await import('../../src/engine/engine.js');
  const engine = await Engine.open();
  assert.deepEqual(await engine.observe('apibroken', {}), [], 'the failed stack was removed');
});
