/** One service: every attribute through its normalizer, the rest passed through as written. */
import type { Service } from './types.js';
import { attributeError, isMapping, resolveHostPath, scalarText, type NormalizeContext } from './context.js';
import { normalizeBuild } from './build.js';
import { addImpliedDependencies, normalizeDependsOn } from './depends-on.js';
import { normalizeEnvFiles, normalizeEnvironment } from './environment.js';
import { normalizeFileReferences } from './file-references.js';
import { normalizeHealthcheck } from './healthcheck.js';
import { normalizeExtraHosts, normalizeStringList, normalizeStringMap } from './mappings.js';
import { normalizeServiceNetworks } from './networks.js';
import { normalizeExpose, normalizePorts } from './ports.js';
import { splitShellWords } from './shell-words.js';
import { normalizeVolumes } from './volumes.js';
import { fallbackSource } from './top-level.js';

/** `command`/`entrypoint`: a string is split into words as a shell would; a list is kept. */
function normalizeCommand(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): string[] | null {
  if (value === null) return null;
  if (typeof value === 'string') {
    try {
      return splitShellWords(value);
    } catch (error) {
      throw attributeError(context, keyPath, (error as Error).message, (error as { hint?: string }).hint);
    }
  }
  if (Array.isArray(value)) return value.map(scalarText);
  throw attributeError(context, keyPath, 'must be a string or a list of strings');
}

/** `develop.watch[].path` is a host path: absolute like bind sources. */
function normalizeDevelop(context: NormalizeContext, value: unknown): unknown {
  if (!isMapping(value) || !Array.isArray(value.watch)) return value;
  return {
    ...value,
    watch: value.watch.map((rule) => (isMapping(rule) && typeof rule.path === 'string' ? { ...rule, path: resolveHostPath(context, rule.path) } : rule)),
  };
}

const stringLists = new Set(['dns', 'dns_search', 'tmpfs', 'dns_opt', 'cap_add', 'cap_drop', 'security_opt', 'group_add', 'devices', 'external_links', 'volumes_from', 'links', 'device_cgroup_rules']);

/** Normalizes the service `name` of the merged document into its canonical long form. */
export function normalizeService(context: NormalizeContext, name: string, value: unknown): Service {
  const keyPath = ['services', name];
  const raw: Record<string, unknown> = isMapping(value) ? value : {};
  const result: Record<string, unknown> = {};
  for (const [key, attribute] of Object.entries(raw)) {
    const at = [...keyPath, key];
    switch (key) {
      case 'extends':
      case 'env_file':
        break; // resolved by the loader / merged into environment below
      case 'build': result.build = normalizeBuild(context, at, attribute); break;
      case 'command':
      case 'entrypoint': result[key] = normalizeCommand(context, at, attribute); break;
      case 'ports': result.ports = normalizePorts(context, at, attribute); break;
      case 'expose': result.expose = normalizeExpose(attribute); break;
      case 'volumes': result.volumes = normalizeVolumes(context, at, attribute); break;
      case 'networks':
      case 'depends_on':
      case 'environment': break; // below, they depend on other attributes
      case 'labels':
      case 'annotations':
      case 'sysctls': result[key] = normalizeStringMap(context, at, attribute); break;
      case 'extra_hosts': result.extra_hosts = normalizeExtraHosts(context, at, attribute); break;
      case 'secrets':
      case 'configs': result[key] = normalizeFileReferences(context, at, attribute); break;
      case 'healthcheck': result.healthcheck = normalizeHealthcheck(context, at, attribute); break;
      case 'develop': result.develop = normalizeDevelop(context, attribute); break;
      default:
        result[key] = stringLists.has(key) && attribute !== null ? normalizeStringList(attribute) : attribute;
    }
  }
  const envFiles = raw.env_file === undefined || raw.env_file === null ? [] : normalizeEnvFiles(context, [...keyPath, 'env_file'], raw.env_file);
  if (raw.environment !== undefined || envFiles.length > 0) {
    const environment = normalizeEnvironment(context, [...keyPath, 'environment'], raw.environment, envFiles);
    if (Object.keys(environment).length > 0 || raw.environment !== undefined) result.environment = environment;
  }
  const declared = raw.depends_on === undefined || raw.depends_on === null ? {} : normalizeDependsOn(context, [...keyPath, 'depends_on'], raw.depends_on);
  const dependsOn = addImpliedDependencies(raw, declared);
  if (Object.keys(dependsOn).length > 0) result.depends_on = dependsOn;
  const networks = normalizeServiceNetworks(context, [...keyPath, 'networks'], raw.networks, raw.network_mode);
  if (networks !== undefined) result.networks = networks;
  return { ...result, name, source: context.sourceOf(keyPath) ?? fallbackSource(context, keyPath) } as Service;
}
