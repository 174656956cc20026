/** Service `volumes`: short syntax `SOURCE:TARGET[:MODE]` expanded to long form, bind sources made absolute. */
import type { VolumeMount } from './types.js';
import { parseVolumeSpec } from '../validate/syntax/index.js';
import { attributeError, isMapping, resolveHostPath, type NormalizeContext } from './context.js';

/** Normalizes a service's `volumes` list; bind sources become absolute when paths are resolved. */
export function normalizeVolumes(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): VolumeMount[] {
  if (!Array.isArray(value)) throw attributeError(context, keyPath, 'volumes must be a list');
  return value.map((entry, index): VolumeMount => {
    let mount: VolumeMount;
    if (typeof entry === 'string') {
      let parsed;
      try {
        parsed = parseVolumeSpec(entry);
      } catch (error) {
        throw attributeError(context, [...keyPath, index], `invalid volume "${entry}": ${(error as Error).message}`, 'use SOURCE:TARGET[:ro], e.g. "./data:/data" or "dbdata:/var/lib/db"');
      }
      // Compose prints an empty `volume: {}` for named and anonymous volumes in short syntax.
      mount = parsed.type === 'volume' && parsed.volume === undefined ? { ...parsed, volume: {} } : parsed;
    } else if (isMapping(entry)) {
      mount = { ...entry } as unknown as VolumeMount;
      if (typeof entry.type !== 'string') throw attributeError(context, [...keyPath, index], 'a volume in long syntax needs a "type" (bind, volume, tmpfs, ...)');
    } else {
      throw attributeError(context, [...keyPath, index], 'a volume must be a string or a mapping');
    }
    if (mount.type === 'bind' && typeof mount.source === 'string') {
      mount = { ...mount, source: resolveHostPath(context, mount.source) };
    }
    return mount;
  });
}
