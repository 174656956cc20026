/**
 * Cross-reference checks: every name a service uses (services, networks, volumes, secrets,
 * configs, models) must be defined. Each undefined name gets the list of defined ones and a
 * did-you-mean guess in its hint.
 */
import { CheckContext, isMapping, type KeyPath, type Mapping } from './context.js';
import { didYouMean, quoteList } from './did-you-mean.js';
import { isHostPath } from './syntax/index.js';

/** A name still holding `${VAR}` (loaded with --no-interpolate) cannot be looked up yet. */
function unresolved(name: string): boolean {
  return name.includes('$');
}

/** The hint for an undefined name: what is defined, and the closest match. */
function definedHint(kind: string, defined: string[], name: string, declareIn?: string): string {
  const guess = didYouMean(name, defined);
  const list = defined.length === 0
    ? declareIn
      ? `no ${kind}s are defined; declare "${name}" under the top-level "${declareIn}" key`
      : `no other ${kind}s are defined`
    : `defined ${kind}s are ${quoteList([...defined].sort())}`;
  return guess ? `${list}; did you mean "${guess}"?` : list;
}

/** `depends_on`, `links`, `volumes_from`, `extends` and `service:` modes must name defined services. */
function checkServiceReferences(context: CheckContext, serviceNames: string[]): void {
  const known = new Set(serviceNames);
  const undefinedService = (path: KeyPath, serviceName: string, verb: string, target: string): void => {
    if (unresolved(target)) return;
    // The referring service is left out: it cannot be the answer.
    const others = serviceNames.filter((name) => name !== serviceName);
    context.report(path, `service "${serviceName}" ${verb} undefined service "${target}"`, definedHint('service', others, target));
  };
  for (const [serviceName, service] of context.services()) {
    const base: KeyPath = ['services', serviceName];
    const dependsOn = service.depends_on;
    if (Array.isArray(dependsOn)) {
      dependsOn.forEach((target, index) => {
        if (typeof target === 'string' && !known.has(target)) undefinedService([...base, 'depends_on', index], serviceName, 'depends on', target);
      });
    } else if (isMapping(dependsOn)) {
      for (const [target, options] of Object.entries(dependsOn)) {
        // `required: false` makes a missing dependency a warning in Compose, not an error.
        const optional = isMapping(options) && (options.required === false || options.required === 'false');
        if (!known.has(target) && !optional) undefinedService([...base, 'depends_on', target], serviceName, 'depends on', target);
      }
    }
    if (Array.isArray(service.links)) {
      service.links.forEach((link, index) => {
        if (typeof link !== 'string') return;
        const target = link.split(':')[0];
        if (!known.has(target)) undefinedService([...base, 'links', index], serviceName, 'links to', target);
      });
    }
    if (Array.isArray(service.volumes_from)) {
      service.volumes_from.forEach((entry, index) => {
        if (typeof entry !== 'string' || entry.startsWith('container:')) return;
        const [target, mode] = entry.split(':');
        if (!known.has(target)) undefinedService([...base, 'volumes_from', index], serviceName, 'mounts volumes from', target);
        else if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
          context.report([...base, 'volumes_from', index], `service "${serviceName}" has invalid volumes_from mode "${mode}"`, 'use "ro" or "rw"');
        }
      });
    }
    for (const key of ['network_mode', 'pid', 'ipc'] as const) {
      const value = service[key];
      if (typeof value !== 'string' || !value.startsWith('service:')) continue;
      const target = value.slice('service:'.length);
      if (target === serviceName) context.report([...base, key], `service "${serviceName}" cannot use its own ${key} ("${value}")`);
      else if (!known.has(target)) undefinedService([...base, key], serviceName, `uses the ${key} of`, target);
    }
    const extendsValue = service.extends;
    const extended = typeof extendsValue === 'string' ? { service: extendsValue } : isMapping(extendsValue) ? extendsValue : undefined;
    if (extended && typeof extended.service === 'string' && extended.file === undefined) {
      if (extended.service === serviceName) context.report([...base, 'extends'], `service "${serviceName}" extends itself`, 'name another service, or a service in another file with "file"');
      else if (!known.has(extended.service)) undefinedService([...base, 'extends'], serviceName, 'extends', extended.service);
    }
  }
}

