/**
 * State shared by one load: environment, caches of parsed files, warnings, and the
 * per-file pipeline (read → parse with positions → interpolate → include → extends).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ComposeFileError } from '../errors.js';
import { applyExtends } from './extends.js';
import { applyIncludes } from './include.js';
import { interpolationHook } from './interpolate-values.js';
import { unsetVariables, type VariableLookup } from './interpolate.js';
import { mergeValues } from './merge.js';
import { MAX_COMPOSE_FILE_BYTES, parseYaml, type ScalarHook } from './parse-yaml.js';
import type { Place } from './source-meta.js';

/** One compose file after parsing (before include and extends): data and root place. */
export interface ParsedFile {
  data: Record<string, unknown>;
  place: Place;
  /** Some value carries a `!reset` tag. */
  hasResets: boolean;
}

/** Shared state of one `loadCompose()` call. */
export class LoadSession {
  readonly warnings: string[] = [];
  private readonly warned = new Set<string>();

  /** Text of `-f -`, read once before loading. */
  stdinText: string | undefined;

  constructor(
    readonly cwd: string,
    readonly interpolate: boolean,
  ) {}

  /** How a file is named in positions and messages: relative to cwd when below it. */
  display(file: string): string {
    if (file === '-') return '<stdin>';
    const relative = path.relative(this.cwd, file);
    return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  }

  /** Adds a warning once. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warnings.push(message);
  }

  /** Forgets the warnings so far (before loading the files a second time). */
  resetWarnings(): void {
    this.warnings.length = 0;
    this.warned.clear();
  }

  /** Reads and parses one file with interpolation; several YAML documents merge in order. */
  parseFile(file: string, lookup: VariableLookup, via?: string): ParsedFile {
    const text = file === '-' ? (this.stdinText ?? '') : readComposeFile(file);
    const hook = this.interpolate ? this.hook(lookup) : undefined;
    const docs = parseYaml(text, { file: this.display(file), via, onString: hook });
    let data = docs[0].data;
    for (let i = 1; i < docs.length; i++) data = mergeValues(data, docs[i].data) as Record<string, unknown>;
    return { data, place: docs[0].place, hasResets: docs.some((doc) => doc.hasResets) };
  }

  /** The full per-file pipeline; `baseDir` is the directory relative paths in the file refer to. */
  processFile(file: string, baseDir: string, lookup: VariableLookup, via: string | undefined, stack: readonly string[]): ParsedFile {
    const parsed = this.parseFile(file, lookup, via);
    const includerDir = file === '-' ? baseDir : path.dirname(file);
    if (parsed.data.include !== undefined) applyIncludes(this, parsed.data, { file, includerDir, baseDir, lookup, stack });
    applyExtends(this, parsed.data, { file, baseDir, lookup });
    return parsed;
  }

  private hook(lookup: VariableLookup): ScalarHook {
    const inner = interpolationHook(lookup);
    return (text, keyPath, place, shift) => {
      const result = inner(text, keyPath, place, shift);
      const variables = result.place.variables;
      if (variables) {
        for (const name of unsetVariables(variables)) this.warn(`the "${name}" variable is not set, defaulting to a blank string`);
      }
      return result;
    };
  }
}

/** Reads a compose file, refusing oversized ones before reading them into memory. */
export function readComposeFile(file: string): string {
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_COMPOSE_FILE_BYTES) {
      throw new ComposeFileError(`compose file "${file}" is larger than ${MAX_COMPOSE_FILE_BYTES / 1024 / 1024} MB (${(size / 1024 / 1024).toFixed(1)} MB)`, {
        hint: 'berth refuses such files to bound load time and memory; split it with "include"',
      });
    }
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ComposeFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ComposeFileError(code === 'ENOENT' ? `compose file "${file}" not found` : `cannot read compose file "${file}": ${(error as Error).message}`, {
      hint: code === 'ENOENT' ? 'check the -f / COMPOSE_FILE / include / extends path' : undefined,
    });
  }
}
