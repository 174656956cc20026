/** normalize(): the merged compose document of the loader into the typed, canonical Project. */
import type { LoadedCompose } from '../load/types.js';
import type { Config, Network, Project, Secret, Service, Volume } from './types.js';
import { isMapping, type NormalizeContext } from './context.js';
import { normalizeService } from './service.js';
import { normalizeFileObject, normalizeNetwork, normalizeVolume } from './top-level.js';

/** Options of normalize(). */
export interface NormalizeOptions {
  /** false for `--no-path-resolution`: relative host paths stay as written. Default true. */
  resolvePaths?: boolean;
}

function entries(value: unknown): [string, unknown][] {
  return isMapping(value) ? Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
}

/** Every profile named by any service, sorted and unique. */
function definedProfiles(services: Iterable<Service>): string[] {
  const names = new Set<string>();
  for (const service of services) for (const profile of service.profiles ?? []) names.add(profile);
  return [...names].sort();
}

/**
 * Builds the Project with every defined service enabled; apply `withProfiles()` next. Adds the
 * implicit `default` network when a service joins it without the file declaring it.
 */
export function normalize(loaded: LoadedCompose, options: NormalizeOptions = {}): Project {
  const document = loaded.document;
  const context: NormalizeContext = {
    projectName: loaded.projectName,
    workingDir: loaded.projectDirectory,
    environment: loaded.environment,
    resolvePaths: options.resolvePaths ?? true,
    sourceOf: (path) => loaded.sources.lookup(path),
  };
  const services = new Map<string, Service>();
  for (const [name, value] of entries(document.services)) services.set(name, normalizeService(context, name, value));
  const networks = new Map<string, Network>();
  for (const [key, value] of entries(document.networks)) networks.set(key, normalizeNetwork(context, key, value));
  const usesDefault = [...services.values()].some((service) => service.networks !== undefined && 'default' in service.networks);
  if (usesDefault && !networks.has('default')) {
    const withDefault = new Map([['default', normalizeNetwork(context, 'default', {})], ...networks]);
    networks.clear();
    for (const [key, network] of [...withDefault].sort(([a], [b]) => (a < b ? -1 : 1))) networks.set(key, network);
  }
  const volumes = new Map<string, Volume>();
  for (const [key, value] of entries(document.volumes)) volumes.set(key, normalizeVolume(context, key, value));
  const secrets = new Map<string, Secret>();
  for (const [key, value] of entries(document.secrets)) secrets.set(key, normalizeFileObject(context, 'secrets', key, value));
  const configs = new Map<string, Config>();
  for (const [key, value] of entries(document.configs)) configs.set(key, normalizeFileObject(context, 'configs', key, value) as Config);
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) if (key.startsWith('x-')) extensions[key] = value;
  return {
    name: loaded.projectName,
    workingDir: loaded.projectDirectory,
    configFiles: loaded.configFiles,
    envFiles: loaded.envFiles,
    environment: loaded.environment,
    services,
    disabledServices: new Map(),
    networks,
    volumes,
    secrets,
    configs,
    profiles: definedProfiles(services.values()),
    activeProfiles: [...loaded.profiles],
    extensions,
    sourceOf: context.sourceOf,
  };
}
