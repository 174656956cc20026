/**
 * depends_on conditions and `up --wait`: a one-shot migration that exits 0 lets its dependent
 * start and counts as success for --wait; a healthcheck gates service_healthy; a failed
 * dependency stops its dependents unless the dependency is `required: false`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { runBerth } from '../helpers/cli.js';

test('service_completed_successfully, service_healthy and --wait with a one-shot job', async (t) => {
  const root = await makeStackRoot();
  const project = `cond${process.pid}`;
  const dir = root.project(project, `name: ${project}
services:
  migrate:
    image: ${testImage}
    command: ["sh", "-c", "echo migrating; sleep 0.3"]
  cache:
    image: ${testImage}
    command: ["sleep", "300"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      start_interval: 200ms
      start_period: 5s
  api:
    image: ${testImage}
    command: ["sleep", "300"]
    stop_grace_period: 1s
    depends_on:
      migrate: { condition: service_completed_successfully }
      cache: { condition: service_healthy }
`);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  const up = berth('up', '-d', '--wait', '--wait-timeout', '30');
  assert.equal(up.status, 0, up.stderr);
  const entries = berth('ps', '-a', '--format', 'json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { Service: string; State: string; Status: string; ExitCode: number });
  const by = Object.fromEntries(entries.map((e) => [e.Service, e]));
  assert.equal(by.migrate.State, 'exited');
  assert.equal(by.migrate.ExitCode, 0);
  assert.equal(by.api.State, 'running');
  assert.match(by.cache.Status, /^Up .* \(healthy\)$/);
});

test('a failed or unhealthy dependency stops its dependents unless required: false', async (t) => {
  const root = await makeStackRoot();
  const project = `fail${process.pid}`;
  const dir = root.project(project, `name: ${project}
services:
  bad:
    image: ${testImage}
    command: ["sh", "-c", "exit 3"]
  strict:
    image: ${testImage}
    command: ["sleep", "300"]
    depends_on:
      bad: { condition: service_completed_successfully }
  lenient:
    image: ${testImage}
    command: ["sleep", "300"]
    depends_on:
      bad: { condition: service_completed_successfully, required: false }
  sick:
    image: ${testImage}
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD-SHELL", "echo not ready; exit 1"]
      interval: 200ms
      retries: 1
  needy:
    image: ${testImage}
    command: ["sleep", "300"]
    depends_on:
      sick: { condition: service_healthy }
`);
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env: root.env });
  t.after(() => {
    berth('down', '-t', '0');
    root.remove();
  });
  const up = berth('up', '-d', 'strict', 'lenient');
  assert.equal(up.status, 1);
  assert.match(up.stderr, /service "bad" did not complete successfully: container "fail\d+-bad-1" exited with code 3/);
  const running = berth('ps', '--services').stdout;
  assert.equal(running, 'lenient\n');
  // A service_healthy dependency whose healthcheck fails: up fails, naming both services and the check's output.
  const sick = berth('up', '-d', 'needy');
  assert.equal(sick.status, 1);
  assert.match(sick.stderr, /error: service "needy" cannot start: dependency "sick" failed/);
  assert.match(sick.stderr, /caused by: service "sick" is unhealthy: its container "fail\d+-sick-1" failed its healthcheck \(last check exited 1: not ready\)/);
  assert.ok(!berth('ps', '--services').stdout.includes('needy'), 'needy was not started');
});
