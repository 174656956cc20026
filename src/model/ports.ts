/** `ports` and `expose`: short syntax parsed (by validation's parser) and ranges expanded into one long-form entry per port. */
import type { PortConfig } from './types.js';
import { parsePortSpec } from '../validate/syntax/index.js';
import { attributeError, isMapping, scalarText, type NormalizeContext } from './context.js';

/** Normalizes a service's `ports` list into long-form entries. */
export function normalizePorts(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): PortConfig[] {
  if (!Array.isArray(value)) throw attributeError(context, keyPath, 'ports must be a list');
  const result: PortConfig[] = [];
  value.forEach((entry, index) => {
    if (typeof entry === 'string' || typeof entry === 'number') {
      try {
        result.push(...parsePortSpec(entry));
      } catch (error) {
        throw attributeError(context, [...keyPath, index], `invalid port "${entry}": ${(error as Error).message}`, 'use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "8080:80"');
      }
      return;
    }
    if (!isMapping(entry)) throw attributeError(context, [...keyPath, index], 'a port must be a string, a number or a mapping');
    const target = Number(entry.target);
    if (!Number.isInteger(target)) throw attributeError(context, [...keyPath, index], `invalid target port ${JSON.stringify(entry.target)}`);
    const { name, mode, host_ip, published, protocol, app_protocol, ...extensions } = entry;
    result.push({
      ...(name !== undefined ? { name: scalarText(name) } : {}),
      mode: mode === undefined ? 'ingress' : scalarText(mode),
      ...(host_ip !== undefined ? { host_ip: scalarText(host_ip) } : {}),
      target,
      ...(published !== undefined && published !== null && published !== '' ? { published: scalarText(published) } : {}),
      protocol: protocol === undefined ? 'tcp' : scalarText(protocol),
      ...(app_protocol !== undefined ? { app_protocol: scalarText(app_protocol) } : {}),
      ...extensions,
    });
  });
  return result;
}

/** `expose`: compose prints every entry as a string. */
export function normalizeExpose(value: unknown): string[] {
  return Array.isArray(value) ? value.map(scalarText) : [scalarText(value)];
}
