/**
 * `berth config --explain <service>[.<path>]`: every resolved leaf value of a service with the
 * place it was written, the file it won from, and the variables interpolated into it. Values
 * compose adds on its own are marked as defaults.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readEnvFile, type LoadedCompose, type ValueOrigin } from '../load/index.js';
import { namesHint, serviceDocument, type Project } from '../model/index.js';

/** One resolved leaf value and where it came from. */
export interface ExplainedValue {
  /** Path below the service, e.g. `ports[0].published`. */
  path: string;
  value: unknown;
  /** `file:line:column` relative to the project directory, when known. */
  at?: string;
  /** How the value got here: `override file`, `extends ...`, `default`, `from short syntax "8080:80"`, `env_file`. */
  via?: string;
  /** Interpolated variables: `${WEB_PORT} = 8080 (.env file ./.env)`. */
  variables?: string[];
}

type Key = string | number;

function formatPath(keys: readonly Key[]): string {
  return keys.map((key, index) => (typeof key === 'number' ? `[${key}]` : /^[A-Za-z0-9_-]+$/.test(key) ? `${index === 0 ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`)).join('');
}

/** Parses `web.ports[0].published` into ['web', 'ports', 0, 'published']. */
function parseTarget(text: string): Key[] {
  const keys: Key[] = [];
  for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g)) {
    if (match[1] !== undefined) keys.push(match[1]);
    else if (match[2] !== undefined) keys.push(Number(match[2]));
    else keys.push(match[3]);
  }
  return keys;
}

function leaves(value: unknown, prefix: Key[], out: [Key[], unknown][]): void {
  if (Array.isArray(value) && value.length > 0) value.forEach((item, index) => leaves(item, [...prefix, index], out));
  else if (typeof value === 'object' && value !== null && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) leaves(item, [...prefix, key], out);
  } else out.push([prefix, value]);
}

/** The deepest prefix of `keys` present in the merged document, and the value there. */
function deepestWritten(document: unknown, keys: readonly Key[]): { depth: number; value: unknown } {
  let current = document;
  for (let depth = 0; depth < keys.length; depth++) {
    const key = keys[depth];
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return { depth, value: current };
    current = (current as Record<Key, unknown>)[key];
  }
  return { depth: keys.length, value: current };
}

function describeOrigin(loaded: LoadedCompose, origin: ValueOrigin | undefined, keys: readonly Key[]): Pick<ExplainedValue, 'at' | 'via' | 'variables'> {
  const source = origin?.source ?? loaded.sources.lookup(keys);
  const result: Pick<ExplainedValue, 'at' | 'via' | 'variables'> = {};
  // Keys are assigned in the order the JSON output should show them: at, via, variables.
  if (source && source.line > 0) {
    const file = source.file === '-' ? 'stdin' : path.relative(loaded.projectDirectory, path.resolve(loaded.projectDirectory, source.file)) || source.file;
    result.at = `${file}:${source.line}:${source.column}`;
  }
  if (origin?.via) result.via = origin.via;
  if (origin?.variables && origin.variables.length > 0) {
    // A variable may be recorded twice (unset, then its default): the last use is what was substituted.
    const last = new Map(origin.variables.map((use) => [use.name, use]));
    result.variables = [...last.values()].map((use) => `\${${use.name}} = ${use.value ?? '(unset)'} (${use.from})`);
  }
  return result;
}

/** The last env file of a service that defines `name` (later files win), relative to the project directory. */
function envFileDefining(loaded: LoadedCompose, envFile: unknown, name: string): string | undefined {
  const entries = (Array.isArray(envFile) ? envFile : envFile === undefined ? [] : [envFile]) as unknown[];
  const lookup = (variable: string) => (Object.hasOwn(loaded.environment, variable) ? { value: loaded.environment[variable], from: 'environment' } : undefined);
  for (const entry of [...entries].reverse()) {
    const record = typeof entry === 'string' ? { path: entry } : (entry as { path?: unknown; format?: unknown });
    if (typeof record.path !== 'string') continue;
    const file = path.resolve(loaded.projectDirectory, record.path);
    try {
      if (Object.hasOwn(readEnvFile(file, { required: false, format: record.format === 'raw' ? 'raw' : undefined, lookup }), name)) {
        return path.relative(loaded.projectDirectory, file);
      }
    } catch {
      // An unreadable file was already reported by normalization; explain what can be explained.
    }
  }
  return undefined;
}

