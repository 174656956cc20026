/** command/entrypoint: strings split into words as a shell would; lists kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, splitShellWords } from '../../src/model/index.js';
import { loadedFrom } from './loaded.js';

test('shell words: quotes, escapes and whitespace', () => {
  assert.deepEqual(splitShellWords(`sh -c 'echo "a  b"'`), ['sh', '-c', 'echo "a  b"']);
  assert.deepEqual(splitShellWords(`echo one\\ two "three \\"four\\"" '' x`), ['echo', 'one two', 'three "four"', '', 'x']);
  assert.deepEqual(splitShellWords('  spaced\tout\n '), ['spaced', 'out']);
});

test('an unterminated quote is an error with a hint', () => {
  assert.throws(() => splitShellWords(`echo "oops`), /unterminated double quote/);
  assert.throws(() => splitShellWords(`echo 'oops`), /unterminated single quote/);
});

test('string command and entrypoint become lists; lists and empty lists are kept', () => {
  const project = normalize(loadedFrom({ services: {
    a: { image: 'x', command: 'npm run "dev server"', entrypoint: '/init --' },
    b: { image: 'x', command: ['echo', 1], entrypoint: [] },
  } }));
  assert.deepEqual(project.services.get('a')!.command, ['npm', 'run', 'dev server']);
  assert.deepEqual(project.services.get('a')!.entrypoint, ['/init', '--']);
  assert.deepEqual(project.services.get('b')!.command, ['echo', '1']);
  assert.deepEqual(project.services.get('b')!.entrypoint, []);
});
