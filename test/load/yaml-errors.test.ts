// YAML problems: malformed text, duplicate keys, empty files, non-mapping top level, alias bombs, size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadCompose, MAX_COMPOSE_FILE_BYTES } from '../../src/load/index.js';
import { errorOf, loadFixture, services, writeFixture } from './fixture.js';

test('malformed YAML names file, line, column and shows the line', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: [unclosed\n    ports: x\n' }));
  assert.match(error.message, /^invalid YAML: /);
  assert.equal(error.source?.file, 'compose.yaml');
  assert.ok((error.source?.line ?? 0) >= 3);
  assert.match(error.hint ?? '', /^line \d+: /);
});

test('a bad indentation is a YAML error with a location', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: a\n   ports: []\n' }));
  assert.match(error.message, /^invalid YAML: /);
  assert.equal(error.source?.line, 4);
});

test('duplicate keys are rejected with both lines', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: a\n    tty: true\n    image: b\n' }));
  assert.equal(error.message, 'duplicate key "image" in "compose.yaml" (first on line 3, again on line 5)');
  assert.deepEqual(error.source, { file: 'compose.yaml', line: 5, column: 5, path: 'services.web.image' });
});

test('an empty file is an error', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': '# nothing here\n' }));
  assert.equal(error.message, 'compose file "compose.yaml" is empty');
});

test('a top level that is not a mapping is an error', async (t) => {
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': '- web\n- db\n' }));
  assert.equal(error.message, 'top-level of compose file "compose.yaml" must be a mapping');
  assert.equal(error.source?.line, 1);
});

test('an alias bomb is stopped with an explanation', async (t) => {
  let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  text += 'services:\n  web:\n    image: a\n    x-bomb: *a8\n';
  const started = Date.now();
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': text }));
  assert.match(error.message, /YAML aliases in "compose\.yaml" expand to more than 250000 values/);
  assert.match(error.hint ?? '', /alias bomb/);
  assert.ok(Date.now() - started < 20_000, 'stopped in bounded time');
});

test('files over the size limit are refused before parsing', async (t) => {
  const big = 'services:\n  web:\n    image: a\n' + `x-pad: "${'p'.repeat(MAX_COMPOSE_FILE_BYTES)}"\n`;
  const started = Date.now();
  const error = await errorOf(() => loadFixture(t, { 'compose.yaml': big }));
  assert.match(error.message, new RegExp(`compose file ".*compose\\.yaml" is larger than ${MAX_COMPOSE_FILE_BYTES / 1024 / 1024} MB`));
  assert.ok(Date.now() - started < 5000);
});

test('several YAML documents in one file merge in order', async (t) => {
  const loaded = await loadFixture(t, { 'compose.yaml': 'services:\n  web:\n    image: a\n---\nservices:\n  web:\n    tty: true\n' });
  assert.deepEqual(services(loaded).web, { image: 'a', tty: true });
});

test('a 50 MB file is refused from its size alone, without reading it', async (t) => {
  const dir = writeFixture(t, { 'compose.yaml': '' });
  fs.truncateSync(path.join(dir, 'compose.yaml'), 50 * 1024 * 1024);
  const started = Date.now();
  const error = await errorOf(() => loadCompose({ cwd: dir, env: {} }));
  assert.match(error.message, /is larger than \d+ MB \(50\.0 MB\)/);
  assert.match(error.hint ?? '', /include/);
  assert.ok(Date.now() - started < 2000);
});
