// The event journal: append from several writers, bounded by rotation, read back filtered,
// followed across rotation, and printed in Compose's text and JSON forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { appendEvent, followEvents, formatEventJson, formatEventText, readEvents, type StoredEvent } from '../../src/supervisor/events.js';
import { supervisorPaths } from '../../src/supervisor/paths.js';
import type { EngineEvent } from '../../src/engine/types.js';

function tempEnv(t: { after(fn: () => void): void }): NodeJS.ProcessEnv {
  const root = mkdtempSync('/tmp/berth-events-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return { ...process.env, BERTH_ROOT: root, BERTH_RUN_ROOT: `${root}/run` };
}

const ev = (action: 'started' | 'exited' | 'healthy' | 'creating', service: string, time: number, exitCode?: number): EngineEvent =>
  ({ type: 'container', action, service, name: `p-${service}-1`, time, ...(exitCode === undefined ? {} : { exitCode }) });

test('append, read back with service/time filters, rotation keeps the journal bounded', (t) => {
  const env = tempEnv(t);
  appendEvent('p', ev('started', 'web', 1000), { env, image: 'nginx' });
  appendEvent('p', ev('exited', 'db', 2000, 3), { env });
  appendEvent('p', { type: 'network', action: 'create', name: 'p_default', time: 1500 }, { env });
  assert.equal(readEvents('p', {}, { env }).length, 3);
  assert.deepEqual(readEvents('p', { services: ['db'] }, { env }).map((e) => e.type === 'container' && e.exitCode), [3]);
  assert.deepEqual(readEvents('p', { since: 1500, containersOnly: true }, { env }).map((e) => e.time), [2000]);
  const file = supervisorPaths('p', env).events;
  for (let i = 0; i < 200; i++) appendEvent('p', ev('started', 'web', 3000 + i), { env, maxBytes: 4096 });
  assert.ok(statSync(file).size <= 4096 + 200, 'current part stays near maxBytes');
  assert.ok(existsSync(`${file}.1`));
  const kept = readEvents('p', {}, { env });
  assert.ok(kept.length < 203 && kept.length > 20, `kept ${kept.length}`);
  assert.equal(kept[kept.length - 1].time, 3199, 'the newest event survives rotation');
});

test('followEvents sees new events, also across a rotation', async (t) => {
  const env = tempEnv(t);
  appendEvent('p', ev('started', 'old', 1), { env });
  const seen: StoredEvent[] = [];
  const follower = followEvents('p', { containersOnly: true }, (event) => seen.push(event), { env, intervalMs: 20 });
  for (let i = 0; i < 60; i++) {
    appendEvent('p', ev('exited', 'web', 100 + i, i), { env, maxBytes: 2048 });
    if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 40));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  follower.stop();
  assert.ok(!seen.some((e) => e.type === 'container' && e.service === 'old'), 'starts at the end of the journal');
  const codes = seen.map((e) => (e.type === 'container' ? e.exitCode : -1));
  assert.ok(codes.length >= 55, `saw ${codes.length} of 60`);
  assert.ok(codes.every((code, i) => i === 0 || (code ?? 0) > (codes[i - 1] ?? 0)), `in order, no duplicates: ${codes.join(',')}`);
});

test('text and JSON forms follow Compose', () => {
  const time = new Date(2026, 10, 23, 10, 4, 5, 123).getTime();
  const die: StoredEvent = { ...ev('exited', 'web', time, 3), image: 'nginx:1' } as StoredEvent;
  assert.equal(formatEventText(die), '2026-11-23 10:04:05.123000 container die p-web-1 (exitCode=3, image=nginx:1, name=p-web-1)');
  assert.deepEqual(JSON.parse(formatEventJson(die)!), {
    time: new Date(time).toISOString(), type: 'container', service: 'web', id: 'p-web-1', action: 'die',
    attributes: { exitCode: '3', image: 'nginx:1', name: 'p-web-1' },
  });
  assert.equal(formatEventText(ev('healthy', 'web', time))?.includes('container health_status: healthy p-web-1 (name=p-web-1)'), true);
  assert.equal(formatEventText(ev('creating', 'web', time)), undefined, 'internal steps are not shown');
});
