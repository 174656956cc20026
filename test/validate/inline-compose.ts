/**
 * Builds a LoadedCompose from inline YAML without the loader, so unit tests of validation
 * see exactly the document they write (no interpolation, merging or path resolution).
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import type { SourceRef } from '../../src/errors.js';
import type { LoadedCompose } from '../../src/load/types.js';
import { formatPath } from '../../src/validate/describe.js';

/** Parses `text` as `file` and returns what validation would receive from the loader. */
export function inlineCompose(text: string, file = 'compose.yaml'): LoadedCompose {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  const positions = new Map<string, SourceRef>();
  const record = (node: Node | null | undefined, path: (string | number)[]): void => {
    if (!node) return;
    const offset = node.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    positions.set(JSON.stringify(path), { file, line, column: col, path: formatPath(path) });
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        // A key without a value points at the key itself.
        record((pair.value as Node | null) ?? (pair.key as Node), [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => record(item as Node, [...path, index]));
    }
  };
  record(doc.contents as Node, []);
  const lookup = (path: readonly (string | number)[]): SourceRef | undefined => {
    for (let length = path.length; length >= 0; length--) {
      const found = positions.get(JSON.stringify(path.slice(0, length)));
      if (found) return found;
    }
    return undefined;
  };
  return {
    projectName: 'test',
    projectDirectory: '/project',
    configFiles: [`/project/${file}`],
    envFiles: [],
    environment: {},
    profiles: [],
    document: (doc.toJS() ?? {}) as Record<string, unknown>,
    sources: { lookup, origin: () => undefined },
    warnings: [],
  };
}
