/** Service `networks`: list or map into a map; the `default` network when none is named. */
import type { ServiceNetwork } from './types.js';
import { attributeError, isMapping, type NormalizeContext } from './context.js';

/**
 * Normalizes `networks` of one service. A service with neither `networks` nor `network_mode`
 * joins `default`, as compose does.
 */
export function normalizeServiceNetworks(
  context: NormalizeContext,
  keyPath: readonly (string | number)[],
  value: unknown,
  networkMode: unknown,
): Record<string, ServiceNetwork | null> | undefined {
  if (value === undefined || value === null) {
    return networkMode === undefined ? { default: null } : undefined;
  }
  const result: Record<string, ServiceNetwork | null> = {};
  if (Array.isArray(value)) {
    for (const name of value) result[String(name)] = null;
  } else if (isMapping(value)) {
    for (const [name, options] of Object.entries(value)) {
      result[name] = isMapping(options) ? (options as ServiceNetwork) : null;
    }
  } else {
    throw attributeError(context, keyPath, 'networks must be a list of network names or a mapping');
  }
  return result;
}
