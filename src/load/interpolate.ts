/**
 * The `${VAR}` template language of compose files and `.env` files: `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`,
 * `${VAR+alt}`, nesting inside defaults, and `$$` for a literal `$`.
 */
import type { VariableUse } from './types.js';

/** Looks up a variable: its value and where it came from, or undefined when unset. */
export type VariableLookup = (name: string) => { value: string; from: string } | undefined;

/** A template problem, with the offset in the string where it starts. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'required',
    readonly offset: number,
    readonly variableName?: string,
  ) {
    super(message);
  }
}

/** Result of interpolating one string. */
export interface Interpolated {
  value: string;
  /** Empty when the string had no `$` substitution. */
  variables: VariableUse[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Replaces every variable in `text`; throws TemplateError on bad syntax or a missing required variable. */
export function interpolateString(text: string, lookup: VariableLookup): Interpolated {
  if (!text.includes('$')) return { value: text, variables: [] };
  const variables: VariableUse[] = [];
  const value = expand(text, 0, text.length, lookup, variables);
  return { value, variables };
}

/** Names substituted as blank because they were unset with no default (`$X`, `${X}`), for warnings. */
export function unsetVariables(variables: readonly VariableUse[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < variables.length; i++) {
    const use = variables[i];
    const next = variables[i + 1];
    if (use.from === 'unset' && !(next && next.name === use.name && next.from === 'default') && !use.operator) names.push(use.name);
  }
  return names;
}

function expand(text: string, start: number, end: number, lookup: VariableLookup, used: VariableUse[]): string {
  let out = '';
  let i = start;
  while (i < end) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0 || dollar >= end) {
      out += text.slice(i, end);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = findClose(text, dollar + 2, end);
      if (close < 0) throw new TemplateError(`unterminated "\${" in "${text}"`, 'syntax', dollar);
      out += braced(text, dollar, close, lookup, used);
      i = close + 1;
    } else if (next !== undefined && dollar + 1 < end && NAME_START.test(next)) {
      let j = dollar + 2;
      while (j < end && NAME_CHAR.test(text[j])) j++;
      out += substitute(text.slice(dollar + 1, j), lookup, used) ?? '';
      i = j;
    } else {
      throw new TemplateError(`invalid interpolation format in "${text}": a "$" must start a variable; write "$$" for a literal "$"`, 'syntax', dollar);
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `from`, honouring nested `${...}`. */
function findClose(text: string, from: number, end: number): number {
  let depth = 0;
  for (let i = from; i < end; i++) {
    const c = text[i];
    if (c === '$' && text[i + 1] === '$') i++;
    else if (c === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function braced(text: string, dollar: number, close: number, lookup: VariableLookup, used: VariableUse[]): string {
  const bodyStart = dollar + 2;
  let j = bodyStart;
  if (j < close && NAME_START.test(text[j])) {
    j++;
    while (j < close && NAME_CHAR.test(text[j])) j++;
  }
  const name = text.slice(bodyStart, j);
  if (name === '') {
    throw new TemplateError(`invalid interpolation format in "${text}": "\${" must be followed by a variable name`, 'syntax', dollar);
  }
  if (j === close) return substitute(name, lookup, used) ?? '';
  const colon = text[j] === ':';
  const op = text[colon ? j + 1 : j];
  if (op !== '-' && op !== '?' && op !== '+') {
    throw new TemplateError(`invalid interpolation format in "${text}": unexpected "${text.slice(j, close)}" after "\${${name}"`, 'syntax', j);
  }
  const argStart = j + (colon ? 2 : 1);
  const found = lookup(name);
  // ":" variants treat an empty value like an unset one.
  const isSet = found !== undefined && (!colon || found.value !== '');
  if (op === '-') {
    if (isSet) return record(name, found, used);
    used.push({ name, value: found?.value, from: found ? found.from : 'unset' });
    const value = expand(text, argStart, close, lookup, used);
    used.push({ name, value, from: 'default' });
    return value;
  }
  if (op === '+') {
    used.push({ name, value: found?.value, from: found ? found.from : 'unset', operator: '+' });
    return isSet ? expand(text, argStart, close, lookup, used) : '';
  }
  if (isSet) return record(name, found, used);
  const message = expand(text, argStart, close, lookup, used);
  throw new TemplateError(
    `required variable "${name}" is missing a value${message ? `: ${message}` : ''}`,
    'required',
    dollar,
    name,
  );
}

function record(name: string, found: { value: string; from: string } | undefined, used: VariableUse[]): string {
  used.push({ name, value: found?.value, from: found ? found.from : 'unset' });
  return found?.value ?? '';
}

function substitute(name: string, lookup: VariableLookup, used: VariableUse[]): string | undefined {
  return record(name, lookup(name), used);
}
