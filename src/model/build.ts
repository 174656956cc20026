/** `build`: a context string or a mapping, into long form with an absolute context. */
import type { BuildConfig } from './types.js';
import { attributeError, isMapping, resolveHostPath, type NormalizeContext } from './context.js';
import { normalizeExtraHosts, normalizeMapping, normalizeStringMap } from './mappings.js';

/** Remote contexts (git, https) are passed to the builder as written. */
function isRemoteContext(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('git@') || text.startsWith('github.com/');
}

/** Normalizes `build`; `dockerfile` defaults to `Dockerfile` unless `dockerfile_inline` is given. */
export function normalizeBuild(context: NormalizeContext, keyPath: readonly (string | number)[], value: unknown): BuildConfig {
  const raw: Record<string, unknown> = typeof value === 'string' ? { context: value } : isMapping(value) ? { ...value } : {};
  if (typeof value !== 'string' && !isMapping(value)) throw attributeError(context, keyPath, 'build must be a path or a mapping');
  const contextText = typeof raw.context === 'string' ? raw.context : '.';
  const result: Record<string, unknown> = { ...raw, context: isRemoteContext(contextText) ? contextText : resolveHostPath(context, contextText) };
  if (raw.dockerfile === undefined && raw.dockerfile_inline === undefined) result.dockerfile = 'Dockerfile';
  if (raw.args !== undefined) {
    result.args = normalizeMapping(context, [...keyPath, 'args'], raw.args, (name) => context.environment[name] ?? null);
  }
  if (raw.labels !== undefined) result.labels = normalizeStringMap(context, [...keyPath, 'labels'], raw.labels);
  if (raw.extra_hosts !== undefined) result.extra_hosts = normalizeExtraHosts(context, [...keyPath, 'extra_hosts'], raw.extra_hosts);
  if (isMapping(raw.additional_contexts)) {
    const contexts: Record<string, string> = {};
    for (const [name, where] of Object.entries(raw.additional_contexts)) {
      const text = String(where);
      contexts[name] = isRemoteContext(text) || text.includes(':') && !text.startsWith('.') && !text.startsWith('/') ? text : resolveHostPath(context, text);
    }
    result.additional_contexts = contexts;
  }
  return result as BuildConfig;
}
