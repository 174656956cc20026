/** List-or-map attributes (`labels`, `sysctls`, `annotations`, build `args`) and `extra_hosts`. */
import { attributeError, isMapping, scalarText, type NormalizeContext } from './context.js';

/**
 * Turns `["A=1", "B"]` or `{A: 1, B: null}` into a string map. Entries without a value get
 * `missing(name)`; when that returns undefined the entry is dropped.
 */
export function normalizeMapping(
  context: NormalizeContext,
  keyPath: readonly (string | number)[],
  value: unknown,
  missing: (name: string) => string | null | undefined = () => '',
): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  const put = (name: string, entryValue: string | null | undefined): void => {
    if (entryValue !== undefined) result[name] = entryValue;
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = scalarText(entry);
      const eq = text.indexOf('=');
      if (eq < 0) put(text, missing(text));
      else put(text.slice(0, eq), text.slice(eq + 1));
    }
  } else if (isMapping(value)) {
    for (const [name, entryValue] of Object.entries(value)) {
      put(name, entryValue === null || entryValue === undefined ? missing(name) : scalarText(entryValue));
    }
  } else if (value !== null && value !== undefined) {
    throw attributeError(context, keyPath, 'must be a list of "KEY=VALUE" or a mapping');
  }
  return result;
}

/** Same as normalizeMapping for attributes whose values are never null (labels, sysctls, annotations). */
export function normalizeStringMap(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): Record<string, string> {
  return normalizeMapping(context, keyPath, value, () => '') as Record<string, string>;
}

/**
 * `extra_hosts`: list (`host:ip` or `host=ip`) or mapping (ip or list of ips), printed as
 * compose prints them: `host=ip` entries in the order written.
 */
export function normalizeExtraHosts(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): string[] {
  const result: string[] = [];
  const add = (host: string, ip: string): void => {
    const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
    result.push(`${host}=${bare}`);
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = scalarText(entry);
      const eq = text.indexOf('=');
      const sep = eq >= 0 ? eq : text.indexOf(':');
      if (sep < 0) throw attributeError(context, keyPath, `extra host "${text}" has no address`, 'write it as "host=ip" or "host:ip"');
      add(text.slice(0, sep), text.slice(sep + 1));
    }
  } else if (isMapping(value)) {
    for (const [host, ip] of Object.entries(value)) {
      for (const one of Array.isArray(ip) ? ip : [ip]) add(host, scalarText(one));
    }
  } else {
    throw attributeError(context, keyPath, 'extra_hosts must be a list or a mapping');
  }
  return result;
}

/** Attributes that accept one string or a list of strings (`dns`, `tmpfs`, ...): always a list. */
export function normalizeStringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(scalarText) : [scalarText(value)];
}
