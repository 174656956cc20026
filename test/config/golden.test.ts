/**
 * Golden tests of `berth config --format json`: every folder here is one case, run through the real CLI. `expected.json` is the output with the case folder
 * replaced by `<dir>`; cases that must fail keep `expected-error.txt` (exit code + stderr).
 * Optional `args` (one CLI argument per line, before `config`) and `env` (KEY=VALUE lines).
 * BERTH_UPDATE_GOLDEN=1 rewrites the expectations: review the diff like code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { runBerth } from '../helpers/cli.js';

const casesDir = path.join(packageRoot, 'test', 'config');
const update = process.env.BERTH_UPDATE_GOLDEN === '1';

function readLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')) : [];
}

/** Runs one case; returns the text to compare and which expectation file it belongs in. */
function runCase(dir: string): { file: string; text: string } {
  const args = readLines(path.join(dir, 'args'));
  const env: NodeJS.ProcessEnv = {
    HOME: '/home/tester',
    COMPOSE_FILE: undefined, COMPOSE_PROJECT_NAME: undefined, COMPOSE_PROFILES: undefined, COMPOSE_ENV_FILES: undefined,
    COMPOSE_PATH_SEPARATOR: undefined, COMPOSE_DISABLE_ENV_FILE: undefined,
  };
  for (const line of readLines(path.join(dir, 'env'))) {
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const tail = readLines(path.join(dir, 'config-args'));
  const result = runBerth([...args, 'config', '--format', 'json', ...tail], { cwd: dir, env });
  const scrub = (text: string): string => text.split(dir).join('<dir>').split('/home/tester').join('<home>');
  if (result.status === 0) return { file: 'expected.json', text: scrub(result.stdout) };
  return { file: 'expected-error.txt', text: `exit ${result.status}\n${scrub(result.stderr)}` };
}

const cases = fs.readdirSync(casesDir).filter((name) => fs.statSync(path.join(casesDir, name)).isDirectory()).sort();

test('there are at least 40 golden cases', () => {
  assert.ok(cases.length >= 40, `only ${cases.length} cases`);
});

for (const name of cases) {
  test(`config golden: ${name}`, () => {
    const dir = path.join(casesDir, name);
    const { file, text } = runCase(dir);
    const expectedFile = path.join(dir, file);
    if (update) {
      for (const stale of ['expected.json', 'expected-error.txt']) if (stale !== file) fs.rmSync(path.join(dir, stale), { force: true });
      fs.writeFileSync(expectedFile, text);
      return;
    }
    assert.ok(fs.existsSync(expectedFile), `${name}: got ${file} but it does not exist; output:\n${text}`);
    const expected = fs.readFileSync(expectedFile, 'utf8');
    if (file === 'expected.json') assert.deepEqual(JSON.parse(text), JSON.parse(expected));
    assert.equal(text, expected);
  });
}
