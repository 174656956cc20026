/**
 * Build contexts: a directory filtered by its `.dockerignore` (matched with @balena/dockerignore,
 * which implements Docker's pattern rules including `**` and `!` exceptions), COPY/ADD source
 * patterns resolved against it, and content checksums of the sources for the build cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import ignoreModule, { type Ignore } from '@balena/dockerignore';
import { BuildError } from './errors.js';

// The package is CommonJS (`module.exports = factory`) while its typings declare a default export.
const ignoreFactory = ((ignoreModule as unknown as { default?: () => Ignore }).default ?? ignoreModule) as unknown as () => Ignore;

/** One file system entry of a context, relative path with "/" separators. */
export interface ContextEntry {
  /** Path relative to the source root (no leading "/"). */
  rel: string;
  full: string;
  stats: Stats;
}

/** The ignore rules of a context (none for stage and image sources). */
export interface IgnoreRules {
  ignores(rel: string): boolean;
  /** True when some rule starts with "!" (an ignored directory may still hold included files). */
  hasExceptions: boolean;
  patterns: string[];
}

/** Reads `<dir>/.dockerignore` (or `<dockerfile>.dockerignore` next to the Dockerfile, which wins). */
export async function loadIgnore(dir: string, dockerfilePath?: string): Promise<IgnoreRules> {
  let text: string | undefined;
  if (dockerfilePath) text = await readFile(`${dockerfilePath}.dockerignore`, 'utf8').catch(() => undefined);
  text ??= await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  return ignoreRules(text ?? '');
}

/** Ignore rules from the text of a .dockerignore file. */
export function ignoreRules(text: string): IgnoreRules {
  const patterns = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const matcher: Ignore = ignoreFactory().add(patterns);
  return {
    ignores: (rel) => rel !== '' && matcher.ignores(rel),
    hasExceptions: patterns.some((pattern) => pattern.startsWith('!')),
    patterns,
  };
}

/** No rules: nothing is ignored. */
export const noIgnore: IgnoreRules = { ignores: () => false, hasExceptions: false, patterns: [] };

/** Cleans a source path: relative to the root, "/"-separated; refuses paths that leave it. */
export function cleanSource(source: string, where: string): string {
  const normalized = path.posix.normalize(`/${source}`).replace(/^\/+/, '');
  if (source.split('/').includes('..') && path.posix.normalize(source).startsWith('..')) {
    throw new BuildError(`${where}: "${source}" is outside the build context`, { hint: 'COPY and ADD can only use files inside the context directory' });
  }
  return normalized === '.' ? '' : normalized.replace(/\/+$/, '');
}

const globChars = /[*?[\\]/;

/** A Go filepath.Match pattern (one path segment) as a RegExp. */
function segmentRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        let set = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (set.startsWith('^') || set.startsWith('!')) set = `^${set.slice(1)}`;
        re += `[${set}]`;
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Resolves one COPY/ADD source (a path or a glob) under `root`: the matching entries, each
 * being a file, symlink or directory (whose contents are copied). Ignored entries do not match.
 */
export async function resolveSource(root: string, source: string, rules: IgnoreRules, where: string): Promise<ContextEntry[]> {
  const clean = cleanSource(source, where);
  const segments = clean === '' ? [] : clean.split('/');
  let prefix: string[] = [];
  let index = 0;
  for (; index < segments.length && !globChars.test(segments[index]); index++) prefix.push(segments[index]);
  if (index === segments.length) {
    const rel = prefix.join('/');
    const full = path.join(root, rel);
    const stats = await lstatOrUndefined(full);
    if (!stats || (rel !== '' && rules.ignores(rel) && !(stats.isDirectory() && rules.hasExceptions))) return [];
    return [{ rel, full, stats }];
  }
  let current: string[] = [prefix.join('/')];
  for (; index < segments.length; index++) {
    const re = globChars.test(segments[index]) ? segmentRegExp(segments[index]) : undefined;
    const next: string[] = [];
    for (const dirRel of current) {
      const dirFull = path.join(root, dirRel);
      if (re) {
        const names = await readdir(dirFull).catch(() => [] as string[]);
        for (const name of names.sort()) if (re.test(name)) next.push(dirRel ? `${dirRel}/${name}` : name);
      } else {
        next.push(dirRel ? `${dirRel}/${segments[index]}` : segments[index]);
      }
    }
    current = next;
  }
  const entries: ContextEntry[] = [];
  for (const rel of current) {
    if (rules.ignores(rel)) continue;
    const full = path.join(root, rel);
    const stats = await lstatOrUndefined(full);
    if (stats) entries.push({ rel, full, stats });
  }
  return entries;
}

/** Every entry below directory `dir` (relative to `root`), sorted, ignored ones left out, not following symlinks. */
export async function* walkEntries(root: string, dir: string, rules: IgnoreRules): AsyncGenerator<ContextEntry> {
  const full = dir ? path.join(root, dir) : root;
  const names = (await readdir(full)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const rel = dir ? `${dir}/${name}` : name;
    const childFull = path.join(full, name);
    const stats = await lstat(childFull);
    const ignored = rules.ignores(rel);
    if (stats.isDirectory()) {
      if (ignored && !rules.hasExceptions) continue;
      if (!ignored) yield { rel, full: childFull, stats };
      yield* walkEntries(root, rel, rules);
      continue;
    }
    if (!ignored) yield { rel, full: childFull, stats };
  }
}

const fileHashes = new Map<string, { key: string; hash: string }>();

/** sha256 of a file's content; remembered per (path, inode, size, mtime) for the life of the process. */
export async function fileChecksum(full: string, stats: Stats): Promise<string> {
  const key = `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
  const known = fileHashes.get(full);
  if (known && known.key === key) return known.hash;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  fileHashes.set(full, { key, hash: digest });
  return digest;
}

/**
 * Checksum of what a COPY would copy from `entries`: for each file, directory and symlink below
 * them, the relative path, type, mode and content (file bytes, link target). Owners and mtimes
 * are left out, so a touched but unchanged file keeps the cache.
 */
export async function sourcesChecksum(root: string, entries: readonly ContextEntry[], rules: IgnoreRules): Promise<string> {
  const hash = createHash('sha256');
  const add = async (entry: ContextEntry) => {
    const mode = entry.stats.mode & 0o7777;
    if (entry.stats.isFile()) hash.update(`f ${entry.rel} ${mode.toString(8)} ${await fileChecksum(entry.full, entry.stats)}\n`);
    else if (entry.stats.isSymbolicLink()) hash.update(`l ${entry.rel} ${await readlink(entry.full)}\n`);
    else if (entry.stats.isDirectory()) hash.update(`d ${entry.rel} ${mode.toString(8)}\n`);
    else hash.update(`o ${entry.rel} ${mode.toString(8)}\n`);
  };
  for (const entry of entries) {
    await add(entry);
    if (entry.stats.isDirectory()) for await (const child of walkEntries(root, entry.rel, rules)) await add(child);
  }
  return hash.digest('hex');
}
