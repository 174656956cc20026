/**
 * Service `environment` with `env_file` merged in: env files in the order listed, later files
 * winning, then `environment` winning over all of them. An entry without a value takes the
 * interpolation environment's value and is dropped when that is unset.
 */
import { readEnvFile } from '../load/index.js';
import { attributeError, isMapping, resolveHostPath, type NormalizeContext } from './context.js';
import { normalizeMapping } from './mappings.js';

/** One `env_file` entry in long form. */
export interface EnvFileEntry {
  path: string;
  required: boolean;
  format?: 'raw';
}

/**
 * Normalizes `env_file` (a string, a list of strings or of `{path, required, format}`). Paths
 * are always resolved: the files are read here and never printed, so `--no-path-resolution`
 * must not make them relative to wherever berth was started.
 */
export function normalizeEnvFiles(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): EnvFileEntry[] {
  const entries = Array.isArray(value) ? value : [value];
  const resolve = (file: string): string => resolveHostPath({ ...context, resolvePaths: true }, file);
  return entries.map((entry, index) => {
    if (typeof entry === 'string') return { path: resolve(entry), required: true };
    if (isMapping(entry) && typeof entry.path === 'string') {
      return {
        path: resolve(entry.path),
        required: entry.required === undefined ? true : Boolean(entry.required),
        ...(entry.format === 'raw' ? { format: 'raw' as const } : {}),
      };
    }
    throw attributeError(context, [...keyPath, index], 'an env_file entry must be a path or a mapping with "path"');
  });
}

/** Builds the final environment map of a service. */
export function normalizeEnvironment(context: NormalizeContext, keyPath: readonly (string | number)[], environment: unknown, envFiles: readonly EnvFileEntry[]): Record<string, string> {
  const lookup = (name: string): { value: string; from: string } | undefined =>
    Object.hasOwn(context.environment, name) ? { value: context.environment[name], from: 'environment' } : undefined;
  const merged: Record<string, string> = {};
  for (const file of envFiles) {
    try {
      Object.assign(merged, readEnvFile(file.path, { required: file.required, format: file.format, lookup }));
    } catch (error) {
      if (error instanceof Error && 'source' in error && (error as { source?: unknown }).source === undefined) {
        throw attributeError(context, keyPath.slice(0, -1).concat('env_file'), error.message, (error as { hint?: string }).hint);
      }
      throw error;
    }
  }
  if (environment !== undefined && environment !== null) {
    const own = normalizeMapping(context, keyPath, environment, (name) => (Object.hasOwn(context.environment, name) ? context.environment[name] : undefined));
    for (const [name, value] of Object.entries(own)) if (value !== null) merged[name] = value;
  }
  return merged;
}

