/** Drops top-level networks, volumes, secrets and configs no enabled service uses, as compose does. */
import type { Project } from './types.js';

/**
 * The project without unused resources: `up` would not create them, and `config` does not
 * print them, so a profile-disabled service's network does not appear.
 */
export function withoutUnusedResources(project: Project): Project {
  const networks = new Set<string>();
  const volumes = new Set<string>();
  const secrets = new Set<string>();
  const configs = new Set<string>();
  for (const service of project.services.values()) {
    for (const name of Object.keys(service.networks ?? {})) networks.add(name);
    for (const mount of service.volumes ?? []) if (mount.type === 'volume' && mount.source) volumes.add(mount.source);
    for (const secret of service.secrets ?? []) secrets.add(secret.source);
    for (const config of service.configs ?? []) configs.add(config.source);
    const buildSecrets = service.build?.secrets;
    if (Array.isArray(buildSecrets)) {
      for (const secret of buildSecrets) secrets.add(typeof secret === 'string' ? secret : String((secret as { source?: unknown }).source));
    }
  }
  const keep = <T>(map: ReadonlyMap<string, T>, used: Set<string>): Map<string, T> => new Map([...map].filter(([key]) => used.has(key)));
  return {
    ...project,
    networks: keep(project.networks, networks),
    volumes: keep(project.volumes, volumes),
    secrets: keep(project.secrets, secrets),
    configs: keep(project.configs, configs),
  };
}
