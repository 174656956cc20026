/**
 * Test helpers for berth-runtime: a Docker-like default OCI config written by hand (default
 * mounts, capabilities, masked paths, device rules), bundle directories and a runner for the
 * real binary built from runtime/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An OCI runtime config; loosely typed because tests poke at arbitrary fields. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OciConfig = Record<string, any>;

/** Path of the runtime binary built by `make -C runtime` (dist/test/runtime-native → repo root). */
export const runtimeBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../runtime/build/berth-runtime');

/** Docker's default capability set. */
export const dockerCaps = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** A config like the one Docker generates for `docker run busybox ARGS`. */
export function defaultConfig(rootfs: string, args: string[]): OciConfig {
  const dev = (type: string, major: number | null, minor: number | null, access: string) => ({ allow: true, type, major, minor, access });
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=test'],
      cwd: '/',
      capabilities: { bounding: dockerCaps, effective: dockerCaps, permitted: dockerCaps, inheritable: [] },
      rlimits: [],
      noNewPrivileges: false,
      oomScoreAdj: 0,
    },
    root: { path: rootfs, readonly: false },
    hostname: 'test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    ],
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }, { type: 'cgroup' }],
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          dev('c', null, null, 'm'), dev('b', null, null, 'm'), dev('c', 1, 3, 'rwm'), dev('c', 1, 8, 'rwm'),
          dev('c', 1, 7, 'rwm'), dev('c', 5, 0, 'rwm'), dev('c', 1, 5, 'rwm'), dev('c', 1, 9, 'rwm'),
          dev('c', 5, 1, 'rwm'), dev('c', 136, null, 'rwm'), dev('c', 5, 2, 'rwm'), dev('c', 10, 200, 'rwm'),
        ],
      },
      maskedPaths: ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
    annotations: {},
  };
}

/** A temporary place for bundles and runtime state; `cleanup()` force-deletes what is left. */
export class Sandbox {
  readonly dir = mkdtempSync('/tmp/berth-test-');
  readonly root = path.join(this.dir, 'state');
  private ids = new Set<string>();
  private count = 0;

  /** Writes a bundle whose config is `config` and returns its directory. */
  bundle(config: OciConfig): string {
    const dir = path.join(this.dir, `bundle-${++this.count}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  }

  /** A fresh container id that cleanup() will delete. */
  id(prefix = 'c'): string {
    const id = `${prefix}-${process.pid}-${++this.count}`;
    this.ids.add(id);
    return id;
  }

  /** Runs the runtime synchronously with --root set. */
  rt(args: string[], input?: string, timeoutMs = 30_000): SpawnSyncReturns<string> {
    return spawnSync(runtimeBin, ['--root', this.root, ...args], { encoding: 'utf8', input, timeout: timeoutMs });
  }

  /** `run` attached: returns stdout, stderr and the exit code. */
  run(config: OciConfig, timeoutMs = 30_000): { stdout: string; stderr: string; code: number | null; id: string } {
    const id = this.id();
    const r = this.rt(['run', '--bundle', this.bundle(config), id], undefined, timeoutMs);
    return { stdout: r.stdout, stderr: r.stderr, code: r.status, id };
  }

  /** `run` attached in the background, for tests that signal it. */
  spawnRun(config: OciConfig, id = this.id()) {
    const child = spawn(runtimeBin, ['--root', this.root, 'run', '--bundle', this.bundle(config), id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, id, done, stdout: () => stdout };
  }

  /** Parsed `state ID`. */
  state(id: string): OciConfig {
    const r = this.rt(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout) as OciConfig;
  }

  /** Removes every container and file this sandbox made. */
  cleanup(): void {
    for (const id of this.ids) {
      if (existsSync(path.join(this.root, id))) this.rt(['delete', '--force', id]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** Reads a file or returns '' when it does not exist. */
export function readOr(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

/**
 * A classic BPF seccomp program that fails mkdir(2) and mkdirat(2) with EPERM on x86-64 and
 * allows everything else, encoded as the run.berth.seccomp.bpf annotation expects.
 */
export function mkdirDenyBpf(): string {
  const insns: Array<[number, number, number, number]> = [
    [0x20, 0, 0, 4],           // ld arch
    [0x15, 0, 5, 0xc000003e],  // not x86-64 → allow
    [0x20, 0, 0, 0],           // ld nr
    [0x15, 2, 0, 83],          // mkdir → errno
    [0x15, 1, 0, 258],         // mkdirat → errno
    [0x06, 0, 0, 0x7fff0000],  // allow
    [0x06, 0, 0, 0x00050001],  // errno EPERM
    [0x06, 0, 0, 0x7fff0000],  // allow
  ];
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8); buf.writeUInt8(jt, i * 8 + 2); buf.writeUInt8(jf, i * 8 + 3); buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf.toString('base64');
}
