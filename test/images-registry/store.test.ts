/**
 * The image store on a real filesystem: verified blob writes, refs and lookups by id or digest,
 * shared unpacked layers, the cross-process lock with stale-lock takeover, and gc.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ImageError } from '../../src/errors.js';
import { ImageStore } from '../../src/images/store/index.js';
import { buildImage } from './build-image.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function openStore(): Promise<ImageStore> {
  const root = mkdtempSync('/tmp/berth-test-');
  roots.push(root);
  return ImageStore.open(path.join(root, 'images'));
}

const sha = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

test('putBlob verifies digest and size while streaming and stores nothing on mismatch', async () => {
  const store = await openStore();
  const stored = await store.putBlob(Buffer.from('hello'));
  assert.deepEqual(stored, { digest: sha('hello'), size: 5 });
  assert.equal((await store.readBlob(stored.digest)).toString(), 'hello');
  const streamed = await store.putBlob(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), { digest: sha('abcd'), size: 4 });
  assert.equal(streamed.digest, sha('abcd'));
  await assert.rejects(store.putBlob(Buffer.from('evil'), { digest: sha('good') }), (err: unknown) => {
    assert.ok(err instanceof ImageError);
    assert.equal(err.message, `blob content has digest ${sha('evil')}, expected ${sha('good')}`);
    return true;
  });
  await assert.rejects(store.putBlob(Buffer.from('short'), { size: 10 }), /has 5 bytes, expected 10/);
  assert.equal(await store.hasBlob(sha('evil')), false);
  assert.equal(await store.hasBlob(sha('good')), false);
  assert.deepEqual(readdirSync(path.join(store.root, 'tmp')), []);
  await assert.rejects(store.readBlob(sha('nothing')), /is not in the image store/);
  assert.throws(() => store.blobPath('sha256:xyz'), /invalid digest "sha256:xyz"/);
});

test('refs resolve by name, short and long id, and manifest digest; retagging leaves a dangling image', async () => {
  const store = await openStore();
  const first = await buildImage(store, 'busybox', { layers: [{ files: { a: '1' } }] });
  assert.deepEqual(first.refs, ['docker.io/library/busybox:latest']);
  assert.equal((await store.resolve('busybox:latest'))?.id, first.id);
  assert.equal((await store.resolve('docker.io/library/busybox'))?.id, first.id);
  assert.equal((await store.resolve(first.id))?.id, first.id);
  assert.equal((await store.resolve(first.id.slice(7, 19)))?.id, first.id);
  assert.equal((await store.resolve(first.manifestDigest))?.id, first.id);
  assert.equal(await store.resolve('busybox:other'), undefined);
  const second = await buildImage(store, 'busybox', { layers: [{ files: { a: '2' } }] });
  const images = await store.listImages();
  assert.equal(images.length, 2);
  assert.deepEqual(images.find((image) => image.id === first.id)?.refs, []);
  assert.deepEqual(images.find((image) => image.id === second.id)?.refs, ['docker.io/library/busybox:latest']);
  await store.setRef('localhost:5000/copy:1', second.manifestDigest);
  assert.deepEqual((await store.resolve('busybox'))?.refs, ['docker.io/library/busybox:latest', 'localhost:5000/copy:1']);
  await store.removeRef('busybox');
  assert.equal(await store.resolve('busybox'), undefined);
  await assert.rejects(store.removeRef('busybox'), /no such image "busybox"/);
});

test('layers unpack once and are shared; gc keeps what images, in-use ids and leases need', async () => {
  const store = await openStore();
  const image = await buildImage(store, 'local/app:1', { layers: [{ files: { 'etc/app.conf': 'x=1\n' } }, { files: { 'bin/run': 'echo\n' } }] });
  const [base] = image.layers;
  const unpacked = await store.ensureLayer(base.digest, base.mediaType);
  assert.equal(unpacked.diffId, base.diffId);
  assert.equal(readFileSync(path.join(unpacked.dir, 'etc/app.conf'), 'utf8'), 'x=1\n');
  assert.equal(await store.hasLayer(base.diffId), true);
  assert.deepEqual(await store.ensureLayer(base.digest, base.mediaType), unpacked);

  assert.deepEqual(await store.gc({}), { removedBlobs: 0, removedLayers: 0, freedBytes: 0 });
  const stray = await store.putBlob(Buffer.from('stray'));
  const leased = await store.putBlob(Buffer.from('leased'));
  const lease = await store.lease([leased.digest]);
  const swept = await store.gc({});
  assert.equal(swept.removedBlobs, 1);
  assert.equal(await store.hasBlob(stray.digest), false);
  assert.equal(await store.hasBlob(leased.digest), true);
  await lease.release();

  // An image removed while a container still uses it keeps its config and layers.
  await store.removeImage(image.manifestDigest);
  const kept = await store.gc({ inUse: new Set([image.id]) });
  assert.equal(await store.hasLayer(base.diffId), true);
  assert.equal(await store.hasBlob(image.id), true);
  assert.ok(kept.removedBlobs >= 3);
  const all = await store.gc({ all: true });
  assert.equal(all.removedLayers, 1);
  assert.ok(all.freedBytes > 0);
  assert.equal(existsSync(unpacked.dir), false);
  assert.deepEqual(readdirSync(path.join(store.root, 'blobs', 'sha256')), []);
});

test('withLock excludes other processes, nests without deadlock and takes over a stale lock', async () => {
  const store = await openStore();
  const lockFile = path.join(store.root, 'lock');
  // Another process holds the lock for 600 ms; we must wait for it.
  const holder = spawn(process.execPath, ['-e', `
    const fs = require('node:fs');
    fs.writeFileSync(${JSON.stringify(lockFile)}, String(process.pid), { flag: 'wx' });
    process.stdout.write('held\\n');
    setTimeout(() => { fs.rmSync(${JSON.stringify(lockFile)}); process.exit(0); }, 600);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const started = Date.now();
    const order: string[] = [];
    await store.withLock(async () => {
      order.push('outer');
      await store.withLock(async () => { order.push('inner'); });
    });
    assert.ok(Date.now() - started >= 400, `waited only ${Date.now() - started} ms`);
    assert.deepEqual(order, ['outer', 'inner']);
  } finally {
    if (holder.exitCode === null) holder.kill('SIGKILL');
  }
  // A lock left by a process that no longer exists is taken over at once.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(lockFile, dead.stdout);
  const started = Date.now();
  assert.equal(await store.withLock(async () => 'ran'), 'ran');
  assert.ok(Date.now() - started < 2000);
  assert.equal(existsSync(lockFile), false);
  // Callers in one process queue instead of failing.
  const results = await Promise.all([1, 2, 3].map((n) => store.withLock(async () => n)));
  assert.deepEqual(results, [1, 2, 3]);
});