/** Which attribute made compose add a dependency on `dependency`: links, a `service:` namespace or volumes_from. */
function impliedBy(rawService: unknown, dependency: string): string | undefined {
  if (typeof rawService !== 'object' || rawService === null) return undefined;
  const raw = rawService as Record<string, unknown>;
  const depends = raw.depends_on;
  if (Array.isArray(depends) ? depends.includes(dependency) : typeof depends === 'object' && depends !== null && dependency in depends) return undefined;
  if (Array.isArray(raw.links) && raw.links.some((link) => String(link).split(':')[0] === dependency)) return 'links';
  for (const key of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup']) if (raw[key] === `service:${dependency}`) return key;
  if (Array.isArray(raw.volumes_from) && raw.volumes_from.some((entry) => String(entry).replace(/^service:/, '').split(':')[0] === dependency)) return 'volumes_from';
  return undefined;
}

/** Leaves short syntax does not spell out: port mode and protocol, the bind/volume option records. */
function isShortSyntaxDefault(keys: readonly Key[], text: string): boolean {
  const leaf = keys[keys.length - 1];
  if (keys[0] === 'ports') return leaf === 'mode' || (leaf === 'protocol' && !text.includes('/'));
  if (keys[0] === 'volumes') return leaf === 'create_host_path' || leaf === 'volume';
  if (keys[0] === 'build') return leaf === 'dockerfile';
  return false;
}

/** Explains every leaf of `target` (`service` or `service.path`). */
export function explainService(loaded: LoadedCompose, project: Project, target: string): ExplainedValue[] {
  const [serviceName, ...below] = parseTarget(target);
  const service = project.services.get(String(serviceName));
  if (!service) throw new UsageError(`no such service: "${String(serviceName)}"`, { hint: namesHint('services', String(serviceName), project.services.keys()) });
  const found: [Key[], unknown][] = [];
  const start = deepestWritten(serviceDocument(service), below);
  if (start.depth < below.length) throw new UsageError(`service "${service.name}" has no value at "${formatPath(below)}"`);
  leaves(start.value, [...below], found);
  const rawService = (loaded.document.services as Record<string, unknown> | undefined)?.[service.name];
  return found.map(([keys, value]) => {
    const explained: ExplainedValue = { path: formatPath(keys), value };
    const written = deepestWritten(rawService, keys);
    const fullKeys = ['services', service.name, ...keys];
    if (written.depth === keys.length) {
      return { ...explained, ...describeOrigin(loaded, loaded.sources.origin(fullKeys), fullKeys) };
    }
    const ancestorKeys = fullKeys.slice(0, 2 + written.depth);
    const ancestor = written.value;
    if (keys[0] === 'environment' && written.depth <= 1) {
      // List form `- KEY=value` or `- KEY`, else the value came from an env_file.
      const list = Array.isArray(ancestor) ? ancestor : [];
      const index = list.findIndex((entry) => String(entry) === keys[1] || String(entry).startsWith(`${String(keys[1])}=`));
      if (index >= 0) return { ...explained, ...describeOrigin(loaded, loaded.sources.origin([...ancestorKeys, index]), [...ancestorKeys, index]) };
      const envFile = describeOrigin(loaded, loaded.sources.origin(['services', service.name, 'env_file']), ['services', service.name, 'env_file']);
      const file = envFileDefining(loaded, (rawService as Record<string, unknown> | undefined)?.env_file, String(keys[1]));
      return { ...explained, at: envFile.at, via: file ? `env_file ${file}` : 'env_file' };
    }
    if (typeof ancestor === 'string' || typeof ancestor === 'number') {
      const described = describeOrigin(loaded, loaded.sources.origin(ancestorKeys), ancestorKeys);
      const short = JSON.stringify(ancestor);
      if (isShortSyntaxDefault(keys, String(ancestor))) return { ...explained, at: described.at, via: `default for short syntax ${short}` };
      return { ...explained, at: described.at, via: [described.via, `from short syntax ${short}`].filter(Boolean).join(', '), ...(described.variables ? { variables: described.variables } : {}) };
    }
    if (keys[0] === 'depends_on' && written.depth <= 1) {
      const implied = impliedBy(rawService, String(keys[1]));
      if (implied) return { ...explained, ...describeOrigin(loaded, loaded.sources.origin(['services', service.name, implied]), ['services', service.name, implied]), via: `implied by ${implied}` };
    }
    return { ...explained, via: 'default' };
  });
}

/** Text lines `path: value  at  (via)  from ${VAR} = value (where)`, aligned in columns. */
export function renderExplanation(values: readonly ExplainedValue[]): string {
  const left = values.map((value) => `${value.path}: ${JSON.stringify(value.value)}`);
  const width = Math.min(60, Math.max(0, ...left.map((text) => text.length)));
  return values
    .map((value, index) => {
      const parts = [left[index].padEnd(width)];
      if (value.at) parts.push(value.at);
      if (value.via) parts.push(`(${value.via})`);
      for (const variable of value.variables ?? []) parts.push(`from ${variable}`);
      return `${parts.join('  ')}\n`;
    })
    .join('');
}
