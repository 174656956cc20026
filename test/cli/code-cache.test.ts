/**
 * loadCachedBundle(): the first run of a bundle writes a V8 code cache when it exits, later runs
 * use it (and leave it alone), a changed bundle gets a fresh cache that replaces the old one, and
 * the command word of a command line picks the cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandKey } from '../../src/boot/cached-bundle.js';

const loader = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/boot/cached-bundle.js');

/** Runs the bundle in a fresh node through the loader; returns what its `answer()` returned. */
function run(bundle: string, key: string, env: NodeJS.ProcessEnv = process.env): string {
  const script = `import { loadCachedBundle } from ${JSON.stringify(loader)};\nprocess.stdout.write(String(loadCachedBundle(${JSON.stringify(bundle)}, ${JSON.stringify(key)}).answer()));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('a bundle runs from its code cache once the first run wrote it', (t) => {
  const dir = mkdtempSync('/tmp/berth-code-cache-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = path.join(dir, 'tool.cjs');
  const body = (n: number) => `'use strict';\nconst list = [];\nfor (let i = 0; i < ${n}; i++) list.push(i * 2);\nexports.answer = () => list.reduce((a, b) => a + b, 0) + ':' + __filename.endsWith('tool.cjs');\n`;
  writeFileSync(bundle, body(10));
  const cacheDir = path.join(dir, '.cache');

  assert.equal(run(bundle, 'up'), '90:true');
  const first = readdirSync(cacheDir);
  assert.equal(first.length, 1, 'the first run wrote one cache file');
  assert.match(first[0], new RegExp(`^tool-up-${process.version.replace(/\./g, '\\.')}-${process.arch}-`));
  const written = statSync(path.join(cacheDir, first[0])).mtimeMs;

  assert.equal(run(bundle, 'up'), '90:true');
  assert.deepEqual(readdirSync(cacheDir), first);
  assert.equal(statSync(path.join(cacheDir, first[0])).mtimeMs, written, 'a run that used the cache leaves it as it is');

  // Another command has its own cache.
  assert.equal(run(bundle, 'ps'), '90:true');
  assert.equal(readdirSync(cacheDir).length, 2);

  // A rebuilt bundle: the old cache of that command is replaced, not used.
  writeFileSync(bundle, body(100));
  assert.equal(run(bundle, 'up'), '9900:true');
  const after = readdirSync(cacheDir).filter((name) => name.startsWith('tool-up-'));
  assert.equal(after.length, 1);
  assert.notEqual(after[0], first[0]);

  // Keys that are not plain command words share one cache; BERTH_NO_CODE_CACHE=1 writes none.
  assert.equal(run(bundle, '../../etc'), '9900:true');
  assert.ok(readdirSync(cacheDir).some((name) => name.startsWith('tool-other-')));
  rmSync(cacheDir, { recursive: true });
  assert.equal(run(bundle, 'up', { ...process.env, BERTH_NO_CODE_CACHE: '1' }), '9900:true');
  assert.throws(() => readdirSync(cacheDir), /ENOENT/);
});

test('the command word of a command line skips global flags and their values', () => {
  assert.equal(commandKey(['node', 'berth', '-p', 'web', '-f', 'a.yaml', 'up', '-d']), 'up');
  assert.equal(commandKey(['node', 'berth', '--project-directory', 'ps', '--ansi', 'never', 'logs']), 'logs');
  assert.equal(commandKey(['node', 'berth', '--file=x.yaml', 'down']), 'down');
  assert.equal(commandKey(['node', 'berth', '--help']), 'help');
});
