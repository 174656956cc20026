/**
 * Golden tests of what users see for invalid projects: each folder under fixtures/ holds a
 * compose.yaml (and any files it needs) and expected.txt, the full text `formatError` prints.
 * The real loader reads the folder, then validation runs. Regenerate with BERTH_UPDATE_GOLDEN=1
 * and review the diff like code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BerthError, formatError } from '../../src/errors.js';
import { loadCompose } from '../../src/load/index.js';
import { packageRoot } from '../../src/paths.js';
import { validateCompose } from '../../src/validate/index.js';

const fixturesDir = path.join(packageRoot, 'test', 'validate', 'fixtures');
const update = process.env.BERTH_UPDATE_GOLDEN === '1';

/** Loads and validates a fixture folder; returns the printed error, absolute paths made relative. */
async function errorText(dir: string): Promise<string> {
  const envPath = path.join(dir, 'env.json');
  // The fixture's own variables only: the test runner's environment must not leak in.
  const env = existsSync(envPath) ? (JSON.parse(readFileSync(envPath, 'utf8')) as Record<string, string>) : {};
  try {
    validateCompose(await loadCompose({ cwd: dir, env }));
  } catch (error) {
    if (!(error instanceof BerthError)) throw error;
    return `${formatError(error).split(`${dir}/`).join('').split(dir).join('.')}\n`;
  }
  return 'no error\n';
}

const cases = readdirSync(fixturesDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();

test('there are at least 30 invalid fixtures', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} fixtures`);
});

for (const name of cases) {
  test(`fixture ${name}`, async () => {
    const dir = path.join(fixturesDir, name);
    const actual = await errorText(dir);
    const expectedPath = path.join(dir, 'expected.txt');
    if (update || !existsSync(expectedPath)) {
      writeFileSync(expectedPath, actual);
      if (!update) assert.fail(`wrote ${path.relative(packageRoot, expectedPath)}; review it and run again`);
    }
    assert.notEqual(actual, 'no error\n', 'an invalid fixture must fail to validate');
    assert.equal(actual, readFileSync(expectedPath, 'utf8'));
  });
}
