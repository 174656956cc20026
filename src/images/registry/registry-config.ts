/**
 * Which registries may be spoken to over plain HTTP and which mirrors to try first, from
 * `<stateRoot>/registries.json` ({"insecure": [...], "mirrors": {"docker.io": ["http://..."]}}) plus
 * the environment: BERTH_INSECURE_REGISTRIES="host:port,..." and
 * BERTH_REGISTRY_MIRRORS="docker.io=http://127.0.0.1:5000,..." (a bare URL mirrors docker.io).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RegistryError } from '../../errors.js';
import { stateRoot } from '../../paths.js';
import { dockerHubApiHost, dockerHubDomain } from '../reference.js';

/** Registry settings after merging the file and the environment. */
export interface RegistryConfig {
  insecure: string[];
  mirrors: Record<string, string[]>;
}

/** Loads the registry settings; a broken registries.json is an error rather than silently ignored. */
export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const file = path.join(stateRoot(env), 'registries.json');
  const config: RegistryConfig = { insecure: [], mirrors: {} };
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    let parsed: { insecure?: unknown; mirrors?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (err) {
      throw new RegistryError(`registry settings "${file}" are not valid JSON`, '', undefined, { cause: err, hint: 'expected {"insecure": ["host:port"], "mirrors": {"docker.io": ["http://host:port"]}}' });
    }
    if (Array.isArray(parsed.insecure)) config.insecure.push(...parsed.insecure.filter((entry): entry is string => typeof entry === 'string'));
    if (parsed.mirrors && typeof parsed.mirrors === 'object') {
      for (const [registry, urls] of Object.entries(parsed.mirrors as Record<string, unknown>)) {
        if (Array.isArray(urls)) config.mirrors[canonicalRegistry(registry)] = urls.filter((url): url is string => typeof url === 'string');
      }
    }
  }
  for (const entry of (env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean)) config.insecure.push(entry);
  for (const entry of (env.BERTH_REGISTRY_MIRRORS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const registry = eq > 0 && !entry.slice(0, eq).includes('/') ? canonicalRegistry(entry.slice(0, eq)) : dockerHubDomain;
    const url = eq > 0 && !entry.slice(0, eq).includes('/') ? entry.slice(eq + 1) : entry;
    (config.mirrors[registry] ??= []).unshift(url);
  }
  return config;
}

function canonicalRegistry(registry: string): string {
  const host = registry.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === dockerHubApiHost ? dockerHubDomain : host;
}

/** The host without its port: `[::1]:5000` → `::1`, `localhost:5000` → `localhost`. */
export function hostOnly(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 && registry.indexOf(':') === colon ? registry.slice(0, colon) : registry;
}

/** True for registries reached over plain HTTP: loopback ones and those listed as insecure. */
export function isInsecureRegistry(registry: string, config: RegistryConfig): boolean {
  const host = hostOnly(registry);
  if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  return config.insecure.some((entry) => canonicalRegistry(entry) === registry || canonicalRegistry(entry) === host);
}

/** One place to fetch from: base URL (`https://host:port`) and which registry name it serves. */
export interface RegistryEndpoint {
  url: URL;
  /** The host the credentials are looked up for. */
  host: string;
  mirror: boolean;
}

function endpointUrl(raw: string, config: RegistryConfig): URL {
  const withScheme = /^[a-z]+:\/\//.test(raw) ? raw : `${isInsecureRegistry(raw.replace(/\/.*$/, ''), config) ? 'http' : 'https'}://${raw}`;
  const url = new URL(withScheme);
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  return url;
}

/** Endpoints for `registry`, in order: mirrors (pulls only), then the registry itself. */
export function registryEndpoints(registry: string, config: RegistryConfig, purpose: 'pull' | 'push'): RegistryEndpoint[] {
  const endpoints: RegistryEndpoint[] = [];
  if (purpose === 'pull') {
    for (const mirror of config.mirrors[registry] ?? []) {
      const url = endpointUrl(mirror, config);
      endpoints.push({ url, host: url.host, mirror: true });
    }
  }
  const apiHost = registry === dockerHubDomain ? dockerHubApiHost : registry;
  endpoints.push({ url: endpointUrl(apiHost, config), host: registry, mirror: false });
  return endpoints;
}
