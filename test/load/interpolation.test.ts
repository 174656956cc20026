// Interpolation forms in compose values, $$ escapes, nesting, errors with location, --no-interpolate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolateString } from '../../src/load/index.js';
import { errorOf, loadFixture, services } from './fixture.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '' };
const lookup = (name: string) => (Object.hasOwn(env, name) ? { value: env[name], from: 'environment' } : undefined);
const run = (text: string) => interpolateString(text, lookup).value;

test('$VAR and ${VAR}', () => {
  assert.equal(run('a $SET b ${SET}c'), 'a value b valuec');
  assert.equal(run('$UNSET|${UNSET}'), '|');
});

test(':- and - defaults', () => {
  assert.equal(run('${UNSET:-d}|${EMPTY:-d}|${SET:-d}'), 'd|d|value');
  assert.equal(run('${UNSET-d}|${EMPTY-d}|${SET-d}'), 'd||value');
});

test(':+ and + alternatives', () => {
  assert.equal(run('${SET:+alt}|${EMPTY:+alt}|${UNSET:+alt}'), 'alt||');
  assert.equal(run('${SET+alt}|${EMPTY+alt}|${UNSET+alt}'), 'alt|alt|');
});

test(':? and ? required', () => {
  assert.equal(run('${SET:?x}${EMPTY?x}'), 'value');
  assert.throws(() => run('${EMPTY:?must be set}'), /required variable "EMPTY" is missing a value: must be set/);
  assert.throws(() => run('${UNSET?}'), /^Error: required variable "UNSET" is missing a value$|required variable "UNSET" is missing a value$/);
});

test('nested defaults', () => {
  assert.equal(run('${UNSET:-${ALSO_UNSET:-deep}}'), 'deep');
  assert.equal(run('${UNSET:-pre-${SET}-post}'), 'pre-value-post');
  assert.equal(run('${UNSET:-$SET}'), 'value');
});

test('$$ is a literal $', () => {
  assert.equal(run('$$SET and $${SET} cost $$5'), '$SET and ${SET} cost $5');
});

test('bad syntax is an error', () => {
  assert.throws(() => run('${SET'), /unterminated "\$\{"/);
  assert.throws(() => run('${}'), /"\$\{" must be followed by a variable name/);
  assert.throws(() => run('${SET:x}'), /unexpected ":x" after "\$\{SET"/);
  assert.throws(() => run('price $5'), /a "\$" must start a variable; write "\$\$" for a literal "\$"/);
});

test('a missing required variable in a compose file names variable, message, place and key path', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: "${TAG:?set TAG first}"\n' }));
  assert.equal(error.message, 'required variable "TAG" is missing a value: set TAG first (in "services.web.image")');
  // Column 13 is the "$" inside the quotes.
  assert.deepEqual(error.source, { file: 'compose.yaml', line: 3, column: 13, path: 'services.web.image' });
  assert.match(error.hint ?? '', /set "TAG"/);
});

test('invalid syntax in a compose file is located', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    command: echo ${oops\n' }));
  assert.match(error.message, /unterminated "\$\{" in "echo \$\{oops" \(in "services\.web\.command"\)/);
  assert.equal(error.source?.line, 3);
  assert.equal(error.source?.column, 19);
});

test('values are interpolated, keys are not', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    labels:\n      ${K}: ${V}\n' }, { env: { K: 'k', V: 'v' } });
  assert.deepEqual(services(loaded).web.labels, { '${K}': 'v' });
});

test('interpolated typed fields become booleans and numbers', async (t) => {
  const loaded = await loadFixture(
    t,
    { 'compose.yaml': 'services:\n  web:\n    read_only: ${RO}\n    scale: ${N}\n    image: "${N}"\n    ports:\n      - target: ${N}\n' },
    { env: { RO: 'true', N: '3' } },
  );
  const web = services(loaded).web;
  assert.equal(web.read_only, true);
  assert.equal(web.scale, 3);
  assert.equal(web.image, '3');
  assert.deepEqual(web.ports, [{ target: 3 }]);
});

test('interpolate: false keeps values as written', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: "${TAG:?x}"\n' }, { interpolate: false });
  assert.equal(services(loaded).web.image, '${TAG:?x}');
});

test('variables used are recorded per value', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: "$A:${B:-b}"\n' }, { env: { A: 'a' } });
  assert.equal(services(loaded).web.image, 'a:b');
  assert.deepEqual(loaded.sources.origin(['services', 'web', 'image'])?.variables, [
    { name: 'A', value: 'a', from: 'environment' },
    { name: 'B', value: undefined, from: 'unset' },
    { name: 'B', value: 'b', from: 'default' },
  ]);
});
