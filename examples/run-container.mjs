#!/usr/bin/env node
// Runs one command in a container made from an image in berth's store, the way `berth up` will:
// overlay rootfs from the image's layers, an OCI bundle, berth-runtime. Used by examples/run.sh
// until the lifecycle commands land.   usage: run-container.mjs IMAGE CMD [ARGS...]
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ImageStore, prepareContainerRootfs, removeContainerRootfs, RuntimeDriver, toOciSpec } from '../dist/src/index.js';
import { hostSpecOptions, resolveSpecUser } from '../dist/src/runtime/index.js';

const [imageRef, ...args] = process.argv.slice(2);
if (!imageRef || args.length === 0) {
  console.error('usage: run-container.mjs IMAGE CMD [ARGS...]');
  process.exit(2);
}
const store = await ImageStore.open();
const image = await store.resolve(imageRef);
if (!image) {
  console.error(`error: no such image "${imageRef}"\n  hint: build the example images with examples/build-images.sh`);
  process.exit(1);
}
const containerId = `example-${process.pid}`;
const work = mkdtempSync('/tmp/berth-example-');
const driver = new RuntimeDriver();
try {
  const { rootfs } = await prepareContainerRootfs(store, image, containerId);
  const config = image.config.config ?? {};
  const spec = resolveSpecUser({ id: containerId, rootfs, args, env: config.Env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'], cwd: config.WorkingDir || '/', user: config.User || 'root', hostname: 'example' });
  RuntimeDriver.writeBundle(work, toOciSpec(spec, hostSpecOptions({ privileged: false })));
  const result = await driver.run(containerId, work, { onOutput: (stream, chunk) => process[stream].write(chunk) });
  process.exitCode = result.exitCode;
} finally {
  await driver.delete(containerId, { force: true }).catch(() => undefined);
  await removeContainerRootfs(store, containerId).catch((err) => console.error(`warning: ${err.message}`));
  rmSync(work, { recursive: true, force: true });
}
