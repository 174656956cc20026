// The supervisor with real containers brought up by `berth up -d`: restart policies with backoff,
// healthchecks (start period, start interval, retries), depends_on restart, kill -9 of the
// supervisor (containers and their logs live on; the next one adopts them), wait/events/ls,
// its memory, and its exit once nothing runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { berthBin, runBerth } from '../helpers/cli.js';
import { readRunInfo, readRecord } from '../../src/engine/records.js';
import { RuntimeDriver } from '../../src/runtime/driver.js';
import { readEvents, supervisorPaths, supervisorStatus } from '../../src/supervisor/index.js';
import { runtimeStatus } from '../../src/supervisor/runtime-status.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const compose = (image: string) => `
services:
  fail:
    image: ${image}
    command: ["sh", "-c", "sleep 0.2; exit 3"]
    restart: on-failure:2
  always:
    image: ${image}
    command: ["sh", "-c", "sleep 0.3"]
    restart: always
  steady:
    image: ${image}
    command: ["sh", "-c", "while true; do echo tick; sleep 0.1; done"]
    restart: unless-stopped
  healthy:
    image: ${image}
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 3600"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 300ms
      retries: 20
  sick:
    image: ${image}
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 200ms
      retries: 2
  slow:
    image: ${image}
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 5s
      start_period: 4s
      start_interval: 200ms
      retries: 1
  db:
    image: ${image}
    command: ["sh", "-c", "if [ -f /crashed ]; then exec sleep 3600; fi; touch /crashed; sleep 1; exit 1"]
    restart: on-failure
  app:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_started
        restart: true
  one:
    image: ${image}
    command: ["sh", "-c", "sleep 1; exit 5"]
