/**
 * An image imported into berth's store runs as a container: overlay rootfs from its layers,
 * an OCI bundle from toOciSpec, berth-runtime executing it; writes land in the container's own
 * upper dir, never in the shared image layer, and removing the container leaves no mount behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ImageStore, importRootfs, prepareContainerRootfs, removeContainerRootfs } from '../../src/images/index.js';
import { RuntimeDriver, hostSpecOptions, resolveSpecUser, toOciSpec } from '../../src/runtime/index.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox, makeBusyboxRootfs, removeRootfs } from '../helpers/busybox-rootfs.js';

const skipReason = process.getuid?.() !== 0 ? 'needs root: containers and overlay mounts'
  : !haveBusybox() ? 'needs busybox-static (scripts/bootstrap.sh installs it)'
  : !existsSync(runtimeBinary()) ? 'berth-runtime is not built (make -C runtime)'
  : undefined;

test('an imported image runs as a container on an overlay rootfs', { skip: skipReason }, async (t) => {
  const work = mkdtempSync('/tmp/berth-e2e-image-');
  const source = makeBusyboxRootfs();
  const containerId = `e2e-${process.pid}`;
  const driver = new RuntimeDriver({ root: path.join(work, 'runtime-state') });
  let store: ImageStore | undefined;
  t.after(async () => {
    await driver.delete(containerId, { force: true }).catch(() => undefined);
    if (store) await removeContainerRootfs(store, containerId).catch(() => undefined);
    removeRootfs(source);
    rmSync(work, { recursive: true, force: true });
  });

  const tarball = path.join(work, 'rootfs.tar');
  execFileSync('tar', ['-C', source, '-cf', tarball, '.']);
  store = await ImageStore.open(path.join(work, 'images'));
  await importRootfs(store, createReadStream(tarball), { ref: 'e2e/busybox:1', changes: ['ENV GREETING=hello', 'WORKDIR /home/app'] });
  const image = await store.resolve('e2e/busybox:1');
  assert.ok(image, 'the imported image resolves by reference');
  assert.deepEqual(image.config.config?.Env, ['GREETING=hello']);

  const rootfs = await prepareContainerRootfs(store, image, containerId);
  const spec = resolveSpecUser({
    id: containerId,
    rootfs: rootfs.rootfs,
    args: ['/bin/sh', '-c', 'echo "$GREETING from $(id -un) in $(pwd)"; echo changed > /etc/hostname; cat /proc/1/cmdline | tr "\\0" " "'],
    env: ['PATH=/bin', ...(image.config.config?.Env ?? [])],
    cwd: image.config.config?.WorkingDir,
    user: 'app',
    hostname: 'e2e',
  });
  const bundleDir = path.join(work, 'bundle');
  RuntimeDriver.writeBundle(bundleDir, toOciSpec(spec, hostSpecOptions({ privileged: false })));
  const result = await driver.run(containerId, bundleDir, { timeoutMs: 20_000 });

  assert.equal(result.stderr, '/bin/sh: can\'t create /etc/hostname: Permission denied\n', 'user "app" cannot write root-owned files');
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout, 'hello from app in /home/app\n/bin/sh -c ' + spec.args[2] + ' ', 'PID 1 is the command itself');

  // A write as root lands in the container's upper dir; the shared layer is untouched.
  const asRoot = resolveSpecUser({ ...spec, id: `${containerId}-root`, args: ['/bin/sh', '-c', 'echo changed > /etc/hostname'], user: 'root' });
  RuntimeDriver.writeBundle(bundleDir, toOciSpec(asRoot, hostSpecOptions({ privileged: false })));
  assert.equal((await driver.run(asRoot.id, bundleDir, { timeoutMs: 20_000 })).exitCode, 0);
  await driver.delete(asRoot.id, { force: true }).catch(() => undefined);
  assert.equal(readFileSync(path.join(rootfs.rootfs, 'etc/hostname'), 'utf8'), 'changed\n');
  const layerDir = store.layerDir(image.layers[0].diffId);
  assert.equal(readFileSync(path.join(layerDir, 'etc/hostname'), 'utf8'), 'rootfs\n');

  await driver.delete(containerId, { force: true }).catch(() => undefined);
  await removeContainerRootfs(store, containerId);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(work), 'no mount under the test dir remains');
});
