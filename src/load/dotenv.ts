/**
 * `.env` files as Compose reads them: `KEY=value` lines, `#` comments, an optional `export `
 * prefix, single quotes taken literally, double quotes with escapes and `${VAR}`, unquoted
 * values with ` #` inline comments, quoted values over several lines, and `KEY` alone to take
 * the value from the environment. Format `raw` takes every value as written.
 */
import fs from 'node:fs';
import { ComposeFileError } from '../errors.js';
import { interpolateString, TemplateError, type VariableLookup } from './interpolate.js';

/** How to read an env file. */
export interface DotenvOptions {
  /** `raw`: no quotes, escapes or interpolation, the value is everything after `=`. */
  format?: 'raw';
  /** Variables from outside the file, looked up before the file's own earlier ones. */
  lookup?: VariableLookup;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', $: '$$' };

/** Parses dotenv text; errors name `file:line`. Later keys replace earlier ones. */
export function parseDotenv(text: string, file: string, options: DotenvOptions = {}): Record<string, string> {
  const result: Record<string, string> = {};
  const lookup: VariableLookup = (name) => {
    const outer = options.lookup?.(name);
    if (outer) return outer;
    return Object.hasOwn(result, name) ? { value: result[name], from: file } : undefined;
  };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    let line = lines[index].trimStart();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!KEY.test(key)) {
      throw new ComposeFileError(`invalid variable name "${key}" in env file`, {
        source: { file, line: lineNumber, column: 1, path: '' },
        hint: 'names start with a letter or "_" and contain letters, digits, "_", "." or "-"',
      });
    }
    if (eq < 0) {
      // `KEY` alone passes the value through from the environment, when there is one.
      const outer = options.lookup?.(key);
      if (outer) result[key] = outer.value;
      continue;
    }
    let rest = line.slice(eq + 1);
    if (options.format === 'raw') {
      result[key] = rest;
      continue;
    }
    rest = rest.trimStart();
    const quote = rest[0];
    if (quote === "'" || quote === '"') {
      let body = rest.slice(1);
      let close = findQuote(body, quote);
      const startLine = lineNumber;
      // A quoted value runs on over the following lines until its closing quote.
      while (close < 0 && index + 1 < lines.length) {
        index++;
        body += '\n' + lines[index];
        close = findQuote(body, quote);
      }
      if (close < 0) {
        throw new ComposeFileError(`unterminated ${quote === '"' ? 'double' : 'single'}-quoted value of "${key}" in env file`, {
          source: { file, line: startLine, column: eq + 2, path: '' },
          hint: `close the value with ${quote}`,
        });
      }
      const raw = body.slice(0, close);
      result[key] = quote === "'" ? raw : expandValue(unescape(raw), key, file, startLine, lookup);
      continue;
    }
    const comment = rest.search(/\s#/);
    const value = (comment >= 0 ? rest.slice(0, comment) : rest).trim();
    result[key] = expandValue(value, key, file, lineNumber, lookup);
  }
  return result;
}

function findQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

function unescape(raw: string): string {
  return raw.replace(/\\(.)/gs, (whole, c: string) => ESCAPES[c] ?? whole);
}

function expandValue(value: string, key: string, file: string, line: number, lookup: VariableLookup): string {
  try {
    return interpolateString(value, lookup).value;
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new ComposeFileError(`${error.message} (in the value of "${key}")`, { source: { file, line, column: 1, path: '' } });
  }
}

/** Reads an env file; a missing file is an error unless `required` is false (then it is empty). */
export function readEnvFile(filePath: string, options: DotenvOptions & { required?: boolean } = {}): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.required === false) return {};
    throw new ComposeFileError(
      code === 'ENOENT' ? `env file "${filePath}" not found` : `cannot read env file "${filePath}": ${(error as Error).message}`,
      { hint: code === 'ENOENT' ? 'create the file, fix the path, or mark it `required: false`' : undefined },
    );
  }
  return parseDotenv(text, filePath, options);
}
