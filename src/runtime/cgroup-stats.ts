/**
 * Reads a container's resource usage straight from its cgroup files, so `berth stats` works the
 * same whichever runtime created the container. Handles cgroup v2 (unified) and v1 (one
 * hierarchy per controller, including "hybrid" hosts), detected at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One sample of a container's usage. Counters are cumulative; limits are undefined when unlimited. */
export interface ContainerStats {
  cgroupVersion: 1 | 2;
  memoryUsageBytes: number;
  memoryLimitBytes?: number;
  /** Total CPU time used, in nanoseconds. */
  cpuUsageNs: number;
  pids: number;
  pidsLimit?: number;
}

/** Where cgroup hierarchies are mounted (overridable for tests). */
export const cgroupMountRoot = '/sys/fs/cgroup';

/** 2 when the host runs a pure cgroup v2 hierarchy, 1 otherwise (legacy or hybrid). */
export function cgroupVersion(root = cgroupMountRoot): 1 | 2 {
  return existsSync(path.join(root, 'cgroup.controllers')) ? 2 : 1;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readNumber(file: string): number | undefined {
  const text = readText(file);
  if (text === undefined || text === '' || text === 'max') return undefined;
  const value = Number(text.split(/\s+/)[0]);
  return Number.isFinite(value) ? value : undefined;
}

/** v1 reports "no limit" as a huge page-aligned number; anything above 2^62 counts as unlimited. */
function limitOrUndefined(value: number | undefined): number | undefined {
  return value === undefined || value >= 2 ** 62 ? undefined : value;
}

/**
 * Samples the cgroup at `cgroupsPath` (the config.json value, e.g. "/berth/web-1").
 * Returns undefined when the cgroup does not exist (container gone or never created).
 */
export function readCgroupStats(cgroupsPath: string, root = cgroupMountRoot): ContainerStats | undefined {
  const relative = cgroupsPath.replace(/^\/+/, '');
  if (cgroupVersion(root) === 2) {
    const dir = path.join(root, relative);
    if (!existsSync(dir)) return undefined;
    const cpuStat = readText(path.join(dir, 'cpu.stat')) ?? '';
    const usageUsec = Number(/^usage_usec\s+(\d+)/m.exec(cpuStat)?.[1] ?? 0);
    return {
      cgroupVersion: 2,
      memoryUsageBytes: readNumber(path.join(dir, 'memory.current')) ?? 0,
      memoryLimitBytes: limitOrUndefined(readNumber(path.join(dir, 'memory.max'))),
      cpuUsageNs: usageUsec * 1000,
      pids: readNumber(path.join(dir, 'pids.current')) ?? 0,
      pidsLimit: readNumber(path.join(dir, 'pids.max')),
    };
  }
  const memoryDir = path.join(root, 'memory', relative);
  const pidsDir = path.join(root, 'pids', relative);
  const cpuDir = [path.join(root, 'cpuacct', relative), path.join(root, 'cpu,cpuacct', relative)].find((dir) => existsSync(dir));
  if (!existsSync(memoryDir) && !existsSync(pidsDir) && !cpuDir) return undefined;
  return {
    cgroupVersion: 1,
    memoryUsageBytes: readNumber(path.join(memoryDir, 'memory.usage_in_bytes')) ?? 0,
    memoryLimitBytes: limitOrUndefined(readNumber(path.join(memoryDir, 'memory.limit_in_bytes'))),
    cpuUsageNs: cpuDir ? readNumber(path.join(cpuDir, 'cpuacct.usage')) ?? 0 : 0,
    pids: readNumber(path.join(pidsDir, 'pids.current')) ?? 0,
    pidsLimit: readNumber(path.join(pidsDir, 'pids.max')),
  };
}
