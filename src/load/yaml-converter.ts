/**
 * The walk from `yaml` document nodes to plain data: records the place of every value,
 * expands aliases and `<<` merge keys under an expansion budget, rejects duplicate keys with
 * both lines, keeps `!reset` / `!override` tags, and runs the string hook (interpolation).
 */
import { isAlias as isYamlAlias, isMap as isYamlMap, isScalar as isYamlScalar, isSeq as isYamlSeq } from 'yaml';
import { ComposeFileError } from '../errors.js';
import { FAST_ALIAS, FAST_MAP, FAST_SCALAR, FAST_SEQ, type FastNode } from './fast-yaml.js';
import { formatPath } from './key-path.js';
import type { ParseYamlOptions } from './parse-yaml.js';
import { metaOf, placeOf, setPlace, setTag, type Place } from './source-meta.js';

/** Most values YAML aliases may expand to in one file; beyond this it is an alias bomb. */
export const MAX_ALIAS_EXPANSION = 250_000;

// The converter walks both `yaml` nodes and the light nodes of fast-yaml.ts (field names match).
type Node = { range?: readonly number[] | null; start?: number; anchor?: string; tag?: string };
type Scalar = Node & { value: unknown; source?: string; type?: string };
type Alias = Node & { source: string };
type Collection<T> = Node & { items: T[] };
const fastKind = (node: unknown): number | undefined => (node as FastNode | null)?.kind;
const isMap = (node: unknown): node is Collection<{ key: unknown; value: unknown }> => (fastKind(node) ?? (isYamlMap(node) ? FAST_MAP : 0)) === FAST_MAP;
const isSeq = (node: unknown): node is Collection<unknown> => (fastKind(node) ?? (isYamlSeq(node) ? FAST_SEQ : 0)) === FAST_SEQ;
const isScalar = (node: unknown): node is Scalar => (fastKind(node) ?? (isYamlScalar(node) ? FAST_SCALAR : 0)) === FAST_SCALAR;
const isAlias = (node: unknown): node is Alias => (fastKind(node) ?? (isYamlAlias(node) ? FAST_ALIAS : 0)) === FAST_ALIAS;

/** Converts the nodes of one YAML document; one instance per document (anchors are per document). */
export class YamlConverter {
  private readonly anchors = new Map<string, Node>();
  private aliasDepth = 0;
  private expanded = 0;
  /** True once a `!reset` tag was seen, so callers can skip looking for them. */
  resets = false;

  constructor(
    private readonly options: ParseYamlOptions,
    private readonly at: (offset: number) => Place,
  ) {}

  /** Plain data for `node`; `path` is its key path (used as a stack while walking). */
  convert(node: unknown, path: (string | number)[]): unknown {
    if (this.aliasDepth > 0 && ++this.expanded > MAX_ALIAS_EXPANSION) {
      throw new ComposeFileError(`YAML aliases in "${this.options.file}" expand to more than ${MAX_ALIAS_EXPANSION} values`, {
        hint: 'this looks like an alias bomb (nested aliases that multiply); berth stopped expanding it',
      });
    }
    if (isAlias(node)) return this.withAlias(node, (target) => this.convert(target, path));
    const anchored = node as Node & { anchor?: string };
    // Anchors count where they are written, not again inside an alias expansion of them.
    if (anchored.anchor && this.aliasDepth === 0) this.anchors.set(anchored.anchor, anchored);
    if (isMap(node)) return this.mapping(node, path);
    if (isSeq(node)) {
      const out: unknown[] = [];
      const places = metaOf(out).places;
      for (const item of node.items) {
        const index = out.length;
        path.push(index);
        const tag = tagName(item);
        if (tag) {
          setTag(out, index, tag);
          if (tag === 'reset') this.resets = true;
        }
        const { value, place } = this.child(item, path, this.placeOf(item));
        places.set(index, place);
        out.push(value);
        path.pop();
      }
      return out;
    }
    if (isScalar(node)) return scalarValue(node);
    return null;
  }

  /** Converts a child value and runs the string hook (interpolation) on string scalars. */
  private child(node: unknown, path: (string | number)[], place: Place): { value: unknown; place: Place } {
    const value = node === null || node === undefined ? null : this.convert(node, path);
    if (typeof value === 'string' && this.options.onString && (isScalar(node) || isAlias(node))) {
      // Offsets inside a one-line plain or quoted scalar map straight onto columns.
      const scalar = isScalar(node) ? node : undefined;
      const shift = scalar?.type === 'PLAIN' ? 0 : scalar?.type === 'QUOTE_SINGLE' || scalar?.type === 'QUOTE_DOUBLE' ? 1 : undefined;
      return this.options.onString(value, path, place, shift !== undefined && !value.includes('\n') && !value.includes('\\') ? shift : undefined);
    }
    return { value, place };
  }

