/**
 * Top-level `networks`, `volumes`, `secrets`, `configs`: each gets its real `name`
 * (`<project>_<key>` unless it sets `name` or is external), file paths become absolute.
 */
import type { Config, Network, Secret, Volume } from './types.js';
import { isMapping, resolveHostPath, type NormalizeContext } from './context.js';
import { normalizeStringMap } from './mappings.js';

type Kind = 'networks' | 'volumes' | 'secrets' | 'configs';

/** The common part: name rule, legacy `external: {name}` and labels. */
function normalizeEntity(context: NormalizeContext, kind: Kind, key: string, value: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> = isMapping(value) ? { ...value } : {};
  let external = raw.external;
  let name = raw.name;
  if (isMapping(external)) {
    // Legacy form `external: {name: x}`.
    if (name === undefined && external.name !== undefined) name = external.name;
    external = true;
  }
  const isExternal = external === true;
  const result: Record<string, unknown> = { ...raw };
  result.name = name !== undefined ? String(name) : isExternal ? key : `${context.projectName}_${key}`;
  if (raw.external !== undefined) {
    if (isExternal) result.external = true;
    else delete result.external;
  }
  if (raw.labels !== undefined) result.labels = normalizeStringMap(context, [kind, key, 'labels'], raw.labels);
  return result;
}

/** Normalizes one top-level network; compose always prints an `ipam` mapping (empty by default). */
export function normalizeNetwork(context: NormalizeContext, key: string, value: unknown): Network {
  const result = normalizeEntity(context, 'networks', key, value);
  if (result.ipam === undefined || result.ipam === null) result.ipam = {};
  return { ...result, key, source: context.sourceOf(['networks', key]) ?? fallbackSource(context, ['networks', key]) } as Network;
}

/** Normalizes one top-level volume. */
export function normalizeVolume(context: NormalizeContext, key: string, value: unknown): Volume {
  const result = normalizeEntity(context, 'volumes', key, value);
  return { ...result, key, source: context.sourceOf(['volumes', key]) ?? fallbackSource(context, ['volumes', key]) } as Volume;
}

/** Normalizes one top-level secret or config; `file` becomes absolute. */
export function normalizeFileObject(context: NormalizeContext, kind: 'secrets' | 'configs', key: string, value: unknown): Secret | Config {
  const result = normalizeEntity(context, kind, key, value);
  if (typeof result.file === 'string') result.file = resolveHostPath(context, result.file);
  return { ...result, key, source: context.sourceOf([kind, key]) ?? fallbackSource(context, [kind, key]) } as Secret;
}

/** A SourceRef for entities the loader has no position for (e.g. the implicit default network). */
export function fallbackSource(context: NormalizeContext, keyPath: readonly (string | number)[]): { file: string; line: number; column: number; path: string } {
  return { file: context.workingDir, line: 0, column: 0, path: keyPath.join('.') };
}
