/**
 * `depends_on` in long form, plus the dependencies compose implies: `links`, `network_mode`,
 * `ipc`, `pid`, `uts`, `cgroup` set to `service:X`, and `volumes_from` another service.
 */
import type { DependencyCondition, ServiceDependency } from './types.js';
import { attributeError, isMapping, type NormalizeContext } from './context.js';

const conditions = new Set<DependencyCondition>(['service_started', 'service_healthy', 'service_completed_successfully']);

/** Normalizes the `depends_on` list or map as written. */
export function normalizeDependsOn(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): Record<string, ServiceDependency> {
  const result: Record<string, ServiceDependency> = {};
  if (Array.isArray(value)) {
    for (const name of value) result[String(name)] = { condition: 'service_started', required: true };
    return result;
  }
  if (!isMapping(value)) throw attributeError(context, keyPath, 'depends_on must be a list of service names or a mapping');
  for (const [name, entry] of Object.entries(value)) {
    const options = isMapping(entry) ? entry : {};
    const condition = (options.condition ?? 'service_started') as DependencyCondition;
    if (!conditions.has(condition)) {
      throw attributeError(context, [...keyPath, name, 'condition'], `unknown depends_on condition "${String(condition)}"`, 'use service_started, service_healthy or service_completed_successfully');
    }
    const { condition: _c, restart, required, ...extensions } = options;
    result[name] = {
      condition,
      ...(restart === true ? { restart: true } : {}),
      required: required === undefined ? true : Boolean(required),
      ...extensions,
    };
  }
  return result;
}

/**
 * Adds the dependencies implied by other attributes, where `depends_on` does not already name
 * the service: compose starts a linked or namespace-sharing service first, and restarts the
 * dependent when it is recreated (hence `restart: true`, except for volumes_from).
 */
export function addImpliedDependencies(raw: Record<string, unknown>, dependsOn: Record<string, ServiceDependency>): Record<string, ServiceDependency> {
  const result = { ...dependsOn };
  const add = (name: string, restart: boolean): void => {
    if (name !== '' && !(name in result)) result[name] = { condition: 'service_started', ...(restart ? { restart: true } : {}), required: true };
  };
  if (Array.isArray(raw.links)) for (const link of raw.links) add(String(link).split(':')[0], true);
  for (const key of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup']) {
    const mode = raw[key];
    if (typeof mode === 'string' && mode.startsWith('service:')) add(mode.slice('service:'.length), true);
  }
  if (Array.isArray(raw.volumes_from)) {
    for (const entry of raw.volumes_from) {
      const text = String(entry);
      if (text.startsWith('container:')) continue;
      add((text.startsWith('service:') ? text.slice('service:'.length) : text).split(':')[0], false);
    }
  }
  return result;
}
