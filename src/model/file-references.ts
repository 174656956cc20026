/** Service `secrets` and `configs`: a name or a mapping, into `{source, target?, uid?, gid?, mode?}`. */
import type { FileReference } from './types.js';
import { attributeError, isMapping, type NormalizeContext } from './context.js';

/** Normalizes a service's `secrets` or `configs` list. */
export function normalizeFileReferences(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): FileReference[] {
  if (!Array.isArray(value)) throw attributeError(context, keyPath, `${String(keyPath[keyPath.length - 1])} must be a list`);
  return value.map((entry, index) => {
    if (typeof entry === 'string') return { source: entry };
    if (isMapping(entry) && typeof entry.source === 'string') return { ...entry } as unknown as FileReference;
    throw attributeError(context, [...keyPath, index], 'an entry must be a name or a mapping with "source"');
  });
}
