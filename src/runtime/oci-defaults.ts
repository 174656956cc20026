/**
 * The defaults `docker run` gives every container, as data: capabilities, mounts, masked and
 * read-only /proc and /sys paths, device nodes and the device cgroup allow-list. toOciSpec()
 * starts from these so a berth container is confined exactly like a Docker one.
 */
import { RuntimeError } from '../errors.js';
import type { OciDevice, OciDeviceCgroup, OciMount } from './oci-types.js';

/** Docker's default capability set, in Docker's order. */
export const defaultCapabilities: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability Linux 5.9+ knows, by number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const allCapabilities: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN; "ALL" stays "ALL". */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!allCapabilities.includes(full)) {
    throw new RuntimeError(`unknown capability "${name}"`, {}, { hint: 'capabilities are named like "NET_ADMIN" or "CAP_NET_ADMIN"; see capabilities(7)' });
  }
  return full;
}

/**
 * The capability set after cap_add/cap_drop, with Docker's rules: "ALL" in cap_add starts from
 * every capability, "ALL" in cap_drop keeps only what cap_add names, drops win over adds.
 */
export function resolveCapabilities(capAdd: readonly string[] = [], capDrop: readonly string[] = [], privileged = false, available?: readonly string[]): string[] {
  // "Everything" means everything this host can grant: berth may itself run with a reduced
  // bounding set (nested in another container), and asking for more makes capset fail.
  const everything = available ? allCapabilities.filter((cap) => available.includes(cap)) : [...allCapabilities];
  if (privileged) return [...everything];
  const adds = capAdd.map(normalizeCapability);
  const drops = capDrop.map(normalizeCapability);
  const addAll = adds.includes('ALL');
  if (drops.includes('ALL')) {
    return addAll ? [...everything] : [...new Set(adds)];
  }
  const base = addAll ? [...everything] : [...defaultCapabilities];
  for (const cap of adds) if (cap !== 'ALL' && !base.includes(cap)) base.push(cap);
  return base.filter((cap) => !drops.includes(cap));
}

/** The capabilities in this process's bounding set (what a runtime started from here can grant). */
export function hostCapabilities(statusText: string): string[] {
  const match = /^CapBnd:\s*([0-9a-f]+)$/m.exec(statusText);
  if (!match) return [...allCapabilities];
  const mask = BigInt(`0x${match[1]}`);
  return allCapabilities.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** /proc and /sys entries that leak host information or control: hidden (bind of /dev/null or empty tmpfs). */
export const defaultMaskedPaths: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** /proc entries that stay visible but read-only (kernel tunables, sysrq). */
export const defaultReadonlyPaths: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's /dev/shm size when shm_size is not given: 64 MiB. */
export const defaultShmSize = 64 * 1024 * 1024;

/** The mounts every container gets, before the user's (which replace any at the same target). */
export function defaultMounts(options: { shmSize: number; privileged: boolean }): OciMount[] {
  const sysOptions = options.privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'];
  const cgroupOptions = options.privileged ? ['nosuid', 'noexec', 'nodev', 'relatime'] : ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOptions },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: cgroupOptions },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${options.shmSize}`] },
  ];
}

function charDevice(path: string, major: number, minor: number): OciDevice {
  return { path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 };
}

/** The device nodes every container gets in /dev. */
export const defaultDevices: readonly OciDevice[] = [
  charDevice('/dev/null', 1, 3),
  charDevice('/dev/zero', 1, 5),
  charDevice('/dev/full', 1, 7),
  charDevice('/dev/random', 1, 8),
  charDevice('/dev/urandom', 1, 9),
  charDevice('/dev/tty', 5, 0),
];

function allow(type: 'c' | 'b', major: number | undefined, minor: number | undefined, access = 'rwm'): OciDeviceCgroup {
  const rule: OciDeviceCgroup = { allow: true, type };
  if (major !== undefined) rule.major = major;
  if (minor !== undefined) rule.minor = minor;
  rule.access = access;
  return rule;
}

/**
 * The device cgroup: deny everything, then allow mknod of any node (harmless: opening is what
 * counts) and read/write of the default devices, the console, ptmx and the container's own ptys.
 */
export const defaultDeviceCgroup: readonly OciDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  allow('c', undefined, undefined, 'm'),
  allow('b', undefined, undefined, 'm'),
  allow('c', 1, 3),
  allow('c', 1, 5),
  allow('c', 1, 7),
  allow('c', 1, 8),
  allow('c', 1, 9),
  allow('c', 5, 0),
  allow('c', 5, 1),
  allow('c', 5, 2),
  allow('c', 136, undefined),
];

/** Default PATH when the image sets none. */
export const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
