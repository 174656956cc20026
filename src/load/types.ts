/**
 * The loader's contract: what `loadCompose()` takes and what it hands to validation and
 * normalization. Nothing after the loader reads YAML; it reads `LoadedCompose`.
 */
import type { SourceRef } from '../errors.js';

/** Inputs of one load, from CLI flags, the API, and the environment. */
export interface LoadOptions {
  /** Working directory of the command (where discovery starts). */
  cwd: string;
  /** `-f` files in order; `-` means stdin. Empty: COMPOSE_FILE, then discovery. */
  files?: readonly string[];
  /** `-p`; beats COMPOSE_PROJECT_NAME and the top-level `name`. */
  projectName?: string;
  /** `--project-directory` (relative to cwd); default: directory of the first file. Discovery starts here when set. */
  projectDirectory?: string;
  /** `--env-file` (repeatable); otherwise COMPOSE_ENV_FILES, otherwise `<projectDirectory>/.env`. */
  envFiles?: readonly string[];
  /** `--profile` (repeatable); when empty, COMPOSE_PROFILES (comma-separated) applies, as in Compose. */
  profiles?: readonly string[];
  /** The process environment (defaults to process.env); it beats .env values. */
  env?: Readonly<Record<string, string | undefined>>;
  /** false for `--no-interpolate`. */
  interpolate?: boolean;
  /** false for `--no-path-resolution`: relative paths stay as written. Read by normalization; the loader only rebases paths of included/extended files. */
  resolvePaths?: boolean;
  /** Reads stdin for `-f -` (tests pass a string source). */
  readStdin?: () => Promise<string>;
}

/** Where a value came from, for `berth config --explain`. */
export interface ValueOrigin {
  /** The place in a file where the final value was written. */
  source: SourceRef;
  /** How it got here: `override file`, `extends "base" from common.yaml`, `include other/compose.yaml`, ... */
  via?: string;
  /** Variables interpolated into the value, with where each value came from. */
  variables?: readonly VariableUse[];
}

/** One `${VAR}` substituted into a value. */
export interface VariableUse {
  name: string;
  /** The value substituted (undefined when unset and no default applied). */
  value?: string;
  /** `environment` (process env), `.env file <path>`, `--env-file <path>`, `default`, `unset`. */
  from: string;
  /** `+` when the variable was only tested (`${VAR:+alt}`), so being unset is no warning. */
  operator?: '+';
}

/** Looks up source positions and origins of values in the merged document by key path. */
export interface SourceIndex {
  /** Position of the value at `path` (e.g. ['services','web','ports',0]); nearest ancestor if not exact. */
  lookup(path: readonly (string | number)[]): SourceRef | undefined;
  /** Full origin (file, override chain, variables) of the value at `path`, if recorded. */
  origin(path: readonly (string | number)[]): ValueOrigin | undefined;
}

/** The merged, interpolated compose document plus everything needed to finish the Project. */
export interface LoadedCompose {
  /** Normalized project name (lowercase, [a-z0-9_-], starting with a letter or digit). */
  projectName: string;
  /** Absolute project directory; relative paths in `document` are relative to it. */
  projectDirectory: string;
  /** Absolute paths of the compose files read, in merge order (`-` for stdin). */
  configFiles: readonly string[];
  /** Environment files that fed interpolation, in order. */
  envFiles: readonly string[];
  /** Variables available for interpolation and for `environment` entries without a value. */
  environment: Readonly<Record<string, string>>;
  /** Active profiles: --profile flags, else COMPOSE_PROFILES (may contain `*`). */
  profiles: readonly string[];
  /**
   * The merged document as plain JSON-like data: include and extends resolved, override files
   * merged, `!reset`/`!override` applied, `x-` keys kept, interpolation done. Relative paths
   * of included/extended files are already rebased onto `projectDirectory`.
   */
  document: Record<string, unknown>;
  /** Positions and origins of values in `document`. */
  sources: SourceIndex;
  /** Things worth telling the user that do not stop the load (unset variables, ...). */
  warnings: readonly string[];
}
