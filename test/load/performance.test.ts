// Loading stays linear and fast: a generated 1000-service project with anchors, interpolation and an override file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCompose } from '../../src/load/index.js';
import { writeFixture } from './fixture.js';

function generate(count: number): string {
  const lines = ['name: perf', 'x-base: &base', '  restart: unless-stopped', '  labels:', '    team: core', 'services:'];
  for (let i = 0; i < count; i++) {
    lines.push(
      `  svc${i}:`, '    <<: *base', `    image: "registry.local/app${i}:\${TAG:-latest}"`, '    ports:', `      - "${10000 + i}:80"`,
      '    environment:', `      INDEX: "${i}"`, '      MODE: ${MODE:-prod}', '    volumes:', `      - ./data/${i}:/data`,
      '    healthcheck:', '      test: ["CMD", "true"]', '      interval: 5s',
    );
    if (i > 0) lines.push('    depends_on:', `      - svc${i - 1}`);
  }
  return lines.join('\n') + '\n';
}

test('1000 services with an override file load in bounded time', async (t) => {
  const override = 'services:\n' + Array.from({ length: 1000 }, (_, i) => `  svc${i}:\n    environment:\n      EXTRA: "1"\n`).join('');
  const dir = writeFixture(t, { 'compose.yaml': generate(1000), 'compose.override.yaml': override });
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const loaded = await loadCompose({ cwd: dir, env: { TAG: '1' } });
    best = Math.min(best, performance.now() - started);
    assert.equal(Object.keys(loaded.document.services as object).length, 1000);
  }
  t.diagnostic(`loadCompose, 1000 services + override: best of 3 ${best.toFixed(0)} ms`);
  // Generous bound: the build machine is shared; the figure above is what matters.
  assert.ok(best < 10_000, `took ${best.toFixed(0)} ms`);
});

test('load time grows linearly with the number of services', async (t) => {
  const timeFor = async (count: number): Promise<number> => {
    const dir = writeFixture(t, { 'compose.yaml': generate(count) });
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      await loadCompose({ cwd: dir, env: {} });
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  await timeFor(200);
  const small = await timeFor(250);
  const large = await timeFor(2000);
  t.diagnostic(`250 services ${small.toFixed(0)} ms, 2000 services ${large.toFixed(0)} ms`);
  // 8x the services; quadratic work would show as ~64x.
  assert.ok(large / small < 24, `ratio ${(large / small).toFixed(1)}`);
});
