/**
 * Moves relative paths written in one directory's terms into another's: a service taken by
 * `extends` from a file elsewhere, or resources of an included file, are rewritten so that
 * every relative path in the merged document is relative to the project directory.
 */
import path from 'node:path';
import { isMapping } from './source-meta.js';

/** `p` (relative to `fromDir`) as a path relative to `toDir`; absolute and `~` paths stay. */
export function rebasePath(p: string, fromDir: string, toDir: string): string {
  if (fromDir === toDir || p === '' || path.isAbsolute(p) || p.startsWith('~')) return p;
  const relative = path.relative(toDir, path.resolve(fromDir, p));
  if (relative === '') return '.';
  if (path.isAbsolute(relative)) return relative;
  return relative.startsWith('..') ? relative : `./${relative}`;
}

// A build context can be a URL (git repository, tarball); those are no paths.
const REMOTE = /^([a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i;

/** Rewrites the relative paths of one service in place (build context, env_file, bind mounts, extends file). */
export function rebaseService(service: Record<string, unknown>, fromDir: string, toDir: string): void {
  if (fromDir === toDir) return;
  const move = (p: unknown): unknown => (typeof p === 'string' ? rebasePath(p, fromDir, toDir) : p);
  if (typeof service.build === 'string') {
    if (!REMOTE.test(service.build)) service.build = move(service.build);
  } else if (isMapping(service.build)) {
    const context = service.build.context ?? '.';
    if (typeof context === 'string' && !REMOTE.test(context)) service.build.context = move(context);
  }
  for (const key of ['env_file', 'label_file']) {
    const value = service[key];
    if (typeof value === 'string') service[key] = move(value);
    else if (Array.isArray(value)) {
      value.forEach((entry, i) => {
        if (typeof entry === 'string') value[i] = move(entry);
        else if (isMapping(entry)) entry.path = move(entry.path);
      });
    }
  }
  if (Array.isArray(service.volumes)) {
    const volumes = service.volumes;
    volumes.forEach((entry, i) => {
      if (typeof entry === 'string') volumes[i] = rebaseShortVolume(entry, fromDir, toDir);
      else if (isMapping(entry) && entry.type === 'bind') entry.source = move(entry.source);
    });
  }
  if (isMapping(service.extends) && typeof service.extends.file === 'string') service.extends.file = move(service.extends.file);
  const watch = isMapping(service.develop) ? service.develop.watch : undefined;
  if (Array.isArray(watch)) for (const rule of watch) if (isMapping(rule)) rule.path = move(rule.path);
  if (isMapping(service.build) && isMapping(service.build.additional_contexts)) {
    const contexts = service.build.additional_contexts;
    // Only local directories move; `docker-image://`, `service:` and URLs stay.
    for (const name of Object.keys(contexts)) {
      const value = contexts[name];
      if (typeof value === 'string' && (value.startsWith('./') || value.startsWith('../') || value === '.')) contexts[name] = move(value);
    }
  }
}

/** Only sources that look like paths (`.`, `..`, `./x`, `../x`) are bind mounts; other names are volumes. */
function rebaseShortVolume(entry: string, fromDir: string, toDir: string): string {
  const colon = entry.indexOf(':');
  if (colon < 0) return entry;
  const source = entry.slice(0, colon);
  if (source !== '.' && source !== '..' && !source.startsWith('./') && !source.startsWith('../')) return entry;
  return rebasePath(source, fromDir, toDir) + entry.slice(colon);
}

/** Rewrites the `file` of top-level secrets and configs in place. */
export function rebaseResources(document: Record<string, unknown>, fromDir: string, toDir: string): void {
  if (fromDir === toDir) return;
  for (const kind of ['secrets', 'configs']) {
    const section = document[kind];
    if (!isMapping(section)) continue;
    for (const entry of Object.values(section)) {
      if (isMapping(entry) && typeof entry.file === 'string') entry.file = rebasePath(entry.file, fromDir, toDir);
    }
  }
  const services = document.services;
  if (isMapping(services)) for (const service of Object.values(services)) if (isMapping(service)) rebaseService(service, fromDir, toDir);
}
