/** Wording shared by validation messages: key paths and short descriptions of values. */
import type { SourceIndex } from '../load/types.js';

/** A key path as written in messages and SourceRefs: `services.web.ports[0]`, `services.web.labels["com.x"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** What a value is, for "got ..." in messages: `a list`, `a mapping`, `"abc"`, `8080`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const typeWords: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

/** JSON Schema type names in words: `["string", "number"]` → `a string or a number`. */
export function describeTypes(types: string | readonly string[]): string {
  const list = (typeof types === 'string' ? [types] : [...types]).map((type) => typeWords[type] ?? type);
  return list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

/**
 * Where interpolated variables in the value at `path` came from, e.g.
 * `WEB_PORT is "80800" (from environment)`: the fix is often in .env, not in the compose file.
 */
export function interpolationNote(sources: SourceIndex, path: readonly (string | number)[]): string | undefined {
  const variables = sources.origin(path)?.variables;
  if (!variables || variables.length === 0) return undefined;
  return variables
    .map((variable) => (variable.value === undefined ? `${variable.name} is not set` : `${variable.name} is ${JSON.stringify(variable.value)} (from ${variable.from})`))
    .join(', ');
}

/** Joins a hint and a note about interpolated variables. */
export function withNote(hint: string | undefined, note: string | undefined): string | undefined {
  if (note === undefined) return hint;
  return hint === undefined ? note : `${hint}; ${note}`;
}
