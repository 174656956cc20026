/**
 * Compose's `pull_policy`: always, missing (alias if_not_present), never, build, daily, weekly
 * and every_<duration>. The time-based ones compare against the last pull the store recorded
 * for the reference.
 */
import { ImageError } from '../../errors.js';
import type { ImageStore } from '../store/index.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration such as `12h`, `1h30m`, `2d` or `1w` into milliseconds. */
export function parsePullInterval(text: string): number {
  let total = 0;
  let rest = text;
  for (let guard = 0; rest.length > 0 && guard < 20; guard++) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/.exec(rest);
    if (!match) throw new ImageError(`invalid pull_policy interval "${text}"`, undefined, { hint: 'use a duration like "every_12h", "every_1h30m", "every_2d" or "every_1w"' });
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  if (total <= 0) throw new ImageError(`invalid pull_policy interval "${text}"`, undefined, { hint: 'the interval must be positive' });
  return total;
}

/** How long after a pull a time-based policy considers the image fresh; undefined for other policies. */
export function pullPolicyInterval(policy: string): number | undefined {
  if (policy === 'daily') return units.d;
  if (policy === 'weekly') return units.w;
  if (policy.startsWith('every_')) return parsePullInterval(policy.slice('every_'.length));
  return undefined;
}

/**
 * Decides whether `ref` must be pulled under `policy`. `explicitPull` is true for `berth pull`,
 * which pulls even images that exist under `always`; `up` passes false and gets `missing` by default.
 */
export async function shouldPull(store: ImageStore, ref: string, policy: string | undefined, options: { explicitPull?: boolean; now?: Date } = {}): Promise<boolean> {
  const effective = policy ?? (options.explicitPull ? 'always' : 'missing');
  switch (effective) {
    case 'always':
      return true;
    case 'never':
    case 'build':
      return false;
    case 'missing':
    case 'if_not_present':
      return (await store.resolve(ref)) === undefined;
    default: {
      const interval = pullPolicyInterval(effective);
      if (interval === undefined) {
        throw new ImageError(`unknown pull_policy "${effective}"`, ref, { hint: 'use always, missing, never, build, daily, weekly or every_<duration>' });
      }
      if ((await store.resolve(ref)) === undefined) return true;
      const last = await store.lastPull(ref);
      return last === undefined || (options.now ?? new Date()).getTime() - last.getTime() >= interval;
    }
  }
}
