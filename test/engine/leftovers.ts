/** What a project could leave on the host after `down`: mounts, runtime state, cgroups, netns, state and rootfs dirs. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { StackRoot } from '../helpers/stack.js';

/** Lists what is left of `project` (empty when down cleaned up). */
export function leftovers(root: StackRoot, project: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint && mountPoint.startsWith(root.root) && mountPoint.includes(project)) found.push(`mount ${mountPoint}`);
  }
  for (const kind of ['berth', 'runc', 'crun']) {
    const runtimeRoot = path.join(root.root, 'run', 'runtime', kind);
    if (existsSync(runtimeRoot)) for (const id of readdirSync(runtimeRoot)) if (id.startsWith(project)) found.push(`runtime ${kind} ${id}`);
  }
  for (const controller of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', controller, 'berth');
    if (existsSync(dir)) for (const name of readdirSync(dir)) if (name.startsWith(project)) found.push(`cgroup ${controller}/berth/${name}`);
  }
  if (existsSync('/run/netns')) for (const name of readdirSync('/run/netns')) if (name.includes(project)) found.push(`netns ${name}`);
  if (existsSync(path.join(root.root, 'projects', project))) found.push(`state ${path.join(root.root, 'projects', project)}`);
  const containersDir = path.join(root.root, 'images', 'containers');
  if (existsSync(containersDir)) for (const name of readdirSync(containersDir)) if (name.startsWith(project)) found.push(`rootfs ${name}`);
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const environ = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (environ.includes(project)) found.push(`process ${pid} ${environ.replace(/\0/g, ' ').trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

