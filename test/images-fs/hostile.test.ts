/**
 * Hostile layers: each is rejected with an exact message, and nothing is written outside the
 * temp root nor left inside it (no dest, no temp dir).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { listTree, rawTar, tempDir, unpackBuffer, type RawEntry } from './fixtures.js';

/** Unpacks `entries` into root/sandbox/deep/layer and expects `message`; root/outside must stay empty. */
async function expectRejected(t: import('node:test').TestContext, entries: (outside: string) => RawEntry[], message: string): Promise<void> {
  const root = tempDir(t);
  const outside = path.join(root, 'outside');
  mkdirSync(outside);
  const parent = path.join(root, 'sandbox', 'deep');
  mkdirSync(parent, { recursive: true });
  await assert.rejects(unpackBuffer(rawTar(entries(outside)), path.join(parent, 'layer')), (err: Error) => {
    assert.equal(err.name, 'ImageError');
    assert.equal(err.message, message);
    return true;
  });
  assert.deepEqual(listTree(root), ['outside/', 'sandbox/', 'sandbox/deep/'], 'nothing written anywhere, temp dir removed');
  assert.deepEqual(readdirSync(outside), []);
}

test('"../" traversal is rejected', async (t) => {
  await expectRejected(t, () => [{ name: 'ok', body: 'x' }, { name: '../../outside/passwd', body: 'pwned' }],
    'layer sha256:test entry "../../outside/passwd": path escapes the layer directory');
});

test('traversal hidden in the middle of a path is rejected', async (t) => {
  await expectRejected(t, () => [{ name: 'a/../../x', body: 'x' }], 'layer sha256:test entry "a/../../x": path escapes the layer directory');
});

test('an absolute path is rejected', async (t) => {
  await expectRejected(t, () => [{ name: '/etc/passwd', body: 'x' }],
    'layer sha256:test entry "/etc/passwd": path is absolute; layer entries must be relative to the layer directory');
});

test('a file written through a symlink the layer planted is rejected', async (t) => {
  await expectRejected(t, (outside) => [{ name: 'a', typeflag: '2', linkname: outside }, { name: 'a/passwd', body: 'pwned' }],
    'layer sha256:test entry "a/passwd": parent "a" is a symbolic link; layers may not write through symlinks');
});

test('a symlink chain does not let a later entry out', async (t) => {
  await expectRejected(t, (outside) => [
    { name: 'b', typeflag: '2', linkname: outside },
    { name: 'dir', typeflag: '5' },
    { name: 'dir/a', typeflag: '2', linkname: '../b' },
    { name: 'dir/a/x/y', body: 'pwned' },
  ], 'layer sha256:test entry "dir/a/x/y": parent "dir/a" is a symbolic link; layers may not write through symlinks');
});

test('a hard link to a file outside the layer is rejected', async (t) => {
  await expectRejected(t, () => [{ name: 'h', typeflag: '1', linkname: '../../../outside/target' }],
    'layer sha256:test entry "h": hard link target escapes the layer directory');
});

test('a hard link through a symlink is rejected', async (t) => {
  await expectRejected(t, (outside) => [{ name: 'l', typeflag: '2', linkname: outside }, { name: 'h', typeflag: '1', linkname: 'l/target' }],
    'layer sha256:test entry "h": hard link target "l/target" goes through symbolic link "l"');
});

test('a hard link to an absolute path is rejected', async (t) => {
  await expectRejected(t, () => [{ name: 'h', typeflag: '1', linkname: '/etc/shadow' }],
    'layer sha256:test entry "h": hard link target is absolute; layer entries must be relative to the layer directory');
});

test('an oversized pax header is rejected before it is read', async (t) => {
  await expectRejected(t, () => [{ name: 'PaxHeaders/huge', typeflag: 'x', size: 2 * 1024 * 1024 }],
    'layer sha256:test is not a valid tar archive: pax header of 2097152 bytes exceeds the limit of 1048576 bytes');
});

test('an overlong pax path is rejected', async (t) => {
  await expectRejected(t, () => [{ name: 'short', body: 'x', pax: [['path', 'a/'.repeat(2100)]] }],
    'layer sha256:test is not a valid tar archive: pax path longer than 4096 bytes');
});

test('a truncated layer is rejected and leaves nothing', async (t) => {
  const root = tempDir(t);
  const data = rawTar([{ name: 'file', body: 'x'.repeat(4000) }]).subarray(0, 1500);
  await assert.rejects(unpackBuffer(data, path.join(root, 'layer')), { message: 'layer sha256:test is not a valid tar archive: unexpected end of tar stream' });
  assert.deepEqual(readdirSync(root), []);
});

test('a whiteout that names the parent directory is rejected', async (t) => {
  await expectRejected(t, () => [{ name: 'etc/.wh...', body: '' }], 'layer sha256:test entry "etc/.wh...": invalid whiteout name');
});
