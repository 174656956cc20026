/**
 * The loader's entry point: from LoadOptions to one merged, interpolated compose document
 * with positions. Steps follow Compose: read `.env` of the working directory to learn
 * COMPOSE_FILE, find the files, settle the project directory, read its `.env` (or the named
 * env files), then load each file (interpolate, include, extends) and merge them in order.
 */
import path from 'node:path';
import { resolveEnvironment, environmentLookup, splitList, type ResolvedEnvironment } from './environment.js';
import { discoverFiles } from './discover-files.js';
import { LoadSession } from './load-session.js';
import { mergeValues } from './merge.js';
import { resolveProjectName } from './project-name.js';
import { createSourceIndex } from './source-index.js';
import type { VariableLookup } from './interpolate.js';
import { placeOf, tagOf, type Place } from './source-meta.js';
import type { LoadedCompose, LoadOptions } from './types.js';

/** Loads the compose project described by `options` (flags, environment, files on disk). */
export async function loadCompose(options: LoadOptions): Promise<LoadedCompose> {
  const cwd = path.resolve(options.cwd);
  const processEnv = options.env ?? process.env;
  const flagProjectDir = options.projectDirectory ? path.resolve(cwd, options.projectDirectory) : undefined;
  const session = new LoadSession(cwd, options.interpolate !== false);
  const envAt = (dir: string): ResolvedEnvironment =>
    resolveEnvironment({ processEnv, cwd, envFiles: options.envFiles, dotenvDir: dir, display: (f) => session.display(f) });

  // The working directory's .env may set COMPOSE_FILE and friends, so it is read first.
  const firstDir = flagProjectDir ?? cwd;
  let env = envAt(firstDir);
  // -f and COMPOSE_FILE paths are relative to cwd; the search for default names starts in the project directory.
  const { files } = discoverFiles(cwd, options.files, env.values, firstDir);
  const projectDirectory = flagProjectDir ?? (files[0] !== '-' ? path.dirname(files[0]) : cwd);
  if (projectDirectory !== firstDir) env = envAt(projectDirectory);

  if (files.includes('-')) session.stdinText = await readStdin(options);
  const explicitName = options.projectName || env.values.COMPOSE_PROJECT_NAME || undefined;
  // Like Compose, the project name is available to interpolation as COMPOSE_PROJECT_NAME.
  let askedForName = false;
  const baseLookup = environmentLookup(env);
  const lookup: VariableLookup = (name) => {
    const found = baseLookup(name);
    if (found || name !== 'COMPOSE_PROJECT_NAME') return found;
    if (explicitName) return { value: explicitName, from: options.projectName ? '-p' : 'environment' };
    askedForName = true;
    return undefined;
  };
  let { document, rootPlace } = loadFiles(session, files, projectDirectory, lookup);
  const nameFrom = (doc: Record<string, unknown>) => projectNameOf(doc, options.projectName, env, projectDirectory);
  if (askedForName) {
    // The name comes from `name:` or the directory, known only now: load again with it set.
    const derived = nameFrom(document);
    const withName: VariableLookup = (name) => (name === 'COMPOSE_PROJECT_NAME' ? { value: derived, from: 'project name' } : lookup(name));
    session.resetWarnings();
    ({ document, rootPlace } = loadFiles(session, files, projectDirectory, withName));
  }

  if (document.version !== undefined) {
    // Compose ignores `version`; keeping it would only confuse the schema check and `config`.
    session.warn('the attribute "version" is obsolete, it will be ignored; remove it to avoid confusion');
    delete document.version;
  }
  const projectName = nameFrom(document);
  // Like Compose, --profile flags replace COMPOSE_PROFILES rather than adding to it.
  const profiles = options.profiles && options.profiles.length > 0 ? [...options.profiles] : splitList(env.values.COMPOSE_PROFILES, ',');

  return {
    projectName,
    projectDirectory,
    configFiles: files,
    envFiles: env.files,
    environment: env.values,
    profiles,
    document,
    sources: createSourceIndex(document, rootPlace),
    warnings: session.warnings,
  };
}

/** Loads every file (interpolate, include, extends) and merges them in order. */
function loadFiles(session: LoadSession, files: readonly string[], projectDirectory: string, lookup: VariableLookup): { document: Record<string, unknown>; rootPlace: Place } {
  let document: Record<string, unknown> | undefined;
  let rootPlace: Place | undefined;
  for (let i = 0; i < files.length; i++) {
    const via = i === 0 ? undefined : `override file ${session.display(files[i])}`;
    const parsed = session.processFile(files[i], projectDirectory, lookup, via, []);
    rootPlace ??= parsed.place;
    // The first file is taken as is (its `!reset` keys are dropped); later ones merge onto it.
    document = document ? (mergeValues(document, parsed.data) as Record<string, unknown>) : parsed.hasResets ? dropResets(parsed.data) : parsed.data;
  }
  if (!document || !rootPlace) throw new Error('no compose files to load');
  return { document, rootPlace };
}

function projectNameOf(document: Record<string, unknown>, flag: string | undefined, env: ResolvedEnvironment, projectDirectory: string): string {
  const namePlace = placeOf(document, 'name');
  return resolveProjectName({
    flag,
    environment: env.values.COMPOSE_PROJECT_NAME,
    file: typeof document.name === 'string' || typeof document.name === 'number'
      ? { name: String(document.name), where: namePlace && { file: namePlace.file, line: namePlace.line, column: namePlace.column } }
      : undefined,
    projectDirectory,
  });
}

async function readStdin(options: LoadOptions): Promise<string> {
  if (options.readStdin) return options.readStdin();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `!reset` written where nothing came before removes the key (only run when the file has such tags). */
function dropResets(document: Record<string, unknown>): Record<string, unknown> {
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    for (const key of Object.keys(node)) {
      if (!Array.isArray(node) && tagOf(node, key) === 'reset') delete (node as Record<string, unknown>)[key];
      else visit((node as Record<string, unknown>)[key]);
    }
  };
  visit(document);
  return document;
}
