/**
 * `include`: other compose files loaded as sub-projects (each with its own project
 * directory and env files) whose services, networks, volumes, secrets and configs are
 * imported into the including file. A resource defined on both sides differently is an error.
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ComposeFileError, type SourceRef } from '../errors.js';
import { resolveEnvironment, environmentLookup } from './environment.js';
import type { VariableLookup } from './interpolate.js';
import type { LoadSession } from './load-session.js';
import { mergeValues } from './merge.js';
import { rebaseResources } from './rebase-paths.js';
import { copyEntry, isMapping, placeOf } from './source-meta.js';

const IMPORTED = ['services', 'networks', 'volumes', 'secrets', 'configs', 'models'] as const;

/** Where the including file is and what it interpolates with. */
export interface IncludeContext {
  file: string;
  /** Directory include paths are relative to: the including file's directory. */
  includerDir: string;
  /** Directory relative paths of the including file refer to; imports are rebased onto it. */
  baseDir: string;
  lookup: VariableLookup;
  /** Files being included, outermost first, to detect cycles. */
  stack: readonly string[];
}

interface IncludeEntry {
  paths: string[];
  projectDirectory?: string;
  envFiles?: string[];
  source?: SourceRef;
}

/** Loads each `include` entry and imports its resources into `document`; removes `include`. */
export function applyIncludes(session: LoadSession, document: Record<string, unknown>, context: IncludeContext): void {
  const entries = parseEntries(document.include, context.includerDir, session, context.file);
  delete document.include;
  for (const entry of entries) {
    for (const file of entry.paths) {
      if (context.stack.includes(file) || file === context.file) {
        const chain = [...context.stack, context.file, file].map((f) => session.display(f));
        throw new ComposeFileError(`include cycle: ${chain.join(' -> ')}`, { source: entry.source, hint: 'remove one of the include entries that close the loop' });
      }
    }
    const projectDir = entry.projectDirectory ?? path.dirname(entry.paths[0]);
    const lookup = includeLookup(session, entry, projectDir, context.lookup);
    let included: Record<string, unknown> | undefined;
    for (const file of entry.paths) {
      const via = `include ${session.display(file)}`;
      const parsed = session.processFile(file, projectDir, lookup, via, [...context.stack, context.file]);
      included = included ? (mergeValues(included, parsed.data) as Record<string, unknown>) : parsed.data;
    }
    if (!included) continue;
    rebaseResources(included, projectDir, context.baseDir);
    importResources(session, document, included, entry);
  }
}

function parseEntries(value: unknown, dir: string, session: LoadSession, file: string): IncludeEntry[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, index) => {
    const place = placeOf(Array.isArray(value) ? value : {}, index);
    const source = place ? { file: place.file, line: place.line, column: place.column, path: `include[${index}]` } : undefined;
    const strings = (v: unknown): string[] => (v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(String));
    if (typeof item === 'string') return { paths: [path.resolve(dir, item)], source };
    if (!isMapping(item) || strings(item.path).length === 0) {
      throw new ComposeFileError(`an "include" entry in "${session.display(file)}" needs a "path"`, { source, hint: 'write "- other/compose.yaml" or "- path: other/compose.yaml"' });
    }
    return {
      paths: strings(item.path).map((p) => path.resolve(dir, p)),
      projectDirectory: item.project_directory ? path.resolve(dir, String(item.project_directory)) : undefined,
      envFiles: item.env_file === undefined ? undefined : strings(item.env_file).map((p) => path.resolve(dir, p)),
      source,
    };
  });
}

/** The included file interpolates with its env files, overridden by the including project's variables. */
function includeLookup(session: LoadSession, entry: IncludeEntry, projectDir: string, outer: VariableLookup): VariableLookup {
  const env = resolveEnvironment({ processEnv: {}, cwd: session.cwd, envFiles: entry.envFiles, dotenvDir: projectDir, display: (f) => session.display(f), outer });
  const own = environmentLookup(env);
  return (name) => outer(name) ?? own(name);
}

function importResources(session: LoadSession, document: Record<string, unknown>, included: Record<string, unknown>, entry: IncludeEntry): void {
  for (const kind of IMPORTED) {
    const incoming = included[kind];
    if (!isMapping(incoming)) continue;
    let target = document[kind];
    if (!isMapping(target)) {
      target = {};
      document[kind] = target;
    }
    const into = target as Record<string, unknown>;
    for (const name of Object.keys(incoming)) {
      if (Object.hasOwn(into, name)) {
        if (isDeepStrictEqual(into[name], incoming[name])) continue;
        const place = placeOf(into, name);
        const singular = kind.replace(/s$/, '');
        throw new ComposeFileError(`${singular} "${name}" is defined both here and in included file "${session.display(entry.paths[0])}"`, {
          source: place ? { file: place.file, line: place.line, column: place.column, path: `${kind}.${name}` } : entry.source,
          hint: 'an included resource cannot be redefined; rename one, or change the included one with an override file',
        });
      }
      into[name] = incoming[name];
      copyEntry(incoming, name, into, name);
    }
  }
}
