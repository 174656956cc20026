/**
 * Dockerfile parser: parser directives (`# syntax=`, `# escape=`), comments, line
 * continuations with the escape character, here-documents (`RUN <<EOF`, `COPY <<EOT /x`), and
 * leading `--flag=value` options. Every instruction keeps the line it starts on, so build errors
 * can point at the Dockerfile line.
 */
import { BuildError } from './errors.js';

/** One here-document attached to an instruction. */
export interface Heredoc {
  /** The delimiter word (`EOF`). */
  name: string;
  /** The body, lines joined with "\n", with a final newline (as the shell would feed it). */
  content: string;
  /** False when the delimiter was quoted (`<<"EOF"`): no variable expansion in the body. */
  expand: boolean;
  /** `<<-EOF`: leading tabs were removed from each line. */
  stripTabs: boolean;
}

/** One parsed instruction. */
export interface Instruction {
  /** Upper-case keyword (`RUN`, `COPY`, ...). */
  keyword: string;
  /** Options before the arguments, `--from=build` → { from: ['build'] }; a bare `--link` gives ['']. */
  flags: Record<string, string[]>;
  /** Arguments after the options, continuation lines joined, heredoc bodies removed. */
  args: string;
  heredocs: Heredoc[];
  /** 1-based line of the keyword, and the last line the instruction (with heredocs) spans. */
  line: number;
  endLine: number;
  /** The instruction as written on its first logical line (for history and progress output). */
  text: string;
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** Parser directives, lower-case names (`syntax`, `escape`, `check`). */
  directives: Record<string, string>;
  escape: string;
  instructions: Instruction[];
  /** File name for messages (`Dockerfile`, `<inline>`). */
  name: string;
}

const heredocKeywords = new Set(['RUN', 'COPY', 'ADD']);
const knownKeywords = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

/** Strips a trailing escape character (and whitespace after it); returns undefined when the line does not continue. */
function continuation(line: string, escape: string): string | undefined {
  const trimmed = line.replace(/[ \t]+$/, '');
  if (!trimmed.endsWith(escape)) return undefined;
  // An escaped escape character (`\\`) at the end does not continue the line.
  let count = 0;
  for (let i = trimmed.length - 1; i >= 0 && trimmed[i] === escape; i--) count++;
  if (count % 2 === 0) return undefined;
  return trimmed.slice(0, -1);
}

/** Heredoc markers `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` outside quotes, in order. */
export function findHeredocMarkers(text: string): Array<{ name: string; expand: boolean; stripTabs: boolean; start: number; end: number }> {
  const found: Array<{ name: string; expand: boolean; stripTabs: boolean; start: number; end: number }> = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      continue;
    }
    if (char !== '<' || text[i + 1] !== '<' || text[i + 2] === '<') continue;
    const match = /^<<(-?)(?:"([A-Za-z0-9_.-]+)"|'([A-Za-z0-9_.-]+)'|([A-Za-z_][A-Za-z0-9_.-]*))/.exec(text.slice(i));
    if (!match) continue;
    found.push({ name: match[2] ?? match[3] ?? match[4], expand: match[4] !== undefined, stripTabs: match[1] === '-', start: i, end: i + match[0].length });
    i += match[0].length - 1;
  }
  return found;
}

/** Splits leading `--name=value` / `--name` options off the arguments. */
function splitFlags(rest: string): { flags: Record<string, string[]>; args: string } {
  const flags: Record<string, string[]> = {};
  let args = rest;
  for (;;) {
    const match = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("(?:[^"\\]|\\.)*"|\S*))?(?:\s+|$)/.exec(args);
    if (!match) break;
    let value = match[2] ?? '';
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    (flags[match[1].toLowerCase()] ??= []).push(value);
    args = args.slice(match[0].length);
  }
  return { flags, args };
}

/** Parses Dockerfile text. `name` is used in error messages. */
export function parseDockerfile(source: string, name = 'Dockerfile'): Dockerfile {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const directives: Record<string, string> = {};
  let index = 0;
  // Directives: only at the very top, before any blank line, other comment or instruction.
  for (; index < lines.length; index++) {
    const match = /^#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(lines[index]);
    if (!match || !['syntax', 'escape', 'check'].includes(match[1].toLowerCase()) || match[1].toLowerCase() in directives) break;
    directives[match[1].toLowerCase()] = match[2];
  }
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') {
    throw new BuildError(`${name}:${index}: invalid escape directive "${escape}"`, { hint: 'the escape character must be "\\" or "`"' });
  }
  const instructions: Instruction[] = [];
  while (index < lines.length) {
    const first = lines[index];
    if (/^\s*$/.test(first) || /^\s*#/.test(first)) {
      index++;
      continue;
    }
    const startLine = index + 1;
    let logical = '';
    let current: string | undefined = first;
    // Join continuation lines; comment and empty lines inside a continuation are skipped.
    for (;;) {
      const continued: string | undefined = continuation(current, escape);
      index++;
      if (continued === undefined) {
        logical += current;
        break;
      }
      logical += continued;
      while (index < lines.length && (/^\s*#/.test(lines[index]) || /^\s*$/.test(lines[index]))) index++;
      if (index >= lines.length) break;
      current = lines[index];
    }
    const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(logical);
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    if (!knownKeywords.has(keyword)) {
      throw new BuildError(`${name}:${startLine}: unknown instruction "${match[1]}"`, { hint: `Dockerfile instructions are ${[...knownKeywords].join(', ')}` });
    }
    const { flags, args } = splitFlags(match[2].trim());
    const heredocs: Heredoc[] = [];
    if (heredocKeywords.has(keyword) && !args.startsWith('[')) {
      for (const marker of findHeredocMarkers(args)) {
        const body: string[] = [];
        let closed = false;
        while (index < lines.length) {
          const line = lines[index++];
          const candidate = marker.stripTabs ? line.replace(/^\t+/, '') : line;
          if (candidate === marker.name) {
            closed = true;
            break;
          }
          body.push(candidate);
        }
        if (!closed) {
          throw new BuildError(`${name}:${startLine}: here-document "${marker.name}" is not terminated`, { hint: `end it with a line containing only ${marker.name}` });
        }
        heredocs.push({ name: marker.name, content: body.length ? `${body.join('\n')}\n` : '', expand: marker.expand, stripTabs: marker.stripTabs });
      }
    }
    instructions.push({ keyword, flags, args, heredocs, line: startLine, endLine: index, text: logical.trim() });
  }
  return { directives, escape, instructions, name };
}

/** The exec form (JSON array of strings) of `args`, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
