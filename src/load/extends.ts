/**
 * `extends`: a service starts from another service (same file, or `file:` elsewhere) and
 * merges its own attributes on top by the usual merge rules. Chains resolve recursively;
 * `depends_on` and `volumes_from` of the base are not inherited (explicit dependencies stay
 * local, as the Compose documentation says); relative paths of a base from another file are
 * rebased onto the extending file's directory.
 */
import path from 'node:path';
import { ComposeFileError, type SourceRef } from '../errors.js';
import type { VariableLookup } from './interpolate.js';
import type { LoadSession, ParsedFile } from './load-session.js';
import { mergeValues } from './merge.js';
import { rebaseService } from './rebase-paths.js';
import { cloneWithPlaces, copyEntry, isMapping, placeOf } from './source-meta.js';

const NOT_INHERITED = ['extends', 'depends_on', 'volumes_from'];

/** Where the services being resolved live. */
export interface ExtendsContext {
  file: string;
  baseDir: string;
  lookup: VariableLookup;
}

interface ServiceRef {
  file: string;
  dir: string;
  services: Record<string, unknown>;
  name: string;
}

/** Resolves every `extends` in `document.services` in place. */
export function applyExtends(session: LoadSession, document: Record<string, unknown>, context: ExtendsContext): void {
  const services = document.services;
  if (!isMapping(services)) return;
  let any = false;
  for (const name of Object.keys(services)) if (isMapping(services[name]) && (services[name] as Record<string, unknown>).extends !== undefined) any = true;
  if (!any) return;
  const resolver = new ExtendsResolver(session, context.lookup);
  const resolved = new Map<string, unknown>();
  for (const name of Object.keys(services)) {
    resolved.set(name, resolver.resolve({ file: context.file, dir: context.baseDir, services, name }, []));
  }
  for (const [name, value] of resolved) services[name] = value;
}

class ExtendsResolver {
  private readonly memo = new Map<string, Record<string, unknown>>();
  private readonly files = new Map<string, ParsedFile>();

  constructor(private readonly session: LoadSession, private readonly lookup: VariableLookup) {}

  resolve(ref: ServiceRef, chain: readonly { key: string; label: string }[]): Record<string, unknown> {
    const key = `${ref.file}\u0000${ref.name}`;
    const label = chain.length > 0 && chain[0].key.split('\u0000')[0] !== ref.file ? `"${ref.name}" (${this.session.display(ref.file)})` : `"${ref.name}"`;
    if (chain.some((step) => step.key === key)) {
      const start = chain.findIndex((step) => step.key === key);
      const names = [...chain.slice(start).map((step) => step.label), label].join(' -> ');
      throw new ComposeFileError(`extends cycle: ${names}`, { hint: 'a service cannot extend itself, directly or through others' });
    }
    const memo = this.memo.get(key);
    if (memo) return memo;
    const service = ref.services[ref.name];
    if (!isMapping(service) || service.extends === undefined || service.extends === null) {
      const plain = isMapping(service) ? service : {};
      this.memo.set(key, plain);
      return plain;
    }
    const where = this.source(ref.services, ref.name, service);
    const spec = service.extends;
    const baseName = typeof spec === 'string' ? spec : isMapping(spec) ? String(spec.service ?? '') : '';
    if (baseName === '') throw new ComposeFileError(`service "${ref.name}" has an "extends" without a service name`, { source: where, hint: 'write "extends: other" or "extends: { service: other, file: common.yaml }"' });
    let base: ServiceRef = { ...ref, name: baseName };
    let via = `extends "${baseName}"`;
    if (isMapping(spec) && spec.file !== undefined && spec.file !== null) {
      const file = path.resolve(ref.dir, String(spec.file));
      const parsed = this.load(file, where);
      const services = isMapping(parsed.data.services) ? parsed.data.services : {};
      base = { file, dir: path.dirname(file), services, name: baseName };
      via = `extends "${baseName}" from ${this.session.display(file)}`;
    }
    if (!isMapping(base.services[baseName])) {
      const defined = Object.keys(base.services).sort().map((name) => `"${name}"`).join(', ');
      throw new ComposeFileError(`service "${ref.name}" extends undefined service "${baseName}"${base.file !== ref.file ? ` in "${this.session.display(base.file)}"` : ''}`, {
        source: where,
        hint: defined ? `services defined there: ${defined}` : 'no services are defined there',
      });
    }
    const resolvedBase = this.resolve(base, [...chain, { key, label }]);
    const copy = cloneWithPlaces(resolvedBase, via);
    for (const name of NOT_INHERITED) delete copy[name];
    rebaseService(copy, base.dir, ref.dir);
    const local: Record<string, unknown> = {};
    for (const name of Object.keys(service)) {
      if (name === 'extends') continue;
      local[name] = service[name];
      copyEntry(service, name, local, name);
    }
    const merged = mergeValues(copy, local, ['services', ref.name]) as Record<string, unknown>;
    this.memo.set(key, merged);
    return merged;
  }

  private load(file: string, where: SourceRef | undefined): ParsedFile {
    let parsed = this.files.get(file);
    if (!parsed) {
      try {
        parsed = this.session.parseFile(file, this.lookup);
      } catch (error) {
        if (error instanceof ComposeFileError && !error.source && where) {
          throw new ComposeFileError(error.message, { source: where, hint: error.hint, cause: error.cause });
        }
        throw error;
      }
      this.files.set(file, parsed);
    }
    return parsed;
  }

  private source(services: Record<string, unknown>, name: string, service: Record<string, unknown>): SourceRef | undefined {
    const place = placeOf(service, 'extends') ?? placeOf(services, name);
    return place ? { file: place.file, line: place.line, column: place.column, path: `services.${name}.extends` } : undefined;
  }
}
