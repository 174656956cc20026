/**
 * Profiles: which services a command works on. A service without `profiles` is always enabled,
 * `*` enables all, and services named on the command line enable their profiles.
 */
import { GraphError, UsageError } from '../errors.js';
import { namesHint } from './did-you-mean.js';
import type { Project, Service, ServiceDependency } from './types.js';

/** Options of withProfiles(). */
export interface ProfileOptions {
  /** Services named on the command line (`berth up web`): enabled whatever their profiles. */
  servicesNamed?: readonly string[];
}

function isEnabled(service: Service, active: ReadonlySet<string>): boolean {
  const profiles = service.profiles ?? [];
  return profiles.length === 0 || active.has('*') || profiles.some((profile) => active.has(profile));
}

/**
 * Derives the project with `profiles` active. A required dependency on a disabled service is
 * an error; an optional one (`required: false`) is dropped so the dependent can start alone.
 */
export function withProfiles(project: Project, profiles: readonly string[], options: ProfileOptions = {}): Project {
  const all = new Map<string, Service>([...project.services, ...project.disabledServices].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const active = new Set(profiles.filter((profile) => profile !== ''));
  for (const serviceName of options.servicesNamed ?? []) {
    for (const profile of all.get(serviceName)?.profiles ?? []) active.add(profile);
  }
  const named = new Set(options.servicesNamed ?? []);
  const enabled = new Map<string, Service>();
  const disabled = new Map<string, Service>();
  for (const [name, service] of all) (isEnabled(service, active) || named.has(name) ? enabled : disabled).set(name, service);
  for (const [name, service] of enabled) {
    if (!service.depends_on) continue;
    let kept: Record<string, ServiceDependency> | undefined;
    for (const [dependency, entry] of Object.entries(service.depends_on)) {
      const target = disabled.get(dependency);
      if (!target) continue;
      if (entry.required) {
        const needed = (target.profiles ?? []).map((profile) => `--profile ${profile}`).join(' or ');
        throw new GraphError(`service "${name}" depends on service "${dependency}", which is not enabled by the active profiles`, {
          source: project.sourceOf(['services', name, 'depends_on', dependency]) ?? service.source,
          hint: `enable it with ${needed || `"berth ... ${dependency}"`}, or mark the dependency "required: false"`,
        });
      }
      kept ??= { ...service.depends_on };
      delete kept[dependency];
    }
    if (kept) {
      const { depends_on: _dropped, ...rest } = service;
      enabled.set(name, (Object.keys(kept).length > 0 ? { ...rest, depends_on: kept } : rest) as Service);
    }
  }
  return { ...project, services: enabled, disabledServices: disabled, activeProfiles: [...active].sort() };
}

/**
 * Derives the project with only `serviceNames` and what they depend on (transitively), as
 * `berth config web` and `berth up web` work on. An empty list keeps every service.
 */
export function withSelectedServices(project: Project, serviceNames: readonly string[]): Project {
  if (serviceNames.length === 0) return project;
  const keep = new Set<string>();
  const visit = (name: string): void => {
    if (keep.has(name)) return;
    const service = project.services.get(name);
    if (!service) return; // an unknown dependency is reported by the graph check
    keep.add(name);
    for (const dependency of Object.keys(service.depends_on ?? {})) visit(dependency);
  };
  for (const name of serviceNames) {
    if (!project.services.has(name)) {
      throw new UsageError(`no such service: "${name}"`, { hint: namesHint('services', name, [...project.services.keys(), ...project.disabledServices.keys()]) });
    }
    visit(name);
  }
  return { ...project, services: new Map([...project.services].filter(([name]) => keep.has(name))) };
}
