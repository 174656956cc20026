/**
 * The project name: `-p`, else COMPOSE_PROJECT_NAME, else the top-level `name:`, else the
 * project directory's name. Names given explicitly must already be valid; the directory
 * name is normalized instead (lowercase, other characters dropped), as Compose does.
 */
import path from 'node:path';
import { ComposeFileError, UsageError } from '../errors.js';

const VALID = /^[a-z0-9][a-z0-9_-]*$/;
const RULE = 'must contain only lowercase letters, decimal digits, dashes, and underscores, and must begin with a lowercase letter or decimal digit';

/** Lowercases and drops characters outside [a-z0-9_-], then leading dashes and underscores. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

/** True when `name` is a valid project name as written. */
export function isValidProjectName(name: string): boolean {
  return VALID.test(name);
}

/** Where a name candidate came from, for the error message. */
export type NameSource = 'flag' | 'environment' | 'file';

/** Picks and checks the project name by Compose's precedence. */
export function resolveProjectName(candidates: {
  flag?: string;
  environment?: string;
  file?: { name: string; where?: { file: string; line: number; column: number } };
  projectDirectory: string;
}): string {
  const explicit: [string | undefined, string][] = [
    [candidates.flag, '-p'],
    [candidates.environment, 'COMPOSE_PROJECT_NAME'],
  ];
  for (const [name, label] of explicit) {
    if (!name) continue;
    if (!isValidProjectName(name)) {
      throw new UsageError(`invalid project name "${name}" (from ${label}): ${RULE}`, { hint: suggest(name) });
    }
    return name;
  }
  if (candidates.file && candidates.file.name !== '') {
    const { name, where } = candidates.file;
    if (!isValidProjectName(name)) {
      throw new ComposeFileError(`invalid project name "${name}": ${RULE}`, {
        source: where ? { ...where, path: 'name' } : undefined,
        hint: suggest(name),
      });
    }
    return name;
  }
  const fromDir = normalizeProjectName(path.basename(candidates.projectDirectory));
  if (fromDir === '') {
    throw new UsageError(`cannot derive a project name from the directory "${candidates.projectDirectory}"`, {
      hint: 'set one with -p, COMPOSE_PROJECT_NAME or a top-level "name:"',
    });
  }
  return fromDir;
}

function suggest(name: string): string | undefined {
  const fixed = normalizeProjectName(name);
  return fixed ? `try "${fixed}"` : undefined;
}
