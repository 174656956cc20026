/** `healthcheck`: the string form of `test` becomes `["CMD-SHELL", text]`; durations stay as written. */
import type { HealthCheck } from './types.js';
import { attributeError, isMapping, scalarText, type NormalizeContext } from './context.js';

/** Normalizes a service's `healthcheck`. */
export function normalizeHealthcheck(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): HealthCheck {
  if (!isMapping(value)) throw attributeError(context, keyPath, 'healthcheck must be a mapping');
  const result: Record<string, unknown> = { ...value };
  if (typeof value.test === 'string') result.test = ['CMD-SHELL', value.test];
  else if (Array.isArray(value.test)) result.test = value.test.map(scalarText);
  return result as HealthCheck;
}
