/** Durations and byte sizes as Compose writes them (`"1m30s"`, `"512m"`), parsed to numbers. */

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration (`"30s"`, `"1m30s"`, `"1.5h"`, `"500ms"`, `"0"`) into milliseconds. Compose uses
 * Go's duration syntax, so a bare number other than 0 is an error: it has no unit.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0' || trimmed === '-0' || trimmed === '+0') return 0;
  const match = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(trimmed);
  if (!match) {
    if (/^[-+]?\d+(\.\d+)?$/.test(trimmed)) throw new Error(`duration "${text}" has no unit; write it like "${trimmed}s"`);
    throw new Error(`"${text}" is not a duration; write it like "30s", "1m30s" or "500ms" (units: ns, us, ms, s, m, h)`);
  }
  let total = 0;
  for (const part of match[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * durationUnits[part[2]];
  }
  return match[1] === '-' ? -total : total;
}

const byteUnits: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * Parses a byte size (`1048576`, `"512m"`, `"512mb"`, `"1.5GiB"`, `"100k"`) into bytes. Like the
 * Docker CLI, units are binary (k = 1024) and an optional "b" or "ib" may follow the unit letter.
 */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`byte size ${value} is not a whole number`);
    return value;
  }
  const match = /^(\d+(?:\.\d+)?) ?([kmgtpb]?)(i?b)?$/i.exec(value.trim());
  if (!match || (match[2].toLowerCase() === 'b' && match[3] !== undefined)) {
    throw new Error(`"${value}" is not a byte size; write it like "512m", "1g" or 1048576 (units: b, k, m, g, t, p)`);
  }
  return Math.floor(Number(match[1]) * byteUnits[match[2].toLowerCase()]);
}
