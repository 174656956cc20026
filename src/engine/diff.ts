/**
 * Field-level differences between the service document a container was created from and the
 * current one, in words a user reads in `up --dry-run`: `environment.LOG_LEVEL changed "info"
 * -> "debug"`. Only fields in the config hash count (scale, profiles, depends_on, build,
 * pull_policy, develop and deploy.replicas never recreate a container).
 */
import { sortedData } from '../model/index.js';

const ignored = new Set(['scale', 'profiles', 'depends_on', 'build', 'pull_policy', 'develop', 'deploy.replicas']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short JSON of a value for a reason line (long values are cut). */
export function renderValue(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function walk(path: string, before: unknown, after: unknown, out: string[]): void {
  if (ignored.has(path)) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) walk(path ? `${path}.${key}` : key, before[key], after[key], out);
    return;
  }
  if (JSON.stringify(sortedData(before)) === JSON.stringify(sortedData(after))) return;
  const absent = (v: unknown) => v === undefined || v === null;
  if (absent(before)) out.push(`${path} added ${renderValue(after)}`);
  else if (absent(after)) out.push(`${path} removed (was ${renderValue(before)})`);
  else out.push(`${path} changed ${renderValue(before)} -> ${renderValue(after)}`);
}

/** The differences between two service documents, one line per changed leaf (objects are descended, lists compared whole). */
export function diffServiceConfig(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  walk('', before, after, out);
  return out;
}

/** `sha256:0123456789ab` style short digest. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':') ? digest.split(':') : ['sha256', digest];
  return `${algorithm}:${hex.slice(0, 12)}`;
}
