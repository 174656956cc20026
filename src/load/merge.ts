/**
 * Merging compose documents (override files, extends, include) by the Compose
 * Specification's rules: mappings merge recursively, most sequences append, and a few
 * attributes merge by identity, as maps, or replace. `!reset` removes a value from what came
 * before and `!override` replaces it whole. Places move along with values.
 *
 * To stay linear on big projects the merge takes ownership of both inputs: `base` is updated
 * in place and parts of `override` are moved into it. Every caller passes freshly parsed (or
 * cloned) data that nothing else holds.
 */
import { copyEntry, isMapping, metaOf, placeOf, tagOf } from './source-meta.js';
import { envFilePath, mountTarget, portKey, splitKeyValue, volumeTarget } from './merge-identity.js';

type Rule =
  | { kind: 'replace' }
  | { kind: 'unique'; key: (entry: unknown) => string }
  | { kind: 'keyValue'; separators: string }
  | { kind: 'dependsOn' }
  | { kind: 'networks' }
  | { kind: 'build' }
  | { kind: 'logging' }
  | { kind: 'replaceEntries' };

const same = (entry: unknown): string => (typeof entry === 'object' ? JSON.stringify(entry) : String(entry));
const SERVICE_RULES: Record<string, Rule> = {
  command: { kind: 'replace' },
  entrypoint: { kind: 'replace' },
  ports: { kind: 'unique', key: portKey },
  volumes: { kind: 'unique', key: volumeTarget },
  secrets: { kind: 'unique', key: (entry) => mountTarget(entry, 'secrets') },
  configs: { kind: 'unique', key: (entry) => mountTarget(entry, 'configs') },
  env_file: { kind: 'unique', key: envFilePath },
  environment: { kind: 'keyValue', separators: '=' },
  labels: { kind: 'keyValue', separators: '=' },
  annotations: { kind: 'keyValue', separators: '=' },
  sysctls: { kind: 'keyValue', separators: '=' },
  extra_hosts: { kind: 'keyValue', separators: '=:' },
  ulimits: { kind: 'replaceEntries' },
  depends_on: { kind: 'dependsOn' },
  networks: { kind: 'networks' },
  build: { kind: 'build' },
  logging: { kind: 'logging' },
};
for (const name of ['dns', 'dns_search', 'dns_opt', 'tmpfs', 'cap_add', 'cap_drop', 'expose', 'profiles', 'links', 'external_links', 'devices', 'group_add', 'security_opt']) {
  SERVICE_RULES[name] = { kind: 'unique', key: same };
}
const BUILD_RULES: Record<string, Rule> = {
  args: { kind: 'keyValue', separators: '=' },
  labels: { kind: 'keyValue', separators: '=' },
  extra_hosts: { kind: 'keyValue', separators: '=:' },
  additional_contexts: { kind: 'keyValue', separators: '=' },
  tags: { kind: 'unique', key: same },
  cache_from: { kind: 'unique', key: same },
  platforms: { kind: 'unique', key: same },
};

/** The rule for the value at `path` (top-level, service attribute, build or healthcheck attribute). */
function ruleFor(path: readonly string[]): Rule | undefined {
  if (path[0] !== 'services') return undefined;
  if (path.length === 3) return SERVICE_RULES[path[2]];
  if (path.length === 4 && path[2] === 'healthcheck' && path[3] === 'test') return { kind: 'replace' };
  if (path.length === 4 && path[2] === 'build') return BUILD_RULES[path[3]];
  if (path.length === 5 && path[2] === 'networks' && path[4] === 'aliases') return { kind: 'unique', key: same };
  return undefined;
}

/** Merges `override` onto `base` (whole documents or parts at `path`); both inputs are consumed. */
export function mergeValues(base: unknown, override: unknown, path: string[] = []): unknown {
  const rule = ruleFor(path);
  if (rule) return mergeByRule(rule, base, override, path);
  if (isMapping(base) && isMapping(override)) return mergeMappings(base, override, path);
  if (Array.isArray(base) && Array.isArray(override)) return appendAll(base, override);
  return override;
}

