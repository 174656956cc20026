/**
 * develop.watch end to end on a running stack: sync of edits, new files and deletions (seen
 * inside the container), ignore patterns, sync+restart, sync+exec, rebuild (new image, service
 * recreated), and a compose file edit that re-plans the project.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildServices } from '../../src/build/index.js';
import { Engine } from '../../src/engine/engine.js';
import type { ObservedContainer } from '../../src/engine/types.js';
import { loadProject, projectOptionsFromFlags } from '../../src/project/index.js';
import { startWatch } from '../../src/watch/index.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (or fails after `timeoutMs` with the last value). */
let watchLog: string[] = [];

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}; watch log:\n${watchLog.join('\n')}`);
}

function compose(name: string, logLevel: string): string {
  return `name: ${name}
services:
  web:
    build: .
    environment:
      LOG_LEVEL: ${logLevel}
    env_file: [app.env]
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app/src
          ignore: ["*.tmp", "cache/"]
        - action: sync+restart
          path: ./conf
          target: /app/conf
        - action: sync+exec
          path: ./hooks
          target: /app/hooks
          exec:
            command: cat /app/hooks/hook.txt > /app/exec-ran
        - action: rebuild
          path: ./version.txt
`;
}

test('watch: sync edit/add/delete, ignore, sync+restart, sync+exec, rebuild, compose edit', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-watch-' });
  const name = `watch${process.pid}`;
  const dir = root.project(name, compose(name, 'info'));
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  mkdirSync(path.join(dir, 'conf'), { recursive: true });
  mkdirSync(path.join(dir, 'hooks'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'a v1\n');
  writeFileSync(path.join(dir, 'src', 'b.txt'), 'b v1\n');
  writeFileSync(path.join(dir, 'conf', 'app.conf'), 'conf v1\n');
  writeFileSync(path.join(dir, 'hooks', 'hook.txt'), 'hook v1\n');
  writeFileSync(path.join(dir, 'version.txt'), 'version 1\n');
  writeFileSync(path.join(dir, 'app.env'), 'FROM_ENV_FILE=one\n');
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}
COPY src /app/src
COPY conf /app/conf
COPY version.txt /app/version.txt
CMD ["sh", "-c", "trap 'exit 0' TERM; date +%s%N > /app/started; while true; do sleep 0.2; done"]
`);
  const engine = await Engine.open({ env: root.env });
  const load = () => loadProject(projectOptionsFromFlags({}, { cwd: dir, env: root.env }));
  let project = await load();
  const lines: string[] = [];
  watchLog = lines;
  t.after(async () => {
    await engine.down(name, { timeout: 1 }).catch(() => undefined);
    root.remove();
  });

  await buildServices(project, ['web'], { env: root.env, store: engine.store, driver: engine.driver, log: () => undefined });
  await engine.up(project, { detach: true });
  const web = async (): Promise<ObservedContainer> => {
    const found = (await engine.observe(name)).find((c) => c.record.service === 'web' && c.status === 'running');
    assert.ok(found, 'web runs');
    return found;
  };
  const read = async (file: string): Promise<string> => {
    const container = (await engine.observe(name)).find((c) => c.record.service === 'web' && c.status === 'running');
    if (!container) return '<not running>';
    // The container may stop between observe and exec (sync+restart, recreate).
    const result = await engine.driver.exec(container.record.id, ['sh', '-c', `cat ${file} 2>/dev/null || echo '<missing>'`]).catch(() => undefined);
    return result?.stdout ?? '<not running>';
  };
  const first = (await engine.observe(name)).find((c) => c.record.service === 'web');
  assert.equal(first?.status, 'running', `web is ${first?.status}: ${first ? readFileSync(first.record.logPath, 'utf8') : ''}`);
  assert.equal(await read('/app/src/a.txt'), 'a v1\n');

  const handle = startWatch(engine, project, { reload: async () => (project = await load()), log: (line) => lines.push(line), debounceMs: 30, build: { log: () => undefined } });
  t.after(() => handle.close());
  await handle.ready;

  // sync: edit, add (in a new directory), delete.
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'a v2\n');
  await eventually('edited a.txt in the container', async () => (await read('/app/src/a.txt')) === 'a v2\n');
  mkdirSync(path.join(dir, 'src', 'deep', 'er'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'deep', 'er', 'new.txt'), 'new file\n');
  await eventually('new file in the container', async () => (await read('/app/src/deep/er/new.txt')) === 'new file\n');
  rmSync(path.join(dir, 'src', 'b.txt'));
  await eventually('deleted b.txt gone from the container', async () => (await read('/app/src/b.txt')) === '<missing>\n');
  assert.ok(lines.some((line) => /^web sync: .* -> \/app\/src in 1 container \(\d+ms\)$/.test(line)), lines.join('\n'));

  // Ignored paths are not synced; a later synced file proves the batch was processed.
  writeFileSync(path.join(dir, 'src', 'scratch.tmp'), 'ignored\n');
  mkdirSync(path.join(dir, 'src', 'cache'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'cache', 'c.txt'), 'ignored too\n');
  await sleep(100);
  writeFileSync(path.join(dir, 'src', 'marker.txt'), 'marker\n');
  await eventually('marker synced', async () => (await read('/app/src/marker.txt')) === 'marker\n');
  assert.equal(await read('/app/src/scratch.tmp'), '<missing>\n');
  assert.equal(await read('/app/src/cache/c.txt'), '<missing>\n');

  // sync+restart: the file is there and the process started again.
  const startedBefore = await read('/app/started');
  writeFileSync(path.join(dir, 'conf', 'app.conf'), 'conf v2\n');
  await eventually('restarted with the new conf', async () => (await read('/app/conf/app.conf')) === 'conf v2\n' && (await read('/app/started')) !== startedBefore && (await read('/app/started')) !== '<missing>\n');
  await eventually('restart logged', async () => lines.some((line) => line.startsWith('web sync+restart: ')));

  // sync+exec: the command ran in the container after the sync.
  writeFileSync(path.join(dir, 'hooks', 'hook.txt'), 'hook v2\n');
  await eventually('exec ran', async () => (await read('/app/exec-ran')) === 'hook v2\n');

  // rebuild: a new image and a recreated container with the new file.
  const before = (await web()).record;
  writeFileSync(path.join(dir, 'version.txt'), 'version 2\n');
  await eventually('rebuilt and recreated', async () => (await read('/app/version.txt')) === 'version 2\n', 60_000);
  const after = (await web()).record;
  assert.notEqual(after.imageDigest, before.imageDigest);
  // The line is logged once `up` returns, which can be just after the new container answers.
  await eventually('rebuild logged', async () => lines.some((line) => /^web rebuild: .* -> image rebuilt, service recreated/.test(line)));

  // Compose file and env_file edits re-plan the project and recreate only what changed.
  writeFileSync(path.join(dir, 'compose.yaml'), compose(name, 'debug'));
  await eventually('environment change applied', async () => (await read('/proc/1/environ')).includes('LOG_LEVEL=debug'), 60_000);
  await eventually('reload logged', async () => lines.some((line) => /^project: configuration changed -> recreate .*LOG_LEVEL/.test(line)));
  writeFileSync(path.join(dir, 'app.env'), 'FROM_ENV_FILE=two\n');
  await eventually('env_file change applied', async () => (await read('/proc/1/environ')).includes('FROM_ENV_FILE=two'), 60_000);
  // Sync still works with the reloaded rules.
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'a v3\n');
  await eventually('sync after reload', async () => (await read('/app/src/a.txt')) === 'a v3\n');
});
