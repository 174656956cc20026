/**
 * Hostile layers: each is rejected with an exact message, and nothing is written outside the
 * temp root nor left inside it (no dest, no temp dir).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRoot, listTree, rawTar, tempDir, unpackBuffer, type RawEntry } from './fixtures.js';

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

test('xattrs and opaque markers of a directory later replaced by a symlink are not set through it', async (t) => {
  const root = tempDir(t);
  const outside = path.join(root, 'outside');
  mkdirSync(path.join(outside, 'sub'), { recursive: true });
  writeFileSync(path.join(outside, 'f'), 'host file');
  const layer = rawTar([
    { name: 'd', typeflag: '5' },
    { name: 'd/f', body: 'x', pax: [['SCHILY.xattr.user.evil', 'yes']] },
    { name: 'd/sub/.wh..wh..opq', body: '' },
    { name: 'd', typeflag: '2', linkname: outside },
  ]);
  await unpackBuffer(layer, path.join(root, 'layer'));
  assert.deepEqual(listTree(path.join(root, 'layer')), [`d -> ${outside}`]);
  const attrs = execFileSync('getfattr', ['-R', '-d', '-m', '-', outside], { encoding: 'utf8' });
  assert.equal(attrs, '', 'nothing set outside the layer');
});

test('device nodes are refused when not running as root', async (t) => {
  const root = tempDir(t);
  chmodSync(root, 0o777);
  const layerFile = path.join(root, 'layer.tar');
  writeFileSync(layerFile, rawTar([{ name: 'dev/sda', typeflag: '4' }]));
  chmodSync(layerFile, 0o644);
  const moduleUrl = new URL('../../src/images/layers/index.js', import.meta.url).href;
  const script = `
    const { unpackLayer } = await import(${JSON.stringify(moduleUrl)});
    const { createReadStream } = await import('node:fs');
    try {
      await unpackLayer(createReadStream(process.argv[1]), { dest: process.argv[2], mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:test' });
      console.log('unpacked');
    } catch (err) { console.log(err.message); }`;
  // As root, drop to nobody for this one unpack; otherwise we already are unprivileged.
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, layerFile, path.join(root, 'layer')], {
    encoding: 'utf8', ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, 'layer sha256:test entry "dev/sda": device nodes can only be unpacked as root\n');
  assert.deepEqual(readdirSync(root), ['layer.tar']);
});
