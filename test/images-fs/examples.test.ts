/** examples/build-images.sh builds the busybox example image offline and is idempotent (the debootstrap image takes minutes and is not run here). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { ImageStore } from '../../src/images/store/index.js';
import { isRoot, tempDir } from './fixtures.js';

const script = path.join(packageRoot, 'examples', 'build-images.sh');

test('build-images.sh imports berth-examples/busybox:latest and skips it when current', async (t) => {
  if (!isRoot) return t.skip('needs root: the script refuses to run without it');
  const dir = tempDir(t);
  const env = { ...process.env, BERTH_ROOT: path.join(dir, 'state'), BERTH_EXAMPLES_CACHE: path.join(dir, 'cache'), ONLY: 'busybox' };
  const first = spawnSync('bash', [script], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /importing berth-examples\/busybox:latest/);
  const store = await ImageStore.open(path.join(dir, 'state', 'images'));
  const image = await store.resolve('berth-examples/busybox:latest');
  assert.ok(image);
  assert.deepEqual(image.config.config?.Cmd, ['sh']);
  const layer = store.layerDir(image.layers[0].diffId);
  assert.equal(readlinkSync(path.join(layer, 'bin/sh')), '/bin/busybox');
  assert.equal(statSync(path.join(layer, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(statSync(layer).mode & 0o7777, 0o755, 'the image root is world-traversable');
  assert.match(readdirSync(path.join(dir, 'cache')).join(' '), /^busybox-.*\.tar\.gz$/);

  const second = spawnSync('bash', [script], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /berth-examples\/busybox:latest is up to date/);
  assert.equal((await store.resolve('berth-examples/busybox:latest'))?.manifestDigest, image.manifestDigest);
});
