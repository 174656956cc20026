// Progress output of a real `up`: --progress json gives one object per event and the startup
// timeline with its critical path; plain lines name each container step and say why a
// container is recreated, at field level; quiet prints nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cannotRunContainers } from '../runtime/runtimes.js';
import { runBerth } from '../helpers/cli.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { computeTimeline, renderTimeline } from '../../src/cli/timeline.js';

const skip = cannotRunContainers();

const compose = (level: string) => `services:
  migrate:
    image: ${testImage}
    command: ["sh", "-c", "sleep 0.3"]
  web:
    image: ${testImage}
    environment: { LOG_LEVEL: ${level} }
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    depends_on: { migrate: { condition: service_completed_successfully } }
`;

test('progress output of up and down', { skip }, async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-progress-' });
  const project = `h5prog${process.pid}`;
  const dir = root.project(project, compose('info'));
  const berth = (args: string[]) => runBerth(['-p', project, ...args], { cwd: dir, env: root.env });
  t.after(() => {
    berth(['down', '-t', '0']);
    root.remove();
  });

  await t.test('--progress json: one object per event, then the timeline with the critical path', () => {
    const result = berth(['--progress', 'json', 'up', '-d']);
    assert.equal(result.status, 0, result.stderr);
    const objects = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const web = objects.filter((o) => o.type === 'container' && o.name === `${project}-web-1`).map((o) => o.action);
    assert.ok(web.includes('created') && web.includes('started'), JSON.stringify(web));
    for (const object of objects) assert.match(String(object.time), /^\d{4}-\d\d-\d\dT/);
    const timeline = objects.at(-1) as { type: string; services: Array<{ service: string; startedMs?: number }>; criticalPath: Array<{ service: string; milestone: string }> };
    assert.equal(timeline.type, 'timeline');
    assert.deepEqual(timeline.services.map((s) => s.service).sort(), ['migrate', 'web']);
    assert.deepEqual(timeline.criticalPath.map((step) => `${step.service}:${step.milestone}`), ['migrate:exited', 'web:started']);
  });

  await t.test('--progress plain: container steps, recreate reasons at field level, and --timeline', () => {
    writeFileSync(path.join(dir, 'compose.yaml'), compose('debug'));
    const result = berth(['--progress', 'plain', 'up', '-d', '--timeline']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stderr.split('\n');
    assert.ok(lines.includes(` Container ${project}-web-1  Recreate`), result.stderr);
    assert.ok(lines.includes('   web: environment.LOG_LEVEL changed "info" -> "debug"'), result.stderr);
    assert.ok(lines.includes(` Container ${project}-web-1  Recreated`), result.stderr);
    assert.ok(lines.includes(` Container ${project}-web-1  Started`), result.stderr);
    assert.match(result.stderr, /Startup timeline \(total \d+\.\d\ds\)/);
    assert.match(result.stderr, /^web +\d+\.\d\ds +\d+\.\d\ds/m);
  });

  await t.test('--progress quiet prints nothing', () => {
    const result = berth(['--progress', 'quiet', 'down', '-t', '0']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
  });
});

test('timeline: the critical path follows the dependency that was ready last', () => {
  const at = (ms: number) => 1_000_000 + ms;
  const event = (service: string, action: 'created' | 'started' | 'healthy' | 'exited', ms: number) =>
    ({ type: 'container' as const, action, service, name: `p-${service}-1`, time: at(ms), ...(action === 'exited' ? { exitCode: 0 } : {}) });
  const events = [
    { type: 'network' as const, action: 'create' as const, name: 'p_default', time: at(0) },
    event('db', 'created', 100), event('cache', 'created', 100), event('db', 'started', 200), event('cache', 'started', 150),
    event('db', 'healthy', 1500), event('api', 'created', 1550), event('api', 'started', 1600),
    event('web', 'created', 1650), event('web', 'started', 1700),
  ];
  const timeline = computeTimeline(events, { web: { api: 'service_started', cache: 'service_started' }, api: { db: 'service_healthy', cache: 'service_started' } })!;
  assert.equal(timeline.totalMs, 1700);
  assert.deepEqual(timeline.criticalPath.map((step) => `${step.service}:${step.milestone}:${step.ms}`), ['db:healthy:1500', 'api:started:1600', 'web:started:1700']);
  const text = renderTimeline(timeline);
  assert.match(text, /^db +0\.10s +0\.20s +1\.50s +-$/m);
  assert.match(text, /Critical path: db \(healthy 1\.50s\) -> api \(started 1\.60s\) -> web \(started 1\.70s\)/);
});
