/**
 * Process listings for `berth top`: the container's host pids from the runtime, each described
 * from /proc/<pid> in the columns of `ps -ef` (UID PID PPID C STIME TTY TIME CMD). User names
 * come from the container's own /etc/passwd.
 */
import { readFileSync } from 'node:fs';
import { resolveInRootfs } from '../runtime/index.js';

/** One row of `top`. */
export interface ProcessRow {
  uid: string;
  pid: number;
  ppid: number;
  c: number;
  stime: string;
  tty: string;
  time: string;
  cmd: string;
}

/** Column titles of `top`. */
export const topTitles = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'] as const;

const clockTicks = 100;

function bootTimeMs(): number {
  const stat = readFileSync('/proc/stat', 'utf8');
  return Number(/^btime (\d+)/m.exec(stat)?.[1] ?? 0) * 1000;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** [DD-]HH:MM:SS of CPU seconds. */
export function formatCpuTime(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const rest = seconds % 86400;
  const hms = `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(Math.floor(rest % 60))}`;
  return days > 0 ? `${days}-${hms}` : hms;
}

function userNames(rootfs: string | undefined): Map<number, string> {
  const names = new Map<number, string>();
  if (!rootfs) return names;
  try {
    for (const line of readFileSync(resolveInRootfs(rootfs, '/etc/passwd'), 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields.length >= 3 && /^\d+$/.test(fields[2]) && !names.has(Number(fields[2]))) names.set(Number(fields[2]), fields[0]);
    }
  } catch {
    // no passwd: numeric ids
  }
  return names;
}

/** Describes host pids (those that vanished meanwhile are left out). `rootfs` gives user names. */
export function processRows(pids: readonly number[], rootfs?: string, now = Date.now()): ProcessRow[] {
  const boot = bootTimeMs();
  const users = userNames(rootfs);
  const rows: ProcessRow[] = [];
  for (const pid of pids) {
    let stat: string;
    let status: string;
    let cmdline: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state) of proc(5).
    const ppid = Number(fields[1]);
    const ttyNr = Number(fields[4]);
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / clockTicks;
    const startMs = boot + (Number(fields[19]) / clockTicks) * 1000;
    const elapsed = Math.max((now - startMs) / 1000, 0.001);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const start = new Date(startMs);
    const sameDay = new Date(now).toDateString() === start.toDateString();
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const major = (ttyNr >> 8) & 0xfff;
    const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
    const tty = ttyNr === 0 ? '?' : major === 136 ? `pts/${minor}` : major === 4 ? `tty${minor}` : `${major}:${minor}`;
    const args = cmdline.split('\0').filter((part, i, all) => part !== '' || i < all.length - 1);
    rows.push({
      uid: users.get(uid) ?? String(uid),
      pid,
      ppid,
      c: Math.min(99, Math.floor((cpuSeconds / elapsed) * 100)),
      stime: sameDay ? `${pad(start.getHours())}:${pad(start.getMinutes())}` : `${months[start.getMonth()]}${pad(start.getDate())}`,
      tty,
      time: formatCpuTime(Math.floor(cpuSeconds)),
      cmd: args.length > 0 ? args.join(' ') : `[${comm}]`,
    });
  }
  return rows;
}

/** Renders rows as an aligned table with the `ps -ef` titles (CMD last, unpadded). */
export function renderTable(titles: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = titles.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('   ').trimEnd();
  return [line(titles), ...rows.map(line)].join('\n');
}
