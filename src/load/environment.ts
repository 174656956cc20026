/**
 * The variables a project interpolates with: the env files (`--env-file`, COMPOSE_ENV_FILES
 * or the project's `.env`) overlaid by the process environment, which always wins.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readEnvFile } from './dotenv.js';
import type { VariableLookup } from './interpolate.js';

/** Variables with where each came from (`environment`, `.env file x`, `--env-file x`). */
export interface ResolvedEnvironment {
  values: Record<string, string>;
  origins: Map<string, string>;
  /** Absolute paths of the env files read, in order. */
  files: string[];
}

/** Where the env files come from for one resolution. */
export interface EnvironmentSources {
  processEnv: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** `--env-file` values (relative to cwd); they replace the default `.env`. */
  envFiles?: readonly string[];
  /** Directory whose `.env` is read when no env files are named. */
  dotenvDir: string;
  /** Labels for display, e.g. paths relative to cwd. */
  display: (absolutePath: string) => string;
  /** Variables from outside (an including project) that env files may interpolate. */
  outer?: VariableLookup;
}

/** Builds the interpolation environment; a named env file that is missing is an error. */
export function resolveEnvironment(sources: EnvironmentSources): ResolvedEnvironment {
  const processValues: Record<string, string> = {};
  for (const [name, value] of Object.entries(sources.processEnv)) if (value !== undefined) processValues[name] = value;
  const values: Record<string, string> = {};
  const origins = new Map<string, string>();
  const files: string[] = [];
  const lookup: VariableLookup = (name) => {
    if (Object.hasOwn(processValues, name)) return { value: processValues[name], from: 'environment' };
    const outer = sources.outer?.(name);
    if (outer) return outer;
    return Object.hasOwn(values, name) ? { value: values[name], from: origins.get(name) ?? 'environment' } : undefined;
  };
  const read = (file: string, label: string, required: boolean): void => {
    if (!required && !isFile(file)) return;
    const parsed = readEnvFile(file, { required, lookup });
    files.push(file);
    for (const [name, value] of Object.entries(parsed)) {
      values[name] = value;
      origins.set(name, `${label} ${sources.display(file)}`);
    }
  };
  const named = sources.envFiles?.length ? sources.envFiles : splitList(sources.processEnv.COMPOSE_ENV_FILES, ',');
  if (named.length > 0) for (const file of named) read(path.resolve(sources.cwd, file), '--env-file', true);
  else if (!isTrue(sources.processEnv.COMPOSE_DISABLE_ENV_FILE)) read(path.join(sources.dotenvDir, '.env'), '.env file', false);
  for (const [name, value] of Object.entries(processValues)) {
    values[name] = value;
    origins.set(name, 'environment');
  }
  return { values, origins, files };
}

/** A lookup over a resolved environment that reports each variable's origin. */
export function environmentLookup(env: ResolvedEnvironment): VariableLookup {
  return (name) => (Object.hasOwn(env.values, name) ? { value: env.values[name], from: env.origins.get(name) ?? 'environment' } : undefined);
}

/** Splits a separated list from an environment variable, dropping empty items. */
export function splitList(value: string | undefined, separator: string): string[] {
  if (!value) return [];
  return value.split(separator).map((item) => item.trim()).filter((item) => item !== '');
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A lookup over plain variables (e.g. `LoadedCompose.environment`), for reading service env files. */
export function recordLookup(values: Readonly<Record<string, string>>, from = 'environment'): VariableLookup {
  return (name) => (Object.hasOwn(values, name) ? { value: values[name], from } : undefined);
}
