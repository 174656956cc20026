/**
 * Facts about the host that shape a container but must not make toOciSpec impure: which
 * capabilities this process can grant, the host's device nodes, the cgroup layout.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { hostCapabilities } from './oci-defaults.js';
import type { OciSpecOptions } from './oci-spec.js';
import type { OciDevice } from './oci-types.js';

/** True on cgroup "hybrid" hosts: v1 controllers, plus cgroup2 at /sys/fs/cgroup/unified. */
export function isHybridCgroupHost(): boolean {
  return existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
}

/**
 * The host facts toOciSpec needs, observed now: capabilities this process can grant, and for a
 * privileged container the host's device nodes.
 */
export function hostSpecOptions(spec: { privileged?: boolean }): OciSpecOptions {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux or no /proc: assume every capability.
  }
  return {
    availableCapabilities: hostCapabilities(status),
    ...(spec.privileged ? { hostDevices: listHostDevices() } : {}),
  };
}

/** The host's device nodes (top level of /dev), for privileged containers. */
export function listHostDevices(devDir = '/dev'): OciDevice[] {
  const devices: OciDevice[] = [];
  for (const name of readdirSync(devDir).sort()) {
    const full = path.join(devDir, name);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      continue;
    }
    if (!stat.isCharacterDevice() && !stat.isBlockDevice()) continue;
    // The container gets its own console and ptys.
    if (['console', 'ptmx', 'tty'].includes(name)) continue;
    const rdev = stat.rdev;
    devices.push({
      path: full, type: stat.isCharacterDevice() ? 'c' : 'b',
      major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00)),
      fileMode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid,
    });
  }
  return devices;
}
