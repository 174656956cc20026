/**
 * Which compose files a command reads: `-f` flags, else COMPOSE_FILE, else the first of
 * compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml found in the working
 * directory or its parents, followed by the matching override file when there is one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ComposeFileError } from '../errors.js';
import { splitList } from './environment.js';

/** Default compose file names, in the order Compose looks for them. */
export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;

/** Compose files to load, absolute (or `-` for stdin), in merge order. */
export interface DiscoveredFiles {
  files: string[];
  /** True when the files came from searching (no -f, no COMPOSE_FILE). */
  discovered: boolean;
}

/** Resolves the compose files from flags, COMPOSE_FILE (split by COMPOSE_PATH_SEPARATOR) or discovery. */
export function discoverFiles(
  cwd: string,
  flagFiles: readonly string[] | undefined,
  env: Readonly<Record<string, string | undefined>>,
  searchFrom: string = cwd,
): DiscoveredFiles {
  if (flagFiles && flagFiles.length > 0) {
    return { files: flagFiles.map((file) => (file === '-' ? '-' : path.resolve(cwd, file))), discovered: false };
  }
  const fromEnv = splitList(env.COMPOSE_FILE, env.COMPOSE_PATH_SEPARATOR || path.delimiter);
  if (fromEnv.length > 0) return { files: fromEnv.map((file) => path.resolve(cwd, file)), discovered: false };
  // Bounded: a path has finitely many parents; stop at the root.
  for (let dir = path.resolve(searchFrom), depth = 0; depth < 256; depth++) {
    const found = findIn(dir);
    if (found) {
      const override = overrideOf(found);
      return { files: override ? [found, override] : [found], discovered: true };
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ComposeFileError(`no compose file found in "${searchFrom}" or any parent directory`, {
    hint: `create one of ${DEFAULT_FILE_NAMES.map((name) => `"${name}"`).join(', ')}, or name it with -f`,
  });
}

function findIn(dir: string): string | undefined {
  for (const name of DEFAULT_FILE_NAMES) {
    const candidate = path.join(dir, name);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/** `compose.yaml` → `compose.override.yaml` (same base and extension), when it exists. */
function overrideOf(file: string): string | undefined {
  const ext = path.extname(file);
  const candidate = path.join(path.dirname(file), `${path.basename(file, ext)}.override${ext}`);
  return isFile(candidate) ? candidate : undefined;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
