/** Container rootfs: overlayfs merges layers as the image spec says, the copy snapshotter gives the same view, many layers mount. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { copyLayers, isMountPoint, mountRootfs, overlaySupported, prepareContainerRootfs, removeContainerRootfs, unmountRootfs } from '../../src/images/rootfs/index.js';
import { importRootfs } from '../../src/images/archive/index.js';
import { directoryEntries, type TarWriteEntry } from '../../src/images/layers/index.js';
import { ImageStore } from '../../src/images/store/index.js';
import { isRoot, listTree, tarBuffer, tempDir, unpackBuffer } from './fixtures.js';

/** Three layers: base files; a whiteout, an opaque dir and a changed file; one more file on top. Returned top-most first. */
async function threeLayers(dir: string): Promise<string[]> {
  const layers = [
    [
      { path: 'etc/a', type: 'file' as const, body: 'a1' },
      { path: 'etc/b', type: 'file' as const, body: 'b1' },
      { path: 'var/cache/old1', type: 'file' as const, body: 'o' },
      { path: 'var/cache/sub/old2', type: 'file' as const, body: 'o' },
      { path: 'bin/tool', type: 'file' as const, body: 'v1', mode: 0o755 },
      { path: 'lib', type: 'symlink' as const, linkname: 'usr/lib' },
    ],
    [
      { path: 'etc/.wh.a', type: 'file' as const, body: '' },
      { path: 'var/cache/.wh..wh..opq', type: 'file' as const, body: '' },
      { path: 'var/cache/new', type: 'file' as const, body: 'n' },
      { path: 'bin/tool', type: 'file' as const, body: 'v2', mode: 0o755 },
    ],
    [{ path: 'etc/c', type: 'file' as const, body: 'c3' }, { path: 'lib/x', type: 'file' as const, body: 'x' }],
  ];
  const dirs: string[] = [];
  for (const [index, entries] of layers.entries()) {
    const dest = path.join(dir, `layer${index}`);
    await unpackBuffer(await tarBuffer(entries), dest);
    dirs.unshift(dest);
  }
  return dirs;
}

const mergedView = [
  'bin/', 'bin/tool', 'etc/', 'etc/b', 'etc/c', 'lib/', 'lib/x', 'var/', 'var/cache/', 'var/cache/new',
];

test('overlay mount of a 3-layer image shows whiteouts and opaque dirs applied', async (t) => {
  if (!isRoot || !(await overlaySupported())) return t.skip('needs root and overlayfs');
  const dir = tempDir(t);
  const lowerDirs = await threeLayers(dir);
  const target = path.join(dir, 'rootfs');
  await mountRootfs({ lowerDirs, upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work'), target });
  try {
    assert.ok(await isMountPoint(target));
    assert.deepEqual(listTree(target), mergedView);
    assert.equal(readFileSync(path.join(target, 'bin/tool'), 'utf8'), 'v2');
    writeFileSync(path.join(target, 'etc/new'), 'written');
    assert.equal(readFileSync(path.join(dir, 'upper/etc/new'), 'utf8'), 'written', 'writes land in the upper dir');
    assert.ok(!existsSync(path.join(lowerDirs[0], 'etc/new')), 'layers stay untouched');
    rmSync(path.join(target, 'etc/b'));
  } finally {
    await unmountRootfs(target);
  }
  assert.ok(!(await isMountPoint(target)));
  assert.ok(!existsSync(`${target}.lower`), 'layer symlink dir removed');

  // The upper dir is the container's diff: archived with overlay whiteouts translated back to
  // `.wh.` entries, it unpacks into a layer equal to the upper dir.
  const diff: TarWriteEntry[] = [];
  for await (const entry of directoryEntries(path.join(dir, 'upper'), { overlayWhiteouts: true, mtime: 0 })) diff.push(entry);
  assert.deepEqual(diff.map((entry) => `${entry.type} ${entry.path}`), ['directory etc', 'file etc/.wh.b', 'file etc/new']);
  const unpacked = path.join(dir, 'diff-layer');
  await unpackBuffer(await tarBuffer(diff), unpacked);
  assert.deepEqual(listTree(unpacked), listTree(path.join(dir, 'upper')));
});

test('copy snapshotter produces the same merged view', async (t) => {
  if (!isRoot) return t.skip('needs root: whiteouts are device nodes');
  const dir = tempDir(t);
  const lowerDirs = await threeLayers(dir);
  const target = path.join(dir, 'copy');
  await copyLayers(lowerDirs, target);
  assert.deepEqual(listTree(target), mergedView);
  assert.equal(readFileSync(path.join(target, 'bin/tool'), 'utf8'), 'v2');
});

test('60 layers with long paths mount (mount options stay under one page)', async (t) => {
  if (!isRoot || !(await overlaySupported())) return t.skip('needs root and overlayfs');
  const dir = tempDir(t);
  const lowerDirs: string[] = [];
  mkdirSync(path.join(dir, 'layers', 'sha256'), { recursive: true });
  for (let index = 0; index < 60; index++) {
    const dest = path.join(dir, 'layers', 'sha256', `${index}`.padStart(64, 'f'));
    await unpackBuffer(await tarBuffer([{ path: `files/f${index}`, type: 'file', body: String(index) }, { path: 'top', type: 'file', body: String(index) }]), dest);
    lowerDirs.unshift(dest);
  }
  assert.ok(lowerDirs.join(':').length > 4096, 'absolute lowerdir would not fit one page');
  const target = path.join(dir, 'rootfs');
  await mountRootfs({ lowerDirs, upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work'), target });
  try {
    assert.equal(listTree(path.join(target, 'files')).length, 60);
    assert.equal(readFileSync(path.join(target, 'top'), 'utf8'), '59', 'the last layer wins');
  } finally {
    await unmountRootfs(target);
  }
});

test('prepareContainerRootfs mounts an imported image and removeContainerRootfs leaves the layers intact', async (t) => {
  if (!isRoot) return t.skip('needs root');
  const dir = tempDir(t);
  const store = await ImageStore.open(path.join(dir, 'images'));
  const tarball = await tarBuffer([{ path: 'bin/hello', type: 'file', body: 'hi', mode: 0o755 }, { path: 'etc/.wh.gone', type: 'file', body: '' }]);
  const image = await importRootfs(store, Readable.from([tarball]), { ref: 'test/rootfs:1' });
  const stored = await store.resolve(image.ref!);
  assert.ok(stored);
  for (const snapshotter of ['overlay', 'copy'] as const) {
    if (snapshotter === 'overlay' && !(await overlaySupported())) continue;
    const rootfs = await prepareContainerRootfs(store, stored, `c-${snapshotter}`, { snapshotter });
    assert.equal(rootfs.snapshotter, snapshotter);
    assert.equal(rootfs.rootfs, path.join(store.root, 'containers', `c-${snapshotter}`, 'rootfs'));
    assert.equal(readFileSync(path.join(rootfs.rootfs, 'bin/hello'), 'utf8'), 'hi');
    assert.ok(!existsSync(path.join(rootfs.rootfs, 'etc/gone')));
    const again = await prepareContainerRootfs(store, stored, `c-${snapshotter}`, { snapshotter });
    assert.deepEqual(again, rootfs, 'idempotent');
    await removeContainerRootfs(store, `c-${snapshotter}`);
    assert.ok(!existsSync(path.join(store.root, 'containers', `c-${snapshotter}`)));
  }
  assert.equal(readFileSync(path.join(store.layerDir(stored.layers[0].diffId), 'bin/hello'), 'utf8'), 'hi', 'shared layer survives removal');
});
