/** Runs a command in a container of a built image (for build tests). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ImageStore, prepareContainerRootfs, removeContainerRootfs } from '../../src/images/index.js';
import { RuntimeDriver, hostSpecOptions, resolveSpecUser, toOciSpec } from '../../src/runtime/index.js';
import type { StackRoot } from '../helpers/stack.js';

let runs = 0;

/** Runs `args` (or the image's command) in a container of `ref`; returns stdout+stderr and the exit code. */
export async function runImage(root: StackRoot, ref: string, args?: string[]): Promise<{ exitCode: number; output: string }> {
  const store = await ImageStore.open(path.join(root.root, 'images'));
  const image = await store.resolve(ref);
  assert.ok(image, `image ${ref} exists`);
  const id = `h6-build-${process.pid}-${++runs}`;
  const bundle = mkdtempSync('/tmp/berth-build-image-');
  const driver = new RuntimeDriver({ env: root.env });
  try {
    const { rootfs } = await prepareContainerRootfs(store, image, id);
    const config = image.config.config ?? {};
    const spec = resolveSpecUser({ id, rootfs, args: args ?? [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])], env: config.Env, cwd: config.WorkingDir || '/', user: config.User || 'root' });
    RuntimeDriver.writeBundle(bundle, toOciSpec(spec, hostSpecOptions({})));
    const result = await driver.run(id, bundle);
    return { exitCode: result.exitCode, output: result.stdout + result.stderr };
  } finally {
    await driver.delete(id, { force: true, ignoreMissing: true }).catch(() => undefined);
    await removeContainerRootfs(store, id);
    rmSync(bundle, { recursive: true, force: true });
  }
}
