/**
 * YAML text to plain data with the place of every value. The common block-style shape is
 * read by fast-yaml.ts; everything else (and every error) goes through `yaml`'s document API
 * (not toJS). Either way each value keeps its file, line and column, merge tags survive and
 * interpolation runs per scalar while the position is still known.
 */
import { LineCounter, parseAllDocuments, isScalar } from 'yaml';
import { ComposeFileError } from '../errors.js';
import { fastParseYaml } from './fast-yaml.js';
import { isMapping, type Place } from './source-meta.js';
import { YamlConverter } from './yaml-converter.js';

export { MAX_ALIAS_EXPANSION } from './yaml-converter.js';

/** Largest compose file berth reads; bigger files are refused before parsing (bounded time and memory). */
export const MAX_COMPOSE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Rewrites one string scalar (interpolation); `path` is the key path of the value. `shift` is
 * the column offset of the text within the scalar when the text maps 1:1 onto the source line.
 */
export type ScalarHook = (text: string, path: readonly (string | number)[], place: Place, shift?: number) => { value: unknown; place: Place };

/** What parseYaml needs besides the text. */
export interface ParseYamlOptions {
  /** File name shown in positions and errors. */
  file: string;
  /** Stamped on every place (how this file reached the document). */
  via?: string;
  onString?: ScalarHook;
  /** Always use the full `yaml` parser (tests compare both paths). */
  fullParser?: boolean;
}

/** One parsed YAML document: its top-level mapping and the mapping's own place. */
export interface ParsedDocument {
  data: Record<string, unknown>;
  place: Place;
  /** The document has `!reset` tags somewhere. */
  hasResets: boolean;
}

/** Parses every document of a compose file; errors carry file:line:column and a snippet. */
export function parseYaml(text: string, options: ParseYamlOptions): ParsedDocument[] {
  const { file } = options;
  if (Buffer.byteLength(text) > MAX_COMPOSE_FILE_BYTES) {
    throw new ComposeFileError(`compose file "${file}" is larger than ${MAX_COMPOSE_FILE_BYTES / 1024 / 1024} MB`, {
      hint: 'berth refuses such files to bound load time and memory; split it with "include"',
    });
  }
  const fast = options.fullParser ? undefined : parseFast(text, options);
  if (fast) return fast;
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  const list = Array.isArray(docs) ? docs : [];
  const at = (offset: number): Place => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col, via: options.via };
  };
  const results: ParsedDocument[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw yamlError(error.message.split('\n')[0], at(error.pos[0]), text);
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    const converter = new YamlConverter(options, at);
    const place = at(doc.contents.range?.[0] ?? 0);
    const data = converter.convert(doc.contents, []);
    if (!isMapping(data)) {
      throw new ComposeFileError(`top-level of compose file "${file}" must be a mapping`, {
        source: { file, line: place.line, column: place.column, path: '' },
        hint: 'a compose file starts with keys such as "services:"',
      });
    }
    results.push({ data, place, hasResets: converter.resets });
  }
  if (results.length === 0) {
    throw new ComposeFileError(`compose file "${file}" is empty`, { hint: 'add at least a "services:" section' });
  }
  return results;
}

/**
 * The fast path: the common block-style shape read by fast-yaml.ts. Undefined when the text
 * needs the full parser, and also on any error, so that errors always come from the full path.
 */
function parseFast(text: string, options: ParseYamlOptions): ParsedDocument[] | undefined {
  const root = fastParseYaml(text);
  if (!root) return undefined;
  const { file, via } = options;
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  // Offsets come mostly in increasing order, so the last line found is tried first.
  let hint = 0;
  const at = (offset: number): Place => {
    let line = hint;
    if (!(lineStarts[line] <= offset && (line + 1 >= lineStarts.length || offset < lineStarts[line + 1]))) {
      let low = 0;
      let high = lineStarts.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (lineStarts[middle] <= offset) low = middle;
        else high = middle - 1;
      }
      line = hint = low;
    }
    return { file, line: line + 1, column: offset - lineStarts[line] + 1, via };
  };
  try {
    const converter = new YamlConverter(options, at);
    const data = converter.convert(root, []);
    if (!isMapping(data)) return undefined;
    return [{ data, place: at(root.start), hasResets: converter.resets }];
  } catch {
    return undefined;
  }
}

function yamlError(message: string, place: Place, text: string): ComposeFileError {
  const snippet = (text.split('\n')[place.line - 1] ?? '').trimEnd();
  return new ComposeFileError(`invalid YAML: ${message.replace(/ at line \d+, column \d+:?$/, '')}`, {
    source: { file: place.file, line: place.line, column: place.column, path: '' },
    hint: snippet ? `line ${place.line}: ${snippet.length > 120 ? snippet.slice(0, 117) + '...' : snippet}` : undefined,
  });
}
