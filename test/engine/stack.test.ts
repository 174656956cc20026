/**
 * The stack lifecycle end to end with real containers: up of a stack with depends_on, ps, a
 * re-up that changes nothing, an environment change that recreates only its service and says
 * why, --always-recreate-deps, scaling, orphans, the per-container commands, and `down -v -p`
 * without a compose file leaving nothing behind (named volumes included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { ImageStore, importRootfs } from '../../src/images/index.js';
import { makeBusyboxRootfs, removeRootfs } from '../helpers/busybox-rootfs.js';
import path from 'node:path';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { leftovers } from './leftovers.js';
import { runBerth } from '../helpers/cli.js';

const loop = (name: string) => `["sh", "-c", "trap 'exit 0' TERM; echo ${name} up; while true; do sleep 0.2; done"]`;

function compose(project: string, options: { logLevel?: string; job?: boolean } = {}): string {
  return `name: ${project}
services:
  db:
    image: ${testImage}
    command: ${loop('db')}
    volumes: ["data:/data"]
  web:
    image: ${testImage}
    command: ${loop('web')}
    environment:
      LOG_LEVEL: ${options.logLevel ?? 'info'}
    depends_on: [db]
${options.job === false ? '' : `  job:
    image: ${testImage}
    command: ["sh", "-c", "echo migrated"]
`}volumes:
  data: {}
`;
}

/** Imports busybox again under the test tag with other config changes: a new manifest digest. */
async function reimport(root: { root: string }, changes: string[]): Promise<void> {
  const source = makeBusyboxRootfs();
  const tarball = path.join(root.root, 'again.tar');
  try {
    execFileSync('tar', ['-C', source, '-cf', tarball, '.']);
    await importRootfs(await ImageStore.open(path.join(root.root, 'images')), createReadStream(tarball), { ref: testImage, changes });
  } finally {
    removeRootfs(source);
    rmSync(tarball, { force: true });
  }
}

interface PsEntry { Name: string; Service: string; State: string; Status: string; Pid: number; ExitCode: number }

