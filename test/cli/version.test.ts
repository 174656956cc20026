/** The CLI entry point starts, reports its version and prints usage errors without stacks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBerth } from '../helpers/cli.js';
import { berthVersion } from '../../src/version.js';

test('berth version prints the package version', () => {
  const result = runBerth(['version']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `berth version ${berthVersion}\n`);
});

test('berth version --format json is machine-readable', () => {
  const result = runBerth(['version', '--format', 'json']);
  assert.deepEqual(JSON.parse(result.stdout), { version: berthVersion });
});

test('an unknown command exits non-zero with a usage hint and no stack trace', () => {
  const result = runBerth(['frobnicate']);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /unknown command 'frobnicate'/);
  assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
});

test('the command is found after global flags and their values, whatever their form', () => {
  const result = runBerth(['-p', 'x', '--profile', 'debug', '--file=compose.yaml', '--ansi', 'never', 'version', '--short']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${berthVersion}\n`);
});

test('berth --help lists every command even though a run loads only its own', () => {
  const result = runBerth(['--help']);
  assert.equal(result.status, 0, result.stderr);
  for (const name of ['version', 'config', 'graph', 'load', 'save', 'import', 'pull', 'push', 'images', 'rmi', 'image', 'login', 'logout']) {
    assert.match(result.stdout, new RegExp(`^  ${name}\\b`, 'm'), `"${name}" is listed`);
  }
});