`;

test('supervisor: restarts, healthchecks, kill -9 and adoption, wait/events/ls, idle exit', async (t) => {
  const root = await makeStackRoot();
  const project = `h4sup${process.pid}`;
  const dir = root.project(project, compose(testImage));
  const env = { ...root.env, BERTH_SUPERVISOR_IDLE_MS: '1500' };
  const berth = (...args: string[]) => runBerth(args, { cwd: dir, env });
  const c = (service: string) => `${project}-${service}-1`;
  const run = (service: string) => readRunInfo(project, c(service), env);
  const driver = new RuntimeDriver({ env });
  const status = async (service: string) => (await runtimeStatus(driver, c(service))).status;
  const events = () => readEvents(project, { containersOnly: true }, { env });
  const eventsOf = (service: string, action: string) => events().filter((e) => e.type === 'container' && e.service === service && e.action === action);
  t.after(() => {
    berth('down', '-t', '1');
    root.remove();
  });

  const up = berth('up', '-d');
  assert.equal(up.status, 0, up.stderr);
  const first = await supervisorStatus(project, { env });
  assert.ok(first.running && first.pid, 'up started the supervisor');

  await t.test('healthchecks: start_period with start_interval, healthy, unhealthy', async () => {
    // First, while "slow" is young. retries 1: the first failure that counts makes it unhealthy, so the
    // failures before it fell in the start period and did not count; there were several, so start_interval
    // (200 ms), not interval (5 s), paced the probes there. (The supervisor starts after `up` started
    // the containers, so fewer than 4 s / 200 ms probes fit.)
    const slow = await waitFor('slow unhealthy after its start period', () => run('slow').health?.status === 'unhealthy' && run('slow').health);
    assert.equal(slow.failingStreak, 1);
    const started = Date.parse(run('slow').startedAt!);
    const inStartPeriod = slow.log.filter((entry) => Date.parse(entry.start) < started + 4000);
    assert.ok(inStartPeriod.length >= 3, `probes in the start period: ${inStartPeriod.length}`);
    const healthy = await waitFor('healthy', () => run('healthy').health?.status === 'healthy' && run('healthy').health);
    assert.equal(healthy.failingStreak, 0);
    assert.ok(healthy.log.length >= 1 && healthy.log.length <= 5);
    const sick = await waitFor('unhealthy', () => run('sick').health?.status === 'unhealthy' && run('sick').health);
    assert.ok(sick.failingStreak >= 2);
    assert.equal(sick.log.at(-1)!.exitCode, 1);
    assert.equal(eventsOf('healthy', 'healthy').length, 1);
    assert.equal(eventsOf('sick', 'unhealthy').length, 1);
  });

  await t.test('on-failure:2 restarts exactly twice, with backoff', async () => {
    await waitFor('fail restarted twice and stopped', async () => run('fail').restartCount === 2 && (await status('fail')) === 'stopped' && !run('fail').restartingAt);
    await sleep(1000);
    assert.equal(run('fail').restartCount, 2);
    assert.equal(run('fail').exitCode, 3);
    assert.equal(eventsOf('fail', 'exited').length, 3);
    const restarts = eventsOf('fail', 'restarting');
    const dies = eventsOf('fail', 'exited');
    assert.equal(restarts.length, 2);
    assert.ok(restarts[0].time - dies[0].time >= 100, 'first restart after at least 100 ms');
    assert.ok(restarts[1].time - dies[1].time >= 200, 'second restart after at least 200 ms');
    // A user start resets the count (Docker semantics): the policy's two retries are available again.
    const start = berth('start', 'fail');
    assert.equal(start.status, 0, start.stderr);
    await waitFor('fail restarted twice more', async () => eventsOf('fail', 'restarting').length === 4 && run('fail').restartCount === 2 && (await status('fail')) === 'stopped' && !run('fail').restartingAt);
  });

  await t.test('always restarts a container that exits 0', async () => {
    await waitFor('always restarted twice', () => run('always').restartCount >= 2);
  });

  await t.test('depends_on restart: true restarts the dependent after its dependency restarted', async () => {
    await waitFor('db restarted', () => run('db').restartCount === 1 && !run('db').restartingAt);
    const restarted = await waitFor('app restarted', () => eventsOf('app', 'restarting')[0]);
    assert.deepEqual(restarted.type === 'container' && restarted.reasons, ['dependency "db" restarted']);
    await waitFor('app started again', async () => Date.parse(run('app').startedAt!) >= restarted.time && (await status('app')) === 'running');
  });

  await t.test('kill -9 of the supervisor loses nothing; the next one adopts', async () => {
    const before = await supervisorStatus(project, { env });
    assert.ok(before.pid);
    const logPath = readRecord(project, c('steady'), env)!.logPath;
    process.kill(before.pid, 'SIGKILL');
    await waitFor('supervisor gone', () => !alive(before.pid!));
    const size = statSync(logPath).size;
    const alwaysCount = run('always').restartCount;
    await sleep(1200);
    assert.equal(await status('steady'), 'running', 'containers keep running');
    assert.ok(statSync(logPath).size > size, 'and their logs keep being written');
    assert.equal(await status('always'), 'stopped', 'nobody restarted "always" meanwhile');
    assert.equal((await supervisorStatus(project, { env })).running, false);
    // `ps` (like `logs` and `exec`) brings a supervisor back when containers run and none answers.
    assert.equal(berth('ps', '-q').status, 0);
    const after = await waitFor('a new supervisor', async () => { const s = await supervisorStatus(project, { env }); return s.running && s; });
    assert.ok(after.pid !== before.pid);
    // The exit "always" made while no supervisor ran is found and acted on.
    await waitFor('always restarted by the new supervisor', () => run('always').restartCount > alwaysCount);
    assert.equal(run('healthy').health?.status, 'healthy', 'health kept across the adoption');
    assert.equal((await supervisorStatus(project, { env })).containers?.length, 9);
  });

  await t.test('unless-stopped: stop is not undone; events -f shows it', async () => {
    // A follower from just before the stop: what it prints comes from the replay or from following.
    const follower = spawn(process.execPath, [berthBin, 'events', '--json', '--since', new Date().toISOString(), 'steady'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => { followed += chunk.toString(); });
    const stop = berth('stop', '-t', '1', 'steady');
    assert.equal(stop.status, 0, stop.stderr);
    await sleep(1500);
    const seen = await waitFor('die and stop followed', () => /"action":"die"/.test(followed) && /"action":"stop"/.test(followed) && followed);
    follower.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => follower.on('exit', (code) => resolve(code))), 0, 'events ends cleanly on SIGTERM');
    assert.ok(seen.trim().split('\n').every((line) => (JSON.parse(line) as { service: string }).service === 'steady'));
    assert.equal(await status('steady'), 'stopped');
    assert.equal(run('steady').restartCount, 0);
    assert.equal(run('steady').restartingAt, undefined);
    assert.equal(eventsOf('steady', 'exited').length, 1, 'its exit is still reported (die)');
  });

  await t.test('wait prints the exit code and exits with it', () => {
    const wait = berth('wait', 'one');
    assert.equal(wait.status, 5, wait.stderr);
    assert.equal(wait.stdout, `container "${c('one')}" exited with status code 5\n`);
    const none = berth('wait', 'nosuch');
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no such service: "nosuch"/);
  });

  await t.test('events: Compose text and JSON', () => {
    const text = berth('events', '--since', '1h', '--until', '0s');
    assert.equal(text.status, 0, text.stderr);
    const line = `container die ${c('fail')} (exitCode=3, image=${testImage}, name=${c('fail')})`;
    assert.match(text.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${line.replace(/[.()]/g, '\\$&')}$`, 'm'));
    assert.match(text.stdout, new RegExp(`container restart ${c('fail')} `));
    assert.match(text.stdout, new RegExp(`container health_status: healthy ${c('healthy')} `));
    const json = berth('events', '--json', '--since', '1h', '--until', '0s', 'sick');
    assert.equal(json.status, 0, json.stderr);
    const parsed = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { service: string; action: string; id: string; attributes: Record<string, string> });
    assert.ok(parsed.length >= 3);
    assert.ok(parsed.every((e) => e.service === 'sick' && e.id === c('sick')));
    assert.deepEqual(parsed.map((e) => e.action).filter((a) => a.startsWith('health')), ['health_status: unhealthy']);
  });

  await t.test('ls: running projects, -a, json, -q and --filter', () => {
    const table = berth('ls');
    assert.equal(table.status, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header, /^NAME\s+STATUS\s+CONFIG FILES$/);
    const row = rows.find((r) => r.startsWith(`${project} `));
    assert.ok(row, table.stdout);
    assert.match(row, /\srunning\(\d+\)\s/);
    assert.ok(row.endsWith(`${dir}/compose.yaml`));
    const all = berth('ls', '-a', '--format', 'json', '--filter', `name=${project}`);
    const [entry] = JSON.parse(all.stdout) as Array<{ Name: string; Status: string; ConfigFiles: string }>;
    assert.equal(entry.Name, project);
    assert.match(entry.Status, /^exited\(\d\), (restarting\(1\), )?running\(\d\)$/, 'sorted states with counts');
    assert.equal(berth('ls', '-q', '--filter', `name=${project}`).stdout, `${project}\n`);
    assert.equal(berth('ls', '-q', '--filter', 'name=nothing-like-this').stdout, '');
  });

  await t.test('memory, then exit once nothing runs', async (st) => {
    const current = await supervisorStatus(project, { env });
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${current.pid}/status`, 'utf8'))![1]);
    st.diagnostic(`supervisor VmRSS ${(rssKiB / 1024).toFixed(1)} MiB watching 9 containers (after restarts and health probes)`);
    assert.ok(rssKiB <= 60 * 1024, `supervisor uses ${rssKiB} KiB`);
    const stop = berth('stop', '-t', '1');
    assert.equal(stop.status, 0, stop.stderr);
    await waitFor('supervisor exit', () => !alive(current.pid!), 15_000);
    assert.equal(existsSync(supervisorPaths(project, env).pidFile), false);
    assert.equal(existsSync(supervisorPaths(project, env).socket), false);
  });

  await t.test('wait --down-project takes the project down once a container stopped', () => {
    const wait = berth('wait', '--down-project', 'one');
    assert.equal(wait.status, 5, wait.stderr);
    assert.equal(berth('ls', '-a', '-q', '--filter', `name=${project}`).stdout, '');
    assert.equal(berth('ps', '-a', '-q').stdout, '');
  });
});
