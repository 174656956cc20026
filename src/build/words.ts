/**
 * Dockerfile word processing: splitting arguments into words with single and double quotes and
 * the escape character, and expanding `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`,
 * `${VAR-default}`, `${VAR+alt}` from the build's variables (ARG and ENV in scope).
 */
import { BuildError } from './errors.js';

/** Variables in scope; a missing name expands to the empty string. */
export type Vars = ReadonlyMap<string, string>;

interface LexOptions {
  escape: string;
  vars: Vars;
  /** Where, for messages (`Dockerfile:3`). */
  where: string;
  /** Split at unquoted whitespace (true) or return one word (false). */
  split: boolean;
}

function expandVariable(text: string, at: number, options: LexOptions): { value: string; next: number } {
  // text[at] === '$'
  const braced = text[at + 1] === '{';
  if (!braced) {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at + 1));
    if (!match) return { value: '$', next: at + 1 };
    return { value: options.vars.get(match[0]) ?? '', next: at + 1 + match[0].length };
  }
  let depth = 1;
  let end = at + 2;
  for (; end < text.length && depth > 0; end++) {
    if (text[end] === '{') depth++;
    else if (text[end] === '}') depth--;
  }
  if (depth !== 0) throw new BuildError(`${options.where}: missing "}" in "${text.slice(at)}"`, { hint: 'close the ${...} variable reference' });
  const inner = text.slice(at + 2, end - 1);
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(inner);
  if (!match) throw new BuildError(`${options.where}: bad variable reference "\${${inner}}"`, { hint: 'use ${NAME}, ${NAME:-default} or ${NAME:+alternative}' });
  const [, name, operator, word = ''] = match;
  const value = options.vars.get(name);
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  const expandWord = () => lexWords(word, { ...options, split: false })[0] ?? '';
  switch (operator) {
    case undefined: return { value: value ?? '', next: end };
    case ':-': return { value: nonEmpty ? (value as string) : expandWord(), next: end };
    case '-': return { value: set ? (value as string) : expandWord(), next: end };
    case ':+': return { value: nonEmpty ? expandWord() : '', next: end };
    case '+': return { value: set ? expandWord() : '', next: end };
    case ':?':
    case '?':
      if ((operator === ':?' && !nonEmpty) || (operator === '?' && !set)) {
        throw new BuildError(`${options.where}: ${name}: ${expandWord() || 'is not set'}`, { hint: `pass it with --build-arg ${name}=...` });
      }
      return { value: value as string, next: end };
    default: return { value: value ?? '', next: end };
  }
}

function lexWords(text: string, options: LexOptions): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === options.escape && i + 1 < text.length) {
      current += text[i + 1];
      inWord = true;
      i += 2;
    } else if (char === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) throw new BuildError(`${options.where}: unterminated single quote`, { hint: "close the quote with '" });
      current += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (char === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new BuildError(`${options.where}: unterminated double quote`, { hint: 'close the quote with "' });
        const c = text[i];
        if (c === '"') {
          i++;
          break;
        }
        if (c === options.escape && i + 1 < text.length && ['"', '$', options.escape].includes(text[i + 1])) {
          current += text[i + 1];
          i += 2;
        } else if (c === '$') {
          const expanded = expandVariable(text, i, options);
          current += expanded.value;
          i = expanded.next;
        } else {
          current += c;
          i++;
        }
      }
    } else if (char === '$') {
      const expanded = expandVariable(text, i, options);
      current += expanded.value;
      inWord = true;
      i = expanded.next;
    } else if (options.split && /\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      i++;
    } else {
      current += char;
      inWord = true;
      i++;
    }
  }
  if (inWord || !options.split) words.push(current);
  return words;
}

/** Splits `text` into words (quotes removed) with variables expanded. */
export function expandWords(text: string, vars: Vars, escape: string, where: string): string[] {
  return lexWords(text, { escape, vars, where, split: true });
}

/** Expands variables in `text` and removes quotes, keeping whitespace: one word. */
export function expandWord(text: string, vars: Vars, escape: string, where: string): string {
  return lexWords(text.trim(), { escape, vars, where, split: false })[0] ?? '';
}

/** Expands variables only (quotes and escapes stay as written), for heredoc bodies. */
export function expandVariablesOnly(text: string, vars: Vars, where: string): string {
  let out = '';
  for (let i = 0; i < text.length;) {
    if (text[i] === '\\' && text[i + 1] === '$') {
      out += '$';
      i += 2;
    } else if (text[i] === '$') {
      const expanded = expandVariable(text, i, { escape: '\\', vars, where, split: false });
      out += expanded.value;
      i = expanded.next;
    } else {
      out += text[i++];
    }
  }
  return out;
}

/**
 * `KEY=value KEY2="two words"` pairs, or the legacy one-pair form `KEY value with spaces`
 * (ENV, LABEL). `allowBare` accepts `NAME` alone (ARG without default).
 */
export function keyValuePairs(text: string, vars: Vars, escape: string, where: string, options: { allowBare?: boolean; instruction: string }): Array<[string, string | undefined]> {
  const trimmed = text.trim();
  if (!trimmed) throw new BuildError(`${where}: ${options.instruction} needs arguments`, { hint: `write ${options.instruction} NAME=value` });
  const firstWord = /^\S+/.exec(trimmed)?.[0] ?? '';
  if (!firstWord.includes('=') && !options.allowBare) {
    const space = trimmed.search(/\s/);
    if (space === -1) throw new BuildError(`${where}: ${options.instruction} ${trimmed} has no value`, { hint: `write ${options.instruction} ${trimmed}=value` });
    return [[firstWord, expandWord(trimmed.slice(space + 1), vars, escape, where)]];
  }
  // Keys are not expanded; values are.
  const pairs: Array<[string, string | undefined]> = [];
  for (const raw of splitRaw(trimmed, escape)) {
    const equals = raw.indexOf('=');
    if (equals === -1) {
      if (!options.allowBare) throw new BuildError(`${where}: "${raw}" is not NAME=value`, { hint: `write ${options.instruction} NAME=value` });
      pairs.push([raw, undefined]);
      continue;
    }
    const key = expandWord(raw.slice(0, equals), vars, escape, where);
    if (!key) throw new BuildError(`${where}: "${raw}" has an empty name`, { hint: `write ${options.instruction} NAME=value` });
    pairs.push([key, expandWord(raw.slice(equals + 1), vars, escape, where)]);
  }
  return pairs;
}

/** Splits at unquoted whitespace without touching the words (quotes kept for expandWord). */
function splitRaw(text: string, escape: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === escape && i + 1 < text.length && quote !== "'") {
      current += char + text[++i];
    } else if (quote) {
      if (char === quote) quote = undefined;
      current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (/\s/.test(char)) {
      if (current) words.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current) words.push(current);
  return words;
}
