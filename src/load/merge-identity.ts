/**
 * The identities Compose merges list entries by: a port by host ip, published port, target
 * and protocol; a volume, secret or config by the path it is mounted at; key=value lists by
 * key. Only as much of each short syntax is parsed as the identity needs.
 */
import { isMapping } from './source-meta.js';

/** Parts of a port entry (short `[ip:][published:]target[/protocol]` or long form). */
export interface PortIdentity {
  hostIp: string;
  published: string;
  target: string;
  protocol: string;
}

/** Parses the identity fields of a `ports` entry. */
export function parsePortIdentity(entry: unknown): PortIdentity {
  if (isMapping(entry)) {
    return {
      hostIp: String(entry.host_ip ?? ''),
      published: String(entry.published ?? ''),
      target: String(entry.target ?? ''),
      protocol: String(entry.protocol ?? 'tcp'),
    };
  }
  let text = String(entry);
  let protocol = 'tcp';
  const slash = text.lastIndexOf('/');
  if (slash >= 0) {
    protocol = text.slice(slash + 1);
    text = text.slice(0, slash);
  }
  let hostIp = '';
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    hostIp = text.slice(1, close);
    text = text.slice(close + 2);
  }
  const parts = text.split(':');
  if (parts.length === 1) return { hostIp, published: '', target: parts[0], protocol };
  if (parts.length === 2) return { hostIp, published: parts[0], target: parts[1], protocol };
  // More colons than ip:published:target: an IPv6 address written without brackets.
  return { hostIp: parts.slice(0, -2).join(':'), published: parts[parts.length - 2], target: parts[parts.length - 1], protocol };
}

/** Merge identity of a `ports` entry. */
export function portKey(entry: unknown): string {
  const port = parsePortIdentity(entry);
  return `${port.hostIp}|${port.published}|${port.target}|${port.protocol}`;
}

/** Container path of a `volumes` entry (`src:dst[:mode]`, `dst`, or long form `target`). */
export function volumeTarget(entry: unknown): string {
  if (isMapping(entry)) return String(entry.target ?? '');
  const parts = String(entry).split(':');
  return parts.length === 1 ? parts[0] : parts[1];
}

/** Source of a short-syntax volume (`undefined` for an anonymous volume). */
export function volumeSource(entry: string): string | undefined {
  const parts = entry.split(':');
  return parts.length === 1 ? undefined : parts[0];
}

/** Mount path of a `secrets` or `configs` entry; secrets default under /run/secrets, configs under /. */
export function mountTarget(entry: unknown, kind: 'secrets' | 'configs'): string {
  const base = kind === 'secrets' ? '/run/secrets/' : '/';
  if (isMapping(entry)) {
    const target = entry.target === undefined || entry.target === null ? String(entry.source ?? '') : String(entry.target);
    return target.startsWith('/') ? target : base + target;
  }
  return base + String(entry);
}

/** Splits a `KEY=VALUE` list entry (`KEY` alone has value null); `separators` lists accepted separators. */
export function splitKeyValue(entry: unknown, separators = '='): [string, unknown] {
  const text = String(entry);
  let at = -1;
  for (const separator of separators) {
    const index = text.indexOf(separator);
    if (index >= 0 && (at < 0 || index < at)) at = index;
  }
  return at < 0 ? [text, null] : [text.slice(0, at), text.slice(at + 1)];
}

/** Path of an `env_file` entry (string or long form). */
export function envFilePath(entry: unknown): string {
  return isMapping(entry) ? String(entry.path ?? '') : String(entry);
}
