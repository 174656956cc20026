/**
 * Test helpers: which runtimes exist here, a driver per runtime with its own temp state dir, and
 * bundles on a shared busybox rootfs. Every helper registers its own cleanup on the test context.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { haveBusybox, makeBusyboxRootfs, removeRootfs } from '../helpers/busybox-rootfs.js';
import { runtimeBinary } from '../../src/paths.js';
import { hostSpecOptions, RuntimeDriver, toOciSpec, type ContainerSpec, type OciConfig } from '../../src/runtime/index.js';

/** A runtime the tests can use. */
export interface TestRuntime {
  name: 'berth' | 'runc' | 'crun';
  binary: string;
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The runtime binary for a name, or undefined when it is not installed/built. */
export function findRuntime(name: TestRuntime['name']): TestRuntime | undefined {
  if (name === 'berth') {
    const binary = runtimeBinary({});
    return existsSync(binary) ? { name, binary } : undefined;
  }
  const binary = which(name);
  return binary ? { name, binary } : undefined;
}

/** The runtime the suite targets: BERTH_TEST_RUNTIME (berth, runc, crun) or berth-runtime. */
export function selectedRuntimeName(): TestRuntime['name'] {
  const name = process.env.BERTH_TEST_RUNTIME ?? 'berth';
  if (name !== 'berth' && name !== 'runc' && name !== 'crun') throw new Error(`BERTH_TEST_RUNTIME must be berth, runc or crun, not "${name}"`);
  return name;
}

/** Why container tests cannot run here, or undefined when they can. */
export function cannotRunContainers(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: containers need namespaces and cgroups';
  if (!haveBusybox()) return 'needs a static busybox at /bin/busybox (apt-get install busybox-static)';
  return undefined;
}

/** A busybox rootfs shared by one test file; world-readable so non-root container users can use it. */
export function sharedRootfs(t: { after: (fn: () => void) => void }): string {
  const rootfs = makeBusyboxRootfs();
  chmodSync(rootfs, 0o755);
  t.after(() => removeRootfs(rootfs));
  return rootfs;
}

let idCounter = 0;

/** A per-test environment: a driver with a private state dir, and a way to write bundles. */
export class ContainerLab {
  readonly driver: RuntimeDriver;
  private readonly dir: string;
  private readonly ids: string[] = [];

  constructor(readonly runtime: TestRuntime, readonly rootfs: string, t: TestContext) {
    this.dir = mkdtempSync('/tmp/berth-test-rt-');
    this.driver = new RuntimeDriver({ binary: runtime.binary, root: path.join(this.dir, 'state'), kind: runtime.name });
    t.after(async () => {
      for (const id of this.ids) await this.driver.delete(id, { force: true, ignoreMissing: true }).catch(() => undefined);
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /** A fresh container id, cleaned up (force-deleted) after the test. */
  newId(prefix = 'c'): string {
    const id = `${prefix}-${process.pid}-${++idCounter}`;
    this.ids.push(id);
    return id;
  }

  /** Writes a bundle for the spec (rootfs filled in) and returns its dir and config. */
  bundle(spec: Omit<ContainerSpec, 'rootfs'> & { rootfs?: string }, tweak?: (config: OciConfig) => void): { dir: string; config: OciConfig } {
    const config = toOciSpec({ rootfs: this.rootfs, ...spec }, hostSpecOptions(spec));
    tweak?.(config);
    const dir = path.join(this.dir, 'bundles', spec.id);
    RuntimeDriver.writeBundle(dir, config);
    return { dir, config };
  }

  /** Path for a scratch file of this test. */
  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** Runs `sh -c script` attached in a fresh container and returns its result. */
  async sh(script: string, spec: Partial<ContainerSpec> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const id = this.newId();
    const { dir } = this.bundle({ id, args: ['/bin/sh', '-c', script], ...spec });
    return this.driver.run(id, dir, { timeoutMs: 20_000 });
  }
}

/** sha256 of a file, via the host's sha256sum. */
export function sha256File(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
}