test('stack lifecycle: up, ps, re-up, recreate with reasons, scale, orphans, per-container commands, down', async (t) => {
  const root = await makeStackRoot();
  const project = `eng${process.pid}`;
  const dir = root.project(project, compose(project));
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  const ps = (...args: string[]): PsEntry[] => {
    const result = berth('ps', '--format', 'json', ...args);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as PsEntry);
  };
  const byService = (entries: PsEntry[]) => Object.fromEntries(entries.map((e) => [e.Name, e]));
  t.after(() => {
    berth('down', '-t', '1', '--remove-orphans');
    root.remove();
  });

  await t.test('up -d starts db before web; the one-shot job exits 0', () => {
    const up = berth('up', '-d');
    assert.equal(up.status, 0, up.stderr);
    const order = up.stderr.split('\n');
    const dbStarted = order.findIndex((l) => l.includes(`${project}-db-1`) && l.includes('Started'));
    const webStarting = order.findIndex((l) => l.includes(`${project}-web-1`) && /Creat|Start/.test(l));
    assert.ok(dbStarted >= 0 && webStarting > dbStarted, up.stderr);
    const running = byService(ps());
    assert.deepEqual(Object.keys(running).sort(), [`${project}-db-1`, `${project}-web-1`]);
    assert.match(running[`${project}-web-1`].Status, /^Up /);
    const table = berth('ps', '-a');
    assert.match(table.stdout, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS/);
    assert.match(table.stdout, new RegExp(`${project}-job-1 .*Exited \\(0\\) .* ago`));
    assert.equal(berth('ps', '--services').stdout, 'db\nweb\n');
    assert.equal(berth('ps', '-q', '--filter', 'service=db').stdout, `${project}-db-1\n`);
    assert.equal(berth('ps', '-a', '--status', 'exited', '-q').stdout, `${project}-job-1\n`);
  });

  await t.test('re-up changes nothing that runs', () => {
    const before = byService(ps());
    const dry = berth('up', '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.doesNotMatch(dry.stdout, /^(create|recreate)/m);
    assert.match(dry.stdout, new RegExp(`^noop +${project}-web-1: running`, 'm'));
    const up = berth('up', '-d');
    assert.equal(up.status, 0, up.stderr);
    assert.doesNotMatch(up.stderr, /Recreate|Creating/);
    const after = byService(ps());
    for (const name of [`${project}-db-1`, `${project}-web-1`]) assert.equal(after[name].Pid, before[name].Pid, name);
  });

  await t.test('--always-recreate-deps recreates the dependencies of the named service only', () => {
    const before = byService(ps());
    const dry = berth('up', '--dry-run', '--always-recreate-deps', 'web');
    assert.match(dry.stdout, new RegExp(`^recreate ${project}-db-1: --always-recreate-deps$`, 'm'));
    assert.match(dry.stdout, new RegExp(`^noop +${project}-web-1`, 'm'));
    const up = berth('up', '-d', '-t', '1', '--always-recreate-deps', 'web');
    assert.equal(up.status, 0, up.stderr);
    const after = byService(ps());
    assert.notEqual(after[`${project}-db-1`].Pid, before[`${project}-db-1`].Pid);
    assert.equal(after[`${project}-web-1`].Pid, before[`${project}-web-1`].Pid);
  });

  await t.test('an environment change recreates only web, with the field-level reason', () => {
    const before = byService(ps());
    writeFileSync(path.join(dir, 'compose.yaml'), compose(project, { logLevel: 'debug' }));
    const dry = berth('up', '--dry-run');
    assert.match(dry.stdout, new RegExp(`^recreate ${project}-web-1: environment.LOG_LEVEL changed "info" -> "debug"$`, 'm'));
    assert.match(dry.stdout, new RegExp(`^noop +${project}-db-1`, 'm'));
    const up = berth('up', '-d');
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /environment.LOG_LEVEL changed "info" -> "debug"/);
    const after = byService(ps());
    assert.equal(after[`${project}-db-1`].Pid, before[`${project}-db-1`].Pid);
    assert.notEqual(after[`${project}-web-1`].Pid, before[`${project}-web-1`].Pid);
    assert.equal(berth('up', '--dry-run').stdout.includes('recreate'), false);
  });

  await t.test('a new image under the same tag recreates, naming both digests', async () => {
    await reimport(root, ['CMD ["sh"]', 'ENV REBUILT=1']);
    const dry = berth('up', '--dry-run');
    assert.match(dry.stdout, new RegExp(`^recreate ${project}-db-1: image changed \\(sha256:[0-9a-f]{12} -> sha256:[0-9a-f]{12}\\)$`, 'm'));
    assert.equal(berth('up', '-d', '-t', '1').status, 0);
    assert.doesNotMatch(berth('up', '--dry-run').stdout, /recreate/);
  });

  await t.test('scale up and down (highest numbers removed first)', () => {
    assert.equal(berth('up', '-d', '--scale', 'web=3').status, 0);
    assert.deepEqual(ps('web').map((e) => e.Name).sort(), [1, 2, 3].map((n) => `${project}-web-${n}`));
    const down = berth('up', '-d', '--scale', 'web=1', '-t', '1');
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(ps('web').map((e) => e.Name), [`${project}-web-1`]);
  });

  await t.test('orphans are reported, then removed with --remove-orphans', () => {
    writeFileSync(path.join(dir, 'compose.yaml'), compose(project, { logLevel: 'debug', job: false }));
    const up = berth('up', '-d');
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, new RegExp(`orphan containers \\(${project}-job-1\\)`));
    assert.ok(ps('-a').some((e) => e.Name === `${project}-job-1`));
    assert.equal(berth('up', '-d', '--remove-orphans').status, 0);
    assert.ok(!ps('-a').some((e) => e.Name === `${project}-job-1`));
  });

  await t.test('stop, start, restart, kill, pause, unpause, rm', () => {
    const web = `${project}-web-1`;
    const db = `${project}-db-1`;
    assert.equal(berth('stop', '-t', '2', 'web').status, 0);
    let all = byService(ps('-a'));
    assert.equal(all[web].State, 'exited');
    assert.equal(all[web].ExitCode, 0);
    assert.equal(all[db].State, 'running');
    assert.equal(berth('start', 'web').status, 0);
    assert.equal(byService(ps())[web].State, 'running');
    const dbPid = byService(ps())[db].Pid;
    assert.equal(berth('restart', '-t', '2', 'db').status, 0);
    assert.notEqual(byService(ps())[db].Pid, dbPid);
    assert.equal(berth('kill', '-s', 'KILL', 'web').status, 0);
    for (let i = 0; i < 50 && byService(ps('-a'))[web].State !== 'exited'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    all = byService(ps('-a'));
    assert.equal(all[web].State, 'exited');
    assert.equal(all[web].ExitCode, 137);
    assert.equal(berth('pause', 'db').status, 0);
    assert.match(byService(ps())[db].Status, /\(Paused\)$/);
    assert.equal(byService(ps())[db].State, 'paused');
    assert.equal(berth('unpause', 'db').status, 0);
    assert.equal(byService(ps())[db].State, 'running');
    assert.equal(berth('rm', '-f', 'web').status, 0);
    assert.ok(!(web in byService(ps('-a'))));
    const rm = berth('rm', '-s', '-f', '-v', 'db');
    assert.equal(rm.status, 0, rm.stderr);
    assert.deepEqual(ps('-a'), []);
  });

  await t.test('images of containers cannot be removed; down -v -p without a compose file leaves nothing behind', () => {
    assert.equal(berth('up', '-d').status, 0);
    const rmi = berth('rmi', testImage);
    assert.equal(rmi.status, 1);
    assert.match(rmi.stderr, new RegExp(`is used by container "${project}-`));
    const volume = path.join(root.root, 'volumes', `${project}_data`);
    assert.ok(existsSync(volume), 'the named volume exists while the stack runs');
    // From a directory without a compose file: only the project name is known.
    const down = runBerth(['-p', project, 'down', '-v', '-t', '1'], { cwd: root.root, env: root.env });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stderr, new RegExp(`${project}_data`));
    assert.ok(!existsSync(volume), 'down -v -p removed the named volume');
    assert.deepEqual(leftovers(root, project), []);
  });
});
