/** The SourceIndex of a merged document: positions and origins looked up by key path. */
import { formatPath, type KeyPath } from './key-path.js';
import { placeOf, type Place } from './source-meta.js';
import type { SourceIndex, ValueOrigin } from './types.js';

/** Builds the index over `document`, whose own place is `rootPlace`. */
export function createSourceIndex(document: Record<string, unknown>, rootPlace: Place): SourceIndex {
  const walk = (path: KeyPath): { place: Place; exact: boolean } => {
    let node: unknown = document;
    let best = rootPlace;
    for (let i = 0; i < path.length; i++) {
      if (typeof node !== 'object' || node === null) return { place: best, exact: false };
      const place = placeOf(node, path[i]);
      if (!place) return { place: best, exact: false };
      best = place;
      node = (node as Record<string | number, unknown>)[path[i]];
    }
    return { place: best, exact: true };
  };
  return {
    lookup(path) {
      const { place } = walk(path);
      return { file: place.file, line: place.line, column: place.column, path: formatPath(path) };
    },
    origin(path): ValueOrigin | undefined {
      const { place, exact } = walk(path);
      if (!exact) return undefined;
      const origin: ValueOrigin = { source: { file: place.file, line: place.line, column: place.column, path: formatPath(path) } };
      if (place.via) origin.via = place.via;
      if (place.variables) origin.variables = place.variables;
      return origin;
    },
  };
}
