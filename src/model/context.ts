/** What every attribute normalizer may need besides the value it normalizes. */
import os from 'node:os';
import path from 'node:path';
import { ComposeFileError, type SourceRef } from '../errors.js';

/** Shared inputs of the attribute normalizers for one service or top-level entity. */
export interface NormalizeContext {
  readonly projectName: string;
  readonly workingDir: string;
  /** Interpolation environment, used for `environment` entries without a value. */
  readonly environment: Readonly<Record<string, string>>;
  /** false for `--no-path-resolution`: relative paths stay as written. */
  readonly resolvePaths: boolean;
  /** Source position of a path in the merged document. */
  readonly sourceOf: (path: readonly (string | number)[]) => SourceRef | undefined;
}

/** Makes a host path absolute against the project directory and expands a leading `~`. */
export function resolveHostPath(context: NormalizeContext, value: string): string {
  if (!context.resolvePaths) return value;
  let expanded = value;
  if (value === '~' || value.startsWith('~/')) expanded = path.join(process.env.HOME ?? os.homedir(), value.slice(1));
  return path.resolve(context.workingDir, expanded);
}

/** A ComposeFileError pointing at `keyPath` in the merged document. */
export function attributeError(context: NormalizeContext, keyPath: readonly (string | number)[], message: string, hint?: string): ComposeFileError {
  return new ComposeFileError(message, { source: context.sourceOf(keyPath), hint });
}

/** True for a plain mapping (not null, not a list). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Scalars as compose prints them in string-valued maps: numbers and booleans become strings. */
export function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}
