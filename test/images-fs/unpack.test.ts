/** unpackLayer on honest layers: metadata is reproduced exactly, whiteouts take overlayfs form, all compressions give one diff id. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isRoot, listTree, tarBuffer, tempDir, unpackBuffer } from './fixtures.js';

const mtime = 1_650_000_000;

async function sampleLayer(): Promise<Buffer> {
  return tarBuffer([
    { path: '.', type: 'directory', mode: 0o755, mtime },
    { path: 'bin', type: 'directory', mode: 0o755, mtime },
    { path: 'bin/tool', type: 'file', mode: 0o4755, uid: 0, gid: 0, mtime, body: '#!/bin/sh\n' },
    { path: 'bin/tool-link', type: 'link', linkname: 'bin/tool' },
    { path: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', uid: 7, gid: 8, mtime },
    { path: 'tmp', type: 'directory', mode: 0o1777, mtime },
    { path: 'home/app/data.txt', type: 'file', mode: 0o640, uid: 1000, gid: 1001, mtime: mtime + 5, body: 'secret' },
    { path: 'home/app', type: 'directory', mode: 0o700, uid: 1000, gid: 1000, mtime: mtime + 10 },
    { path: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3, mtime },
    { path: 'dev/loop0', type: 'block', mode: 0o660, devmajor: 7, devminor: 0, mtime },
    { path: 'run/pipe', type: 'fifo', mode: 0o600, mtime },
    { path: 'etc/attrs', type: 'file', body: 'x', xattrs: new Map([['user.origin', Buffer.from('layer')], ['trusted.overlay.redirect', Buffer.from('/etc')]]) },
    { path: 'etc/old', type: 'file', body: 'gone' },
    { path: 'etc/.wh.removed', type: 'file', body: '' },
    { path: 'var/cache/.wh..wh..opq', type: 'file', body: '' },
    { path: 'var/cache/kept', type: 'file', body: 'k' },
    { path: 'etc/old', type: 'symlink', linkname: 'attrs' },
  ]);
}

test('unpack reproduces ownership, modes, mtimes, links and special files', async (t) => {
  if (!isRoot) return t.skip('needs root: chown and device nodes');
  const dir = tempDir(t);
  const dest = path.join(dir, 'layer');
  await unpackBuffer(await sampleLayer(), dest);
  const stat = (rel: string) => lstatSync(path.join(dest, rel));
  assert.equal(stat('bin/tool').mode & 0o7777, 0o4755);
  assert.equal(stat('bin/tool').ino, stat('bin/tool-link').ino, 'hard link shares the inode');
  assert.equal(readlinkSync(path.join(dest, 'bin/sh')), '/bin/busybox');
  assert.equal(stat('bin/sh').uid, 7);
  assert.equal(stat('bin/sh').gid, 8);
  assert.equal(stat('bin/sh').mtimeMs, mtime * 1000);
  assert.equal(stat('tmp').mode & 0o7777, 0o1777);
  assert.equal(stat('home/app').mode & 0o7777, 0o700);
  assert.equal(stat('home/app').uid, 1000);
  assert.equal(stat('home/app').mtimeMs, (mtime + 10) * 1000, 'directory mtime set after its children');
  assert.equal(stat('home/app/data.txt').uid, 1000);
  assert.equal(stat('home/app/data.txt').gid, 1001);
  assert.equal(stat('home/app/data.txt').mode & 0o7777, 0o640);
  assert.equal(stat('home/app/data.txt').mtimeMs, (mtime + 5) * 1000);
  assert.equal(readFileSync(path.join(dest, 'home/app/data.txt'), 'utf8'), 'secret');
  assert.ok(stat('dev/null').isCharacterDevice());
  assert.equal(stat('dev/null').rdev, 0x103);
  assert.ok(stat('dev/loop0').isBlockDevice());
  assert.ok(stat('run/pipe').isFIFO());
  assert.equal(stat('').mtimeMs, mtime * 1000);
  assert.equal(readlinkSync(path.join(dest, 'etc/old')), 'attrs', 'a later entry replaces an earlier one');
  const attrs = execFileSync('getfattr', ['-d', '-m', '-', path.join(dest, 'etc/attrs')], { encoding: 'utf8' });
  assert.match(attrs, /user\.origin="layer"/);
  assert.doesNotMatch(attrs, /trusted\.overlay\.redirect/, 'layers may not plant overlayfs xattrs');
});

test('whiteouts become overlayfs char devices 0/0 and opaque markers become xattrs', async (t) => {
  if (!isRoot) return t.skip('needs root: whiteouts are device nodes');
  const dir = tempDir(t);
  const dest = path.join(dir, 'layer');
  await unpackBuffer(await sampleLayer(), dest);
  const whiteout = lstatSync(path.join(dest, 'etc/removed'));
  assert.ok(whiteout.isCharacterDevice());
  assert.equal(whiteout.rdev, 0);
  assert.ok(!readdirSync(path.join(dest, 'etc')).some((name) => name.startsWith('.wh.')));
  assert.deepEqual(readdirSync(path.join(dest, 'var/cache')), ['kept']);
  const opaque = execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', path.join(dest, 'var/cache')], { encoding: 'utf8' });
  assert.equal(opaque, 'y');
});

test('plain, gzip and zstd layers unpack alike with the diff id of the plain tar', async (t) => {
  const dir = tempDir(t);
  const plain = await tarBuffer([
    { path: 'a/b.txt', type: 'file', body: 'b'.repeat(100_000), mtime },
    { path: 'a/c', type: 'symlink', linkname: 'b.txt', mtime },
  ]);
  const expected = `sha256:${createHash('sha256').update(plain).digest('hex')}`;
  const zstdFile = path.join(dir, 'layer.tar.zst');
  execFileSync('zstd', ['-q', '-o', zstdFile], { input: plain });
  const variants: Array<[string, Buffer, string]> = [
    ['plain', plain, 'application/vnd.oci.image.layer.v1.tar'],
    ['gzip', gzipSync(plain), 'application/vnd.oci.image.layer.v1.tar+gzip'],
    ['zstd', readFileSync(zstdFile), 'application/vnd.oci.image.layer.v1.tar+zstd'],
    ['docker gzip', gzipSync(plain), 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
  ];
  for (const [name, data, mediaType] of variants) {
    const dest = path.join(dir, name.replace(' ', '-'));
    const { diffId } = await unpackBuffer(data, dest, mediaType);
    assert.equal(diffId, expected, name);
    assert.deepEqual(listTree(dest), ['a/', 'a/b.txt', 'a/c -> b.txt'], name);
    assert.equal(readFileSync(path.join(dest, 'a/b.txt'), 'utf8').length, 100_000);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['docker-gzip', 'gzip', 'layer.tar.zst', 'plain', 'zstd'], 'no temp dirs left');
});

test('an unknown media type is refused before anything is written', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(unpackBuffer(Buffer.alloc(1024), path.join(dir, 'layer'), 'application/vnd.oci.image.layer.v1.tar+lz4'), {
    name: 'ImageError',
    message: 'layer sha256:test has unsupported media type "application/vnd.oci.image.layer.v1.tar+lz4"',
  });
  assert.deepEqual(readdirSync(dir), []);
});

test('entries that replace earlier ones (create first, clear on EEXIST) keep the tar order', async (t) => {
  const dir = tempDir(t);
  const entries: Parameters<typeof tarBuffer>[0] = [];
  for (let index = 0; index < 300; index++) entries.push({ path: `d/f${index}`, type: 'file', body: `v1-${index}`, mode: 0o600 + (index % 2) * 0o44 });
  entries.push(
    { path: 'd/hard', type: 'link', linkname: 'd/f5' },
    { path: 'd/f7', type: 'file', body: 'v2-7' },
    { path: 'd/f8', type: 'file', body: 'v2-8' },
    { path: 'd/f8', type: 'symlink', linkname: 'f9' },
    { path: 'e', type: 'file', body: 'was a file' },
    { path: 'e', type: 'directory' },
    { path: 'e/inner', type: 'file', body: 'inner' },
    { path: 'g/sub/x', type: 'file', body: 'gone' },
    { path: 'g', type: 'file', body: 'dir replaced by a file' },
    { path: 's', type: 'symlink', linkname: '/etc/passwd' },
    { path: 's', type: 'file', body: 'symlink replaced by a file' },
    { path: 'd/f9', type: 'link', linkname: 'd/f10' },
  );
  const dest = path.join(dir, 'layer');
  await unpackBuffer(await tarBuffer(entries), dest);
  for (let index = 0; index < 300; index++) {
    if (index === 7 || index === 8 || index === 9) continue;
    assert.equal(readFileSync(path.join(dest, `d/f${index}`), 'utf8'), `v1-${index}`);
    assert.equal(lstatSync(path.join(dest, `d/f${index}`)).mode & 0o777, 0o600 + (index % 2) * 0o44);
  }
  assert.equal(lstatSync(path.join(dest, 'd/hard')).ino, lstatSync(path.join(dest, 'd/f5')).ino);
  assert.equal(readFileSync(path.join(dest, 'd/f7'), 'utf8'), 'v2-7');
  assert.equal(readlinkSync(path.join(dest, 'd/f8')), 'f9');
  assert.equal(readFileSync(path.join(dest, 'e/inner'), 'utf8'), 'inner');
  assert.equal(readFileSync(path.join(dest, 'g'), 'utf8'), 'dir replaced by a file');
  assert.ok(lstatSync(path.join(dest, 's')).isFile());
  assert.equal(readFileSync(path.join(dest, 's'), 'utf8'), 'symlink replaced by a file');
  assert.equal(lstatSync(path.join(dest, 'd/f9')).ino, lstatSync(path.join(dest, 'd/f10')).ino);
  assert.deepEqual(readdirSync(dir), ['layer']);
});
