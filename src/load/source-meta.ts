/**
 * Positions of values in loaded compose data, kept beside the plain data rather than in it:
 * every mapping and sequence has a side table (under a hidden symbol key) with the place of each child
 * value, so merging can move places along with values and the data itself stays plain JSON.
 */
import type { VariableUse } from './types.js';

/** Where one value was written, and how it reached the merged document. */
export interface Place {
  file: string;
  line: number;
  column: number;
  /** `override file x`, `extends "svc" from f`, `include p`; undefined for the main file. */
  via?: string;
  /** Variables interpolated into this value. */
  variables?: readonly VariableUse[];
}

/** A YAML tag that changes how a value merges with what came before it. */
export type MergeTag = 'reset' | 'override';

/** The side table of one mapping or sequence. */
export interface ContainerMeta {
  places: Map<string | number, Place>;
  tags?: Map<string | number, MergeTag>;
}

// The side table hangs on the container under a non-enumerable symbol: invisible to
// Object.keys, JSON and spreads, and much cheaper for the garbage collector than a WeakMap
// entry per container (a large project has hundreds of thousands of them).
const META = Symbol('berth.sourceMeta');
type WithMeta = { [META]?: ContainerMeta };

/** The side table of `container`, created on first use. */
export function metaOf(container: object): ContainerMeta {
  let meta = (container as WithMeta)[META];
  if (!meta) {
    meta = { places: new Map() };
    Object.defineProperty(container, META, { value: meta, writable: true, configurable: true });
  }
  return meta;
}

/** Place of the child `key` of `container`, if recorded. */
export function placeOf(container: object, key: string | number): Place | undefined {
  return (container as WithMeta)[META]?.places.get(key);
}

/** Records the place of the child `key` of `container`. */
export function setPlace(container: object, key: string | number, place: Place | undefined): void {
  if (place) metaOf(container).places.set(key, place);
}

/** The merge tag (`!reset`, `!override`) written on the child `key`, if any. */
export function tagOf(container: object, key: string | number): MergeTag | undefined {
  return (container as WithMeta)[META]?.tags?.get(key);
}

/** Records a merge tag on the child `key` of `container`. */
export function setTag(container: object, key: string | number, tag: MergeTag): void {
  const meta = metaOf(container);
  (meta.tags ??= new Map()).set(key, tag);
}

/** True for plain mappings (not arrays, not null). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep copy of `value` with its places, optionally stamping `via` on every place that has
 * none yet: used when a service is copied by `extends` so the copy can be merged safely.
 */
export function cloneWithPlaces<T>(value: T, via?: string): T {
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      copy[i] = cloneWithPlaces(value[i], via);
      copyEntry(value, i, copy, i, via);
    }
    return copy as T;
  }
  if (isMapping(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      copy[key] = cloneWithPlaces(value[key], via);
      copyEntry(value, key, copy, key, via);
    }
    return copy as T;
  }
  return value;
}

/** Copies the place and tag of one child from `from[fromKey]` to `to[toKey]`. */
export function copyEntry(from: object, fromKey: string | number, to: object, toKey: string | number, via?: string): void {
  const meta = (from as WithMeta)[META];
  if (!meta) return;
  const place = meta.places.get(fromKey);
  if (place) metaOf(to).places.set(toKey, via && !place.via ? { ...place, via } : place);
  const tag = meta.tags?.get(fromKey);
  if (tag) setTag(to, toKey, tag);
}