/** Service networks must be declared at the top level ("default" always exists). */
function checkNetworks(context: CheckContext): void {
  const defined = Object.keys(context.section('networks'));
  const known = new Set([...defined, 'default']);
  for (const [serviceName, service] of context.services()) {
    const networks = service.networks;
    const entries: [string, KeyPath][] = Array.isArray(networks)
      ? networks.flatMap((name, index) => (typeof name === 'string' ? [[name, ['services', serviceName, 'networks', index]] as [string, KeyPath]] : []))
      : isMapping(networks)
        ? Object.keys(networks).map((name) => [name, ['services', serviceName, 'networks', name]] as [string, KeyPath])
        : [];
    for (const [name, path] of entries) {
      if (!known.has(name) && !unresolved(name)) context.report(path, `service "${serviceName}" uses undefined network "${name}"`, definedHint('network', defined, name, 'networks'));
    }
    if (networks !== undefined && typeof service.network_mode === 'string' && entries.length > 0) {
      context.report(['services', serviceName, 'network_mode'], `service "${serviceName}" sets both "network_mode" and "networks"`, 'they exclude each other: keep one of them');
    }
  }
}

/** The named-volume source of one service mount, or undefined for binds, anonymous volumes, tmpfs. */
function namedVolume(context: CheckContext, entry: unknown): string | undefined {
  if (typeof entry === 'string') {
    const spec = context.volumeSpec(entry);
    // A malformed string is reported by the value checks.
    return spec instanceof Error || spec.type !== 'volume' ? undefined : spec.source;
  }
  if (isMapping(entry) && entry.type === 'volume' && typeof entry.source === 'string' && entry.source !== '' && !isHostPath(entry.source)) return entry.source;
  return undefined;
}

/** Named volumes, secrets, configs and models must be declared at the top level. */
function checkDeclaredResources(context: CheckContext): void {
  const volumes = Object.keys(context.section('volumes'));
  const secrets = Object.keys(context.section('secrets'));
  const configs = Object.keys(context.section('configs'));
  const models = Object.keys(context.section('models'));
  for (const [serviceName, service] of context.services()) {
    const base: KeyPath = ['services', serviceName];
    if (Array.isArray(service.volumes)) {
      service.volumes.forEach((entry, index) => {
        const name = namedVolume(context, entry);
        if (name !== undefined && !volumes.includes(name) && !unresolved(name)) {
          context.report([...base, 'volumes', index], `service "${serviceName}" uses undefined volume "${name}"`, definedHint('volume', volumes, name, 'volumes'));
        }
      });
    }
    const fileRefs = (key: 'secrets' | 'configs', defined: string[], kind: string, owner: Mapping, ownerPath: KeyPath): void => {
      const list = owner[key];
      if (!Array.isArray(list)) return;
      list.forEach((entry, index) => {
        const name = typeof entry === 'string' ? entry : isMapping(entry) && typeof entry.source === 'string' ? entry.source : undefined;
        if (name !== undefined && !defined.includes(name) && !unresolved(name)) {
          context.report([...ownerPath, key, index], `service "${serviceName}" uses undefined ${kind} "${name}"`, definedHint(kind, defined, name, key));
        }
      });
    };
    fileRefs('secrets', secrets, 'secret', service, base);
    fileRefs('configs', configs, 'config', service, base);
    if (isMapping(service.build)) fileRefs('secrets', secrets, 'secret', service.build, [...base, 'build']);
    const serviceModels = service.models;
    const modelNames: [string, KeyPath][] = Array.isArray(serviceModels)
      ? serviceModels.flatMap((name, index) => (typeof name === 'string' ? [[name, [...base, 'models', index]] as [string, KeyPath]] : []))
      : isMapping(serviceModels)
        ? Object.keys(serviceModels).map((name) => [name, [...base, 'models', name]] as [string, KeyPath])
        : [];
    for (const [name, path] of modelNames) {
      if (!models.includes(name) && !unresolved(name)) context.report(path, `service "${serviceName}" uses undefined model "${name}"`, definedHint('model', models, name, 'models'));
    }
  }
}

/** Runs every cross-reference check. */
export function checkReferences(context: CheckContext): void {
  const serviceNames = Object.keys(context.section('services'));
  checkServiceReferences(context, serviceNames);
  checkNetworks(context);
  checkDeclaredResources(context);
}
