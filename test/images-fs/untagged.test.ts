/** An import without a name still yields an image that `images` lists and its id resolves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { runBerth } from '../helpers/cli.js';

test('berth import without a reference records an untagged image', (t) => {
  const work = mkdtempSync('/tmp/berth-untagged-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const rootfs = path.join(work, 'rootfs');
  mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  const tarball = path.join(work, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tarball, '.']);
  const env = { BERTH_ROOT: path.join(work, 'state') };

  const imported = runBerth(['import', tarball], { env });
  assert.equal(imported.status, 0, imported.stderr);
  const imageId = imported.stdout.trim();
  assert.match(imageId, /^sha256:[0-9a-f]{64}$/);

  const listed = runBerth(['images', '--format', 'json'], { env });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(imageId.slice(7, 19)));

  const inspected = runBerth(['image', 'inspect', imageId.slice(7, 19)], { env });
  assert.equal(inspected.status, 0, inspected.stderr);
  assert.match(inspected.stdout, /"Id": "sha256:/);
});
