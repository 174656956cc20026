/**
 * Usage figures for `berth stats`: CPU (from two cgroup samples), memory, network (the
 * container's /proc/<pid>/net/dev, loopback excluded) and pids, per container plus a TOTAL row
 * per project.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { RuntimeDriver } from '../runtime/index.js';
import type { ObservedContainer } from './types.js';
import { compareStrings } from '../compare.js';

/** One container's figures (or the project total, with name "TOTAL"). */
export interface StatsRow {
  name: string;
  service: string;
  project: string;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  memoryPercent: number;
  netRxBytes: number;
  netTxBytes: number;
  pids: number;
}

interface Sample { cpuNs: number; at: bigint; memory: number; limit?: number; pids: number; rx: number; tx: number }

/** Bytes received and sent on the non-loopback interfaces of the process's network namespace. */
export function networkBytes(pid: number | undefined): { rx: number; tx: number } {
  if (!pid) return { rx: 0, tx: 0 };
  let rx = 0;
  let tx = 0;
  try {
    for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const [iface, data] = line.split(':');
      if (!data || iface.trim() === 'lo') continue;
      const fields = data.trim().split(/\s+/).map(Number);
      rx += fields[0] ?? 0;
      tx += fields[8] ?? 0;
    }
  } catch {
    // gone
  }
  return { rx, tx };
}

async function sample(driver: RuntimeDriver, container: ObservedContainer): Promise<Sample | undefined> {
  try {
    const stats = await driver.stats(container.record.id);
    const net = networkBytes(container.pid);
    return { cpuNs: stats.cpuUsageNs, at: process.hrtime.bigint(), memory: stats.memoryUsageBytes, limit: stats.memoryLimitBytes, pids: stats.pids, ...net };
  } catch {
    return undefined;
  }
}

/** Samples the containers twice, `intervalMs` apart, and returns one row each plus a TOTAL row per project. */
export async function collectStats(driver: RuntimeDriver, containers: readonly ObservedContainer[], intervalMs = 500): Promise<StatsRow[]> {
  const first = await Promise.all(containers.map((c) => (c.status === 'running' ? sample(driver, c) : undefined)));
  if (first.some(Boolean)) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const second = await Promise.all(containers.map((c, i) => (first[i] ? sample(driver, c) : undefined)));
  const hostMemory = totalmem();
  const rows: StatsRow[] = containers.map((container, i) => {
    const a = first[i];
    const b = second[i];
    const limit = b?.limit ?? hostMemory;
    const wallNs = a && b ? Number(b.at - a.at) : 0;
    const cpuPercent = a && b && wallNs > 0 ? Math.max(0, ((b.cpuNs - a.cpuNs) / wallNs) * 100) : 0;
    return {
      name: container.record.name, service: container.record.service, project: container.record.project,
      cpuPercent, memoryBytes: b?.memory ?? 0, memoryLimitBytes: limit, memoryPercent: b ? (b.memory / limit) * 100 : 0,
      netRxBytes: b?.rx ?? 0, netTxBytes: b?.tx ?? 0, pids: b?.pids ?? 0,
    };
  }).sort((x, y) => compareStrings(x.name, y.name));
  const projects = [...new Set(rows.map((r) => r.project))].sort();
  for (const project of projects) {
    const own = rows.filter((r) => r.project === project);
    const memory = own.reduce((sum, r) => sum + r.memoryBytes, 0);
    rows.push({
      name: 'TOTAL', service: '', project, cpuPercent: own.reduce((sum, r) => sum + r.cpuPercent, 0), memoryBytes: memory,
      memoryLimitBytes: hostMemory, memoryPercent: (memory / hostMemory) * 100,
      netRxBytes: own.reduce((sum, r) => sum + r.netRxBytes, 0), netTxBytes: own.reduce((sum, r) => sum + r.netTxBytes, 0),
      pids: own.reduce((sum, r) => sum + r.pids, 0),
    });
  }
  return rows;
}

/** 1.5MiB, 2.1GiB (binary units, as `docker stats` prints memory). */
export function formatBinary(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(2).replace(/\.?0+$/, '')}${units[unit]}`;
}

/** 1.5kB, 2MB (decimal units, as `docker stats` prints I/O). */
export function formatDecimal(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(2).replace(/\.?0+$/, '')}${units[unit]}`;
}

/** The display fields of a row (JSON output uses these next to the raw numbers). */
export function displayFields(row: StatsRow): { CPUPerc: string; MemUsage: string; MemPerc: string; NetIO: string; PIDs: string } {
  return {
    CPUPerc: `${row.cpuPercent.toFixed(2)}%`,
    MemUsage: `${formatBinary(row.memoryBytes)} / ${formatBinary(row.memoryLimitBytes)}`,
    MemPerc: `${row.memoryPercent.toFixed(2)}%`,
    NetIO: `${formatDecimal(row.netRxBytes)} / ${formatDecimal(row.netTxBytes)}`,
    PIDs: String(row.pids),
  };
}
