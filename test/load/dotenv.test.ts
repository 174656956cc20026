// The .env parser: comments, export, quotes, escapes, interpolation, multi-line values, raw format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseDotenv, readEnvFile } from '../../src/load/index.js';
import { writeFixture } from './fixture.js';

test('comments, blank lines, export prefix and spaces around =', () => {
  const text = '# comment\n\nexport A=1\n  B = two  \nC=\n';
  assert.deepEqual(parseDotenv(text, '.env'), { A: '1', B: 'two', C: '' });
});

test('unquoted values drop inline " #" comments but keep # inside words', () => {
  assert.deepEqual(parseDotenv('A=x # note\nB=a#b\n', '.env'), { A: 'x', B: 'a#b' });
});

test('single quotes are literal', () => {
  assert.deepEqual(parseDotenv("A='${HOME} \\n $x'\n", '.env'), { A: '${HOME} \\n $x' });
});

test('double quotes process escapes and keep " #"', () => {
  assert.deepEqual(parseDotenv('A="line1\\nline2\\ttab \\\\ \\" # not a comment"\n', '.env'), { A: 'line1\nline2\ttab \\ " # not a comment' });
});

test('unquoted and double-quoted values interpolate earlier variables and the environment', () => {
  const lookup = (name: string) => (name === 'OUTER' ? { value: 'o', from: 'environment' } : undefined);
  const env = parseDotenv('A=1\nB=${A}-$OUTER\nC="${A:-x}2"\nD=\'${A}\'\nE=$$A\n', '.env', { lookup });
  assert.deepEqual(env, { A: '1', B: '1-o', C: '12', D: '${A}', E: '$A' });
});

test('quoted values may span several lines', () => {
  assert.deepEqual(parseDotenv('A="one\ntwo"\nB=\'x\ny\'\nC=3\n', '.env'), { A: 'one\ntwo', B: 'x\ny', C: '3' });
});

test('VAR alone takes the value from the environment, or nothing', () => {
  const lookup = (name: string) => (name === 'SET' ? { value: 'v', from: 'environment' } : undefined);
  assert.deepEqual(parseDotenv('SET\nUNSET\n', '.env', { lookup }), { SET: 'v' });
});

test('format raw keeps values exactly as written', () => {
  assert.deepEqual(parseDotenv('A="q" # c\nB=${X}\n', '.env', { format: 'raw' }), { A: '"q" # c', B: '${X}' });
});

test('errors name file and line', () => {
  assert.throws(() => parseDotenv('A=1\nbad key=2\n', 'conf/app.env'), (error: Error & { source?: { file: string; line: number } }) => {
    assert.equal(error.message, 'invalid variable name "bad key" in env file');
    assert.equal(error.source?.file, 'conf/app.env');
    assert.equal(error.source?.line, 2);
    return true;
  });
  assert.throws(() => parseDotenv('A=1\nB="open\n', 'x.env'), /unterminated double-quoted value of "B"/);
  assert.throws(() => parseDotenv('A=${B:?need B}\n', 'x.env'), /required variable "B" is missing a value: need B \(in the value of "A"\)/);
});

test('readEnvFile: missing file is an error unless not required', (t) => {
  const dir = writeFixture(t, { 'a.env': 'A=1\r\nB=2\r\n' });
  assert.deepEqual(readEnvFile(path.join(dir, 'a.env')), { A: '1', B: '2' });
  assert.deepEqual(readEnvFile(path.join(dir, 'none.env'), { required: false }), {});
  assert.throws(() => readEnvFile(path.join(dir, 'none.env')), /env file ".*none\.env" not found/);
});
