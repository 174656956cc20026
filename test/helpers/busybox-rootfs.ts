/**
 * Builds a minimal root filesystem from Debian's busybox-static for tests: /bin/busybox with
 * its applets as symlinks, /etc/passwd and /etc/group with a few users, empty /proc /sys /dev /tmp.
 */
import { readFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Where Debian's busybox-static installs the static binary. */
export const busyboxPath = '/bin/busybox';

/** True when a static busybox is available (scripts/bootstrap.sh installs busybox-static). */
export function haveBusybox(): boolean {
  if (!existsSync(busyboxPath)) return false;
  return !hasInterpreter(readFileSync(busyboxPath));
}

/** True when an ELF64 little-endian binary has a PT_INTERP program header (is dynamically linked). */
function hasInterpreter(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  }
  return false;
}

/** Creates a busybox rootfs in a new directory under `parent` (default /tmp) and returns its path. */
export function makeBusyboxRootfs(parent = '/tmp'): string {
  const dir = mkdtempSync(path.join(parent, 'berth-rootfs-'));
  populateBusyboxRootfs(dir);
  return dir;
}

/** Fills `dir` with a busybox userland (idempotent for an empty dir). */
export function populateBusyboxRootfs(dir: string): void {
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/app', 'var', 'run']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  chmodSync(path.join(dir, 'tmp'), 0o1777);
  copyFileSync(busyboxPath, path.join(dir, 'bin/busybox'));
  chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(busyboxPath, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    const link = path.join(dir, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(path.join(dir, 'etc/passwd'), [
    'root:x:0:0:root:/root:/bin/sh',
    'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
    'app:x:1000:1000:app:/home/app:/bin/sh',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
    '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'etc/group'), [
    'root:x:0:',
    'daemon:x:1:',
    'app:x:1000:',
    'staff:x:50:app',
    'audio:x:29:app',
    'nogroup:x:65534:',
    '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'etc/hostname'), 'rootfs\n');
}

/** Removes a rootfs made by makeBusyboxRootfs. */
export function removeRootfs(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
