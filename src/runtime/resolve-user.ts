/**
 * resolveUser(): turns a compose/Dockerfile `user:` string into numeric ids by reading the
 * image's own /etc/passwd and /etc/group, the way `docker run --user` does. The rootfs is
 * untrusted (it came from an image), so paths are resolved component by component with every
 * symlink re-rooted inside the rootfs, and the final open refuses symlinks.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../errors.js';
import type { ContainerSpec, ContainerUser } from './container-config.js';

const maxIdValue = 2 ** 31 - 1;
const maxFileBytes = 4 * 1024 * 1024;
const maxSymlinkHops = 40;

/**
 * Resolves `unsafePath` inside `rootfs` as the container would see it: absolute symlinks and
 * `..` never leave the rootfs. Returns a host path (which may not exist).
 */
export function resolveInRootfs(rootfs: string, unsafePath: string): string {
  const root = path.resolve(rootfs);
  const pending = unsafePath.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Missing components are fine: the caller's open will fail with ENOENT.
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++hops > maxSymlinkHops) {
      throw new RuntimeError(`too many levels of symbolic links resolving "${unsafePath}" in rootfs "${rootfs}"`);
    }
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return path.join(root, ...resolved);
}

/** Reads a small regular file inside the rootfs, or returns undefined when it does not exist. */
function readRootfsFile(rootfs: string, containerPath: string): string | undefined {
  const hostPath = resolveInRootfs(rootfs, containerPath);
  let fd: number;
  try {
    fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RuntimeError(`cannot read "${containerPath}" in rootfs "${rootfs}"`, {}, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new RuntimeError(`"${containerPath}" in rootfs "${rootfs}" is not a regular file`);
    const size = Math.min(stat.size, maxFileBytes);
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, buffer, offset, size - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return buffer.subarray(0, offset).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parseId(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return value <= maxIdValue ? value : undefined;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const uid = parseId(fields[2] ?? '');
    const gid = parseId(fields[3] ?? '');
    if (fields.length < 4 || uid === undefined || gid === undefined) continue;
    entries.push({ name: fields[0], uid, gid, home: fields[5] || '/' });
  }
  return entries;
}

function parseGroup(text: string | undefined): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const gid = parseId(fields[2] ?? '');
    if (fields.length < 3 || gid === undefined) continue;
    entries.push({ name: fields[0], gid, members: (fields[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return entries;
}

/**
 * Resolves "name", "uid", "name:group", "uid:gid" (and mixes) against the rootfs's /etc/passwd
 * and /etc/group. Like Docker: a numeric uid missing from passwd is allowed (gid 0); a user name
 * must exist; supplementary groups come from /etc/group only when no group was given.
 */
export function resolveUser(rootfs: string, user: string | undefined): ContainerUser {
  const text = (user ?? '').trim();
  const colon = text.indexOf(':');
  const userPart = colon < 0 ? text : text.slice(0, colon);
  const groupPart = colon < 0 ? '' : text.slice(colon + 1);
  const passwd = parsePasswd(readRootfsFile(rootfs, '/etc/passwd'));

  let uid = 0;
  let gid = 0;
  let userName: string | undefined = 'root';
  let home = '/root';
  if (userPart !== '') {
    const numericUid = parseId(userPart);
    const entry = passwd.find((e) => (numericUid === undefined ? e.name === userPart : e.uid === numericUid));
    if (entry) {
      uid = entry.uid;
      gid = entry.gid;
      userName = entry.name;
      home = entry.home;
    } else if (numericUid !== undefined) {
      uid = numericUid;
      userName = undefined;
      home = '/';
    } else {
      throw new RuntimeError(`unable to find user "${userPart}": no matching entries in /etc/passwd of the image`, {}, {
        hint: 'use a numeric uid ("1000" or "1000:1000"), or add the user to the image',
      });
    }
  } else {
    const rootEntry = passwd.find((e) => e.uid === 0);
    if (rootEntry) {
      gid = rootEntry.gid;
      home = rootEntry.home;
    }
  }

  if (groupPart === '' && userName === undefined) return { uid, gid, additionalGids: [], home };
  const groups = parseGroup(readRootfsFile(rootfs, '/etc/group'));
  if (groupPart !== '') {
    const numericGid = parseId(groupPart);
    const entry = groups.find((g) => (numericGid === undefined ? g.name === groupPart : g.gid === numericGid));
    if (entry) gid = entry.gid;
    else if (numericGid !== undefined) gid = numericGid;
    else {
      throw new RuntimeError(`unable to find group "${groupPart}": no matching entries in /etc/group of the image`, {}, {
        hint: 'use a numeric gid ("1000:50"), or add the group to the image',
      });
    }
    return { uid, gid, additionalGids: [], home };
  }
  const supplementary = new Set<number>();
  for (const group of groups) {
    if (userName !== undefined && group.members.includes(userName) && group.gid !== gid) supplementary.add(group.gid);
  }
  return { uid, gid, additionalGids: [...supplementary].sort((a, b) => a - b), home };
}

/** The spec with a string `user` resolved against its rootfs (a numeric user is left as is). */
export function resolveSpecUser<T extends Pick<ContainerSpec, 'rootfs' | 'user'>>(spec: T): T & { user: ContainerUser } {
  const user = typeof spec.user === 'object' ? spec.user : resolveUser(spec.rootfs, spec.user);
  return { ...spec, user };
}
