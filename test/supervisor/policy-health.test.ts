// Restart decisions, backoff and the healthcheck state machine are pure: checked here without
// containers or sleeping (the e2e test drives the same code with real containers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextBackoff, shouldRestart, type Backoff } from '../../src/supervisor/restart-policy.js';
import { applyProbe, healthcheckDisabled, initialHealth, nextProbeAt, probeCommand } from '../../src/supervisor/health.js';
import type { HealthcheckSpec, RestartPolicy } from '../../src/engine/types.js';

const policy = (name: RestartPolicy['name'], maxRetries = 0): RestartPolicy => ({ name, maxRetries });

test('restart policies: no, always, unless-stopped, on-failure[:max], never after a user stop', () => {
  const fresh = { restartCount: 0 };
  assert.equal(shouldRestart(policy('no'), 1, fresh), false);
  assert.equal(shouldRestart(policy('always'), 0, fresh), true);
  assert.equal(shouldRestart(policy('unless-stopped'), 0, fresh), true);
  assert.equal(shouldRestart(policy('on-failure'), 0, fresh), false);
  assert.equal(shouldRestart(policy('on-failure'), 3, { restartCount: 99 }), true, 'no maximum: unlimited');
  assert.equal(shouldRestart(policy('on-failure', 2), 3, { restartCount: 0 }), true);
  assert.equal(shouldRestart(policy('on-failure', 2), 3, { restartCount: 1 }), true);
  assert.equal(shouldRestart(policy('on-failure', 2), 3, { restartCount: 2 }), false, 'on-failure:2 restarts exactly twice');
  for (const name of ['always', 'unless-stopped', 'on-failure'] as const) {
    assert.equal(shouldRestart(policy(name), 1, { restartCount: 0, stoppedByUser: true }), false, `${name} after stop`);
  }
});

test('backoff: 100 ms doubling to 1 min, back to 100 ms after a 10 s run', () => {
  let backoff: Backoff = { lastDelayMs: 0 };
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) {
    const step = nextBackoff(backoff, 50);
    delays.push(step.delayMs);
    backoff = step.backoff;
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(nextBackoff(backoff, 10_000).delayMs, 100);
  assert.equal(nextBackoff(backoff, 9_999).delayMs, 60000);
});

const spec = (over: Partial<HealthcheckSpec> = {}): HealthcheckSpec => ({
  test: ['CMD-SHELL', 'exit 0'], intervalMs: 1000, timeoutMs: 500, retries: 3, startPeriodMs: 0, startIntervalMs: 100, ...over,
});
const probe = (at: number, exitCode: number) => ({ start: at, end: at + 5, exitCode, output: `code ${exitCode}` });

test('health: healthy on success, unhealthy after `retries` failures, one success heals', () => {
  const s = spec();
  let h = initialHealth();
  h = applyProbe(h, s, probe(1000, 1), 0);
  assert.deepEqual([h.status, h.failingStreak], ['starting', 1]);
  h = applyProbe(h, s, probe(2000, 0), 0);
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 0]);
  for (let i = 0; i < 2; i++) h = applyProbe(h, s, probe(3000 + i, 1), 0);
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 2]);
  h = applyProbe(h, s, probe(4000, -1), 0);
  assert.deepEqual([h.status, h.failingStreak], ['unhealthy', 3]);
  assert.equal(h.log.length, 5, 'only the last 5 results are kept');
  assert.equal(h.log[4].exitCode, -1);
  h = applyProbe(h, s, probe(5000, 0), 0);
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 0]);
});

test('health: failures inside start_period do not count; probes every start_interval until then', () => {
  const s = spec({ startPeriodMs: 5000, startIntervalMs: 200, intervalMs: 3000, retries: 1 });
  let h = initialHealth();
  h = applyProbe(h, s, probe(1000, 1), 0);
  h = applyProbe(h, s, probe(4000, 1), 0);
  assert.deepEqual([h.status, h.failingStreak, h.log.length], ['starting', 0, 2]);
  assert.equal(nextProbeAt(h, s, 4000, 0), 4200, 'start_interval inside the start period');
  assert.equal(nextProbeAt(h, s, 6000, 0), 9000, 'interval after it');
  h = applyProbe(h, s, probe(6000, 1), 0);
  assert.deepEqual([h.status, h.failingStreak], ['unhealthy', 1]);
  // A success inside the start period ends it: failures count from then on.
  let g = applyProbe(initialHealth(), s, probe(1000, 0), 0);
  g = applyProbe(g, s, probe(1200, 1), 0);
  assert.deepEqual([g.status, g.failingStreak], ['unhealthy', 1]);
  assert.equal(nextProbeAt(g, s, 1200, 0), 4200, 'no start_interval once the container left "starting"');
});

test('health: probe commands and disabled checks', () => {
  assert.deepEqual(probeCommand(spec({ test: ['CMD', 'curl', '-f', 'http://x'] })), ['curl', '-f', 'http://x']);
  assert.deepEqual(probeCommand(spec({ test: ['CMD-SHELL', 'test -f /ok'] })), ['/bin/sh', '-c', 'test -f /ok']);
  assert.equal(healthcheckDisabled(spec({ test: ['NONE'] })), true);
  assert.equal(healthcheckDisabled(undefined), true);
  assert.equal(healthcheckDisabled(spec()), false);
  const long = applyProbe(initialHealth(), spec(), { start: 0, end: 1, exitCode: 0, output: 'x'.repeat(10_000) }, 0);
  assert.equal(long.log[0].output.length, 4096);
});
