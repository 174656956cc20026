/**
 * Golden tests of `berth config --format json`: every folder here is one case, run through the real CLI. `expected.json` is the output with the case folder
 * replaced by `<dir>`; cases that must fail keep `expected-error.txt` (exit code + stderr).
 * Optional `args` (one CLI argument per line, before `config`) and `env` (KEY=VALUE lines).
 * BERTH_UPDATE_GOLDEN=1 rewrites the expectations: review the diff like code.
 */
import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { berthBin, type CliResult } from '../helpers/cli.js';

/** runBerth's asynchronous twin, so that several cases run at once (each is mostly node start-up). */
function runBerthAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [berthBin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const casesDir = path.join(packageRoot, 'test', 'config');
const update = process.env.BERTH_UPDATE_GOLDEN === '1';

function readLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')) : [];
}

/** Runs one case; returns the text to compare and which expectation file it belongs in. */
async function runCase(dir: string): Promise<{ file: string; text: string }> {
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
  const result = await runBerthAsync([...args, 'config', '--format', 'json', ...tail], dir, env);
  // Exit 70 is a berth bug (or a half-built dist/): never record it as an expectation.
  assert.notEqual(result.status, 70, result.stderr);
  const scrub = (text: string): string => text.split(dir).join('<dir>').split('/home/tester').join('<home>');
  if (result.status === 0) return { file: 'expected.json', text: scrub(result.stdout) };
  return { file: 'expected-error.txt', text: `exit ${result.status}\n${scrub(result.stderr)}` };
}

const cases = fs.readdirSync(casesDir).filter((name) => fs.statSync(path.join(casesDir, name)).isDirectory()).sort();

test('there are at least 40 golden cases', () => {
  assert.ok(cases.length >= 40, `only ${cases.length} cases`);
});

describe('config goldens', { concurrency: 4 }, () => {
  for (const name of cases) {
    test(`config golden: ${name}`, async () => {
      const dir = path.join(casesDir, name);
      const { file, text } = await runCase(dir);
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
});