  private withAlias<T>(alias: Alias, use: (target: Node) => T): T {
    const target = this.anchors.get(alias.source);
    if (!target) {
      const place = this.placeOf(alias);
      throw new ComposeFileError(`unknown YAML alias "*${alias.source}"`, {
        source: { file: place.file, line: place.line, column: place.column, path: '' },
        hint: `define "&${alias.source}" before using it`,
      });
    }
    this.aliasDepth++;
    try {
      return use(target);
    } finally {
      this.aliasDepth--;
    }
  }

  private placeOf(node: unknown): Place {
    const start = (node as Node | null)?.start ?? (node as Node | null)?.range?.[0];
    return this.at(start ?? 0);
  }

  private mapping(node: { items: { key: unknown; value: unknown }[] }, path: (string | number)[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const places = metaOf(out).places;
    let merged: Map<string, { value: unknown; place: Place }> | undefined;
    for (const pair of node.items) {
      const keyNode = pair.key;
      if (isScalar(keyNode) && keyNode.value === '<<' && keyNode.type === 'PLAIN') {
        this.collectMerge(pair.value, path, (merged ??= new Map()));
        continue;
      }
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      if (Object.hasOwn(out, key)) {
        const keyPlace = this.placeOf(keyNode);
        const first = this.firstKeyLine(node.items, key);
        throw new ComposeFileError(`duplicate key "${key}" in "${this.options.file}" (first on line ${first}, again on line ${keyPlace.line})`, {
          source: { file: keyPlace.file, line: keyPlace.line, column: keyPlace.column, path: formatPath([...path, key]) },
          hint: 'remove one of them; YAML mappings cannot repeat a key',
        });
      }
      path.push(key);
      const tag = tagName(pair.value);
      if (tag) {
        setTag(out, key, tag);
        if (tag === 'reset') this.resets = true;
      }
      const { value, place } = this.child(pair.value, path, this.placeOf(pair.value ?? keyNode));
      places.set(key, place);
      out[key] = value;
      path.pop();
    }
    if (merged) {
      // Keys written in the mapping win over merged ones; among merged sources, the first wins.
      for (const [key, entry] of merged) {
        if (Object.hasOwn(out, key)) continue;
        out[key] = entry.value;
        setPlace(out, key, entry.place);
      }
    }
    return out;
  }

  /** Line of the first `key` of a mapping, looked up only when a duplicate is found (rare). */
  private firstKeyLine(items: { key: unknown }[], key: string): number {
    for (const pair of items) {
      const keyNode = pair.key;
      if (isScalar(keyNode) && keyNode.value === '<<' && keyNode.type === 'PLAIN') continue;
      if ((isScalar(keyNode) ? String(keyNode.value) : String(keyNode)) === key) return this.placeOf(keyNode).line;
    }
    return 0;
  }

  private collectMerge(value: unknown, path: (string | number)[], merged: Map<string, { value: unknown; place: Place }>): void {
    const sources = isSeq(value) ? value.items : [value];
    for (const source of sources) {
      const data = this.convert(source, path);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        const place = this.placeOf(source);
        throw new ComposeFileError('a "<<" merge key needs a mapping or a list of mappings', {
          source: { file: place.file, line: place.line, column: place.column, path: formatPath(path) },
        });
      }
      const record = data as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!merged.has(key)) merged.set(key, { value: record[key], place: placeOf(record, key) ?? this.placeOf(source) });
      }
    }
  }
}

/** Plain `0755` is octal, as in the YAML 1.1 style Compose files use for file modes. */
function scalarValue(node: { value: unknown; source?: string; type?: string }): unknown {
  if (typeof node.value === 'number' && node.type === 'PLAIN' && typeof node.source === 'string' && /^0[0-7]+$/.test(node.source)) {
    return parseInt(node.source, 8);
  }
  return node.value;
}

function tagName(node: unknown): 'reset' | 'override' | undefined {
  const tag = (node as { tag?: string } | null)?.tag;
  if (tag === '!reset') return 'reset';
  if (tag === '!override') return 'override';
  return undefined;
}
