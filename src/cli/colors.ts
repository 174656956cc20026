/**
 * Colors of log prefixes: each service gets the next color of a fixed cycle (cyan, yellow,
 * green, magenta, blue, then their bright forms), the order Docker Compose users know. Colors
 * are off when the output is not a terminal, NO_COLOR is set, or --no-color / --ansi never.
 */

/** Wraps text in one color's escape codes. */
export type Paint = (text: string) => string;

const cycle = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

/** Identity paint, for colorless output. */
export const noPaint: Paint = (text) => text;

/** The paint for the i-th color of the cycle. */
export function cycleColor(index: number): Paint {
  const code = cycle[index % cycle.length];
  return (text) => `\x1b[${code}m${text}\x1b[0m`;
}

/** Whether to color output written to `stream`. */
export function colorEnabled(options: { noColor?: boolean; ansi?: 'never' | 'always' | 'auto'; stream?: { isTTY?: boolean }; env?: NodeJS.ProcessEnv } = {}): boolean {
  const env = options.env ?? process.env;
  if (options.noColor || options.ansi === 'never') return false;
  if (options.ansi === 'always') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean((options.stream ?? process.stdout).isTTY);
}

/** Hands out one color per key (service name) in order of first use. */
export class ColorCycle {
  private readonly assigned = new Map<string, Paint>();
  constructor(private readonly enabled: boolean) {}

  /** The key's paint; the same key always gets the same color. */
  for(key: string): Paint {
    if (!this.enabled) return noPaint;
    let paint = this.assigned.get(key);
    if (!paint) {
      paint = cycleColor(this.assigned.size);
      this.assigned.set(key, paint);
    }
    return paint;
  }
}

/** Removes ANSI escape sequences (for width computations and tests). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
