/**
 * `--change` for `berth import`: the Dockerfile instructions that only touch the image config
 * (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
 * WORKDIR), with Dockerfile's exec-form/shell-form and key=value rules.
 */
import path from 'node:path';
import { UsageError } from '../../errors.js';
import type { OciContainerConfig } from '../types.js';

const supported = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

function fail(change: string, why: string): UsageError {
  return new UsageError(`invalid --change ${JSON.stringify(change)}: ${why}`, { hint: `supported instructions: ${supported.join(', ')}` });
}

/** A JSON array of strings (exec form), or undefined when `text` is not one. */
function execForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Splits `a=1 b="two words" c=x\ y` into words, honouring quotes and backslashes. */
function splitWords(text: string, change: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && i + 1 < text.length && quote !== "'") {
      current += text[++i];
      inWord = true;
    } else if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote) throw fail(change, 'unterminated quote');
  if (inWord) words.push(current);
  return words;
}

/** `k=v k2=v2` pairs, or the legacy one-pair form `k v with spaces`. */
function keyValues(args: string, change: string): Array<[string, string]> {
  const words = splitWords(args, change);
  if (words.length === 0) throw fail(change, 'missing arguments');
  if (!words[0].includes('=')) {
    const space = args.search(/\s/);
    if (space === -1) throw fail(change, `"${words[0]}" has no value`);
    return [[words[0], splitWords(args.slice(space + 1).trim(), change).join(' ')]];
  }
  return words.map((word) => {
    const equals = word.indexOf('=');
    if (equals <= 0) throw fail(change, `"${word}" is not key=value`);
    return [word.slice(0, equals), word.slice(equals + 1)];
  });
}

function commandForm(args: string): string[] {
  return execForm(args) ?? ['/bin/sh', '-c', args];
}

/** Applies `--change` instructions in order to a copy of `config`. */
export function applyChanges(config: OciContainerConfig, changes: readonly string[]): OciContainerConfig {
  const result: OciContainerConfig = structuredClone(config);
  for (const change of changes) {
    const trimmed = change.trim();
    const match = /^(\S+)\s*(.*)$/s.exec(trimmed);
    if (!match) throw fail(change, 'empty instruction');
    const instruction = match[1].toUpperCase();
    const args = match[2].trim();
    if (!supported.includes(instruction)) throw fail(change, `unsupported instruction "${match[1]}"`);
    if (args === '' && instruction !== 'HEALTHCHECK') throw fail(change, 'missing arguments');
    switch (instruction) {
      case 'CMD': result.Cmd = commandForm(args); break;
      case 'ENTRYPOINT': result.Entrypoint = commandForm(args); break;
      case 'ENV': {
        const env = [...(result.Env ?? [])];
        for (const [key, value] of keyValues(args, change)) {
          const at = env.findIndex((item) => item.split('=')[0] === key);
          if (at >= 0) env[at] = `${key}=${value}`;
          else env.push(`${key}=${value}`);
        }
        result.Env = env;
        break;
      }
      case 'LABEL': {
        result.Labels = { ...(result.Labels ?? {}) };
        for (const [key, value] of keyValues(args, change)) result.Labels[key] = value;
        break;
      }
      case 'EXPOSE': {
        result.ExposedPorts = { ...(result.ExposedPorts ?? {}) };
        for (const word of splitWords(args, change)) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
          if (!m) throw fail(change, `invalid port "${word}"`);
          const first = Number(m[1]);
          const last = m[2] ? Number(m[2]) : first;
          if (first < 1 || last > 65535 || last < first || last - first > 1000) throw fail(change, `invalid port range "${word}"`);
          for (let port = first; port <= last; port++) result.ExposedPorts[`${port}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        break;
      }
      case 'VOLUME': {
        result.Volumes = { ...(result.Volumes ?? {}) };
        for (const volume of execForm(args) ?? splitWords(args, change)) result.Volumes[volume] = {};
        break;
      }
      case 'WORKDIR': result.WorkingDir = path.posix.resolve(result.WorkingDir || '/', args); break;
      case 'USER': result.User = args; break;
      case 'STOPSIGNAL': result.StopSignal = args; break;
      case 'ONBUILD': result.OnBuild = [...(result.OnBuild ?? []), args]; break;
      case 'HEALTHCHECK': result.Healthcheck = parseHealthcheck(args, change); break;
    }
  }
  return result;
}

function parseDuration(text: string, change: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(text);
  if (!m) throw fail(change, `invalid duration "${text}"`);
  const scale: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  return Math.round(Number(m[1]) * scale[m[2]]);
}

/** `HEALTHCHECK [--interval=..] CMD ...` or `HEALTHCHECK NONE`, durations in nanoseconds as Docker stores them. */
function parseHealthcheck(args: string, change: string): NonNullable<OciContainerConfig['Healthcheck']> {
  if (/^none$/i.test(args)) return { Test: ['NONE'] };
  const check: NonNullable<OciContainerConfig['Healthcheck']> = {};
  let rest = args;
  for (let guard = 0; guard < 10; guard++) {
    const m = /^--([a-z-]+)=(\S+)\s+(.*)$/s.exec(rest);
    if (!m) break;
    if (m[1] === 'interval') check.Interval = parseDuration(m[2], change);
    else if (m[1] === 'timeout') check.Timeout = parseDuration(m[2], change);
    else if (m[1] === 'start-period') check.StartPeriod = parseDuration(m[2], change);
    else if (m[1] === 'start-interval') check.StartInterval = parseDuration(m[2], change);
    else if (m[1] === 'retries') check.Retries = Number(m[2]);
    else throw fail(change, `unknown HEALTHCHECK option "--${m[1]}"`);
    rest = m[3];
  }
  const cmd = /^CMD\s+(.*)$/is.exec(rest);
  if (!cmd) throw fail(change, 'HEALTHCHECK needs CMD or NONE');
  const exec = execForm(cmd[1].trim());
  check.Test = exec ? ['CMD', ...exec] : ['CMD-SHELL', cmd[1].trim()];
  return check;
}
