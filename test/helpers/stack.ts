/**
 * A private berth state root for one test, with a busybox image already in its store, so
 * engine tests run real containers without a registry: `berth-test/busybox:latest`.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ImageStore, importRootfs } from '../../src/images/index.js';
import { makeBusyboxRootfs, removeRootfs } from './busybox-rootfs.js';

/** The image every stack test can use. */
export const testImage = 'berth-test/busybox:latest';

/** A test's state root and the environment that points berth at it. */
export interface StackRoot {
  /** BERTH_ROOT (also holds run/ as BERTH_RUN_ROOT). */
  root: string;
  /** process.env plus BERTH_ROOT, for runBerth and child processes. */
  env: NodeJS.ProcessEnv;
  /** A fresh project directory under the root; writes `compose.yaml` when given. */
  project(name: string, composeYaml?: string): string;
  /** Removes the root (call after the test brought its projects down). */
  remove(): void;
}

/**
 * Creates a state root under /tmp and imports busybox as `berth-test/busybox:latest` (with
 * `changes`, e.g. ['CMD ["sleep","3600"]'], applied). Project names must still be unique per
 * test: the runtime's container ids are global on the host.
 */
export async function makeStackRoot(options: { changes?: string[]; prefix?: string } = {}): Promise<StackRoot> {
  const root = mkdtempSync(`/tmp/${options.prefix ?? 'berth-stack-'}`);
  const source = makeBusyboxRootfs();
  try {
    const tarball = path.join(root, 'busybox.tar');
    execFileSync('tar', ['-C', source, '-cf', tarball, '.']);
    const store = await ImageStore.open(path.join(root, 'images'));
    await importRootfs(store, createReadStream(tarball), { ref: testImage, changes: options.changes ?? ['CMD ["sh"]'] });
    rmSync(tarball);
  } finally {
    removeRootfs(source);
  }
  return {
    root,
    env: { ...process.env, BERTH_ROOT: root },
    project(name, composeYaml) {
      const dir = path.join(root, 'projects-src', name);
      mkdirSync(dir, { recursive: true });
      if (composeYaml !== undefined) writeFileSync(path.join(dir, 'compose.yaml'), composeYaml);
      return dir;
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