function mergeMappings(base: Record<string, unknown>, override: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const places = metaOf(base).places;
  for (const key of Object.keys(override)) {
    const tag = tagOf(override, key);
    if (tag === 'reset') {
      delete base[key];
      places.delete(key);
      continue;
    }
    const before = base[key];
    const value = override[key];
    if (tag === 'override' || !Object.hasOwn(base, key)) base[key] = value;
    else {
      path.push(key);
      base[key] = mergeValues(before, value, path);
      const replaced = ruleFor(path)?.kind === 'replace';
      path.pop();
      // A collection merged with an earlier one keeps the place where it was first written.
      if (!replaced && typeof before === 'object' && before !== null && typeof value === 'object' && value !== null) continue;
    }
    const place = placeOf(override, key);
    if (place) places.set(key, place);
  }
  return base;
}

function appendAll(base: unknown[], override: unknown[]): unknown[] {
  for (let i = 0; i < override.length; i++) {
    copyEntry(override, i, base, base.length);
    base.push(override[i]);
  }
  return base;
}

function mergeByRule(rule: Rule, base: unknown, override: unknown, path: string[]): unknown {
  switch (rule.kind) {
    case 'replace':
      return override;
    case 'unique':
      return mergeUnique(asList(base), asList(override), rule.key);
    case 'keyValue':
      return mergeKeyValue(base, override, rule.separators);
    case 'dependsOn':
    case 'networks':
      if (Array.isArray(base) && Array.isArray(override)) return mergeUnique(base, override, same);
      return mergeMappings(toMapping(base, rule.kind), toMapping(override, rule.kind), path);
    case 'build':
      return mergeMappings(buildMapping(base), buildMapping(override), path);
    case 'logging':
      if (isMapping(base) && isMapping(override) && base.driver !== undefined && override.driver !== undefined && base.driver !== override.driver) {
        return override;
      }
      return isMapping(base) && isMapping(override) ? mergeMappings(base, override, path) : override;
    case 'replaceEntries': {
      if (!isMapping(base) || !isMapping(override)) return override;
      for (const key of Object.keys(override)) {
        if (tagOf(override, key) === 'reset') delete base[key];
        else base[key] = override[key];
        copyEntry(override, key, base, key);
      }
      return base;
    }
  }
}

function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** Appends entries; an override entry with the same identity as a base entry replaces it in place. */
function mergeUnique(base: unknown[], override: unknown[], key: (entry: unknown) => string): unknown[] {
  const out: unknown[] = [];
  const index = new Map<string, number>();
  for (const list of [base, override]) {
    for (let i = 0; i < list.length; i++) {
      const id = key(list[i]);
      const at = index.get(id) ?? out.length;
      index.set(id, at);
      out[at] = list[i];
      copyEntry(list, i, out, at);
    }
  }
  return out;
}

/** Merges `KEY=VALUE` lists and mappings by key; two lists stay a list, otherwise a mapping. */
function mergeKeyValue(base: unknown, override: unknown, separators: string): unknown {
  const bothLists = Array.isArray(base) && Array.isArray(override);
  const entries = new Map<string, { value: unknown; from: object; at: string | number }>();
  for (const side of [base, override]) {
    if (Array.isArray(side)) {
      side.forEach((entry, i) => entries.set(splitKeyValue(entry, separators)[0], { value: entry, from: side, at: i }));
    } else if (isMapping(side)) {
      for (const key of Object.keys(side)) entries.set(key, { value: side[key], from: side, at: key });
    }
  }
  if (bothLists) {
    const out: unknown[] = [];
    for (const entry of entries.values()) {
      copyEntry(entry.from, entry.at, out, out.length);
      out.push(entry.value);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, entry] of entries) {
    out[key] = Array.isArray(entry.from) ? splitKeyValue(entry.value, separators)[1] : entry.value;
    copyEntry(entry.from, entry.at, out, key);
  }
  return out;
}

/** `depends_on` / service `networks` list form as a mapping, keeping places. */
function toMapping(value: unknown, kind: 'dependsOn' | 'networks'): Record<string, unknown> {
  if (isMapping(value)) return value;
  const out: Record<string, unknown> = {};
  if (!Array.isArray(value)) return out;
  value.forEach((name, i) => {
    out[String(name)] = kind === 'dependsOn' ? { condition: 'service_started', required: true } : null;
    copyEntry(value, i, out, String(name));
  });
  return out;
}

function buildMapping(value: unknown): Record<string, unknown> {
  if (isMapping(value)) return value;
  return typeof value === 'string' ? { context: value } : {};
}
