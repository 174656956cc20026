/**
 * The short syntax of `ports` (`[[IP:]HOST:]CONTAINER[/PROTOCOL]`, with ranges), parsed into the
 * long syntax. Validation uses it to report bad strings; the normalizer reuses it to expand them.
 */
import { ipVersion } from '../../ip.js';

/** One published port in the Compose long syntax, the shape `berth config` prints. */
export interface PortSpec {
  mode: 'ingress';
  host_ip?: string;
  target: number;
  /** Host port or host range (`"8000-8010"`); absent when the host port is chosen at random. */
  published?: string;
  protocol: string;
}

const protocols = new Set(['tcp', 'udp', 'sctp']);

interface PortRange {
  start: number;
  end: number;
}

function parseRange(text: string, what: string, minPort: number): PortRange {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) throw new Error(`${what} "${text}" is not a port number or range`);
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  for (const port of [start, end]) {
    if (port < minPort || port > 65535) throw new Error(`${what} ${port} is out of range ${minPort}-65535`);
  }
  if (end < start) throw new Error(`${what} range "${text}" ends before it starts`);
  return { start, end };
}

/** Splits `IP:HOST:CONTAINER` into parts, keeping IPv6 addresses (bracketed or not) whole. */
function splitParts(text: string): { hostIp?: string; host?: string; container: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') throw new Error('unclosed "[" around the host IP address');
    const rest = text.slice(close + 2).split(':');
    if (rest.length !== 2) throw new Error('expected "[IP]:HOST:CONTAINER"');
    return { hostIp: text.slice(1, close), host: rest[0], container: rest[1] };
  }
  const parts = text.split(':');
  if (parts.length === 1) return { container: parts[0] };
  if (parts.length === 2) return { host: parts[0], container: parts[1] };
  if (parts.length === 3) return { hostIp: parts[0], host: parts[1], container: parts[2] };
  // More colons: only an unbracketed IPv6 address can explain them.
  const hostIp = parts.slice(0, -2).join(':');
  if (ipVersion(hostIp) !== 6) throw new Error('too many ":" separators; use "[IP:]HOST:CONTAINER"');
  return { hostIp, host: parts[parts.length - 2], container: parts[parts.length - 1] };
}

/**
 * Parses one short-syntax port (`"8080:80"`, `"127.0.0.1:53:53/udp"`, `"9090-9091:8080-8081"`, `3000`)
 * into long-syntax entries, one per container port. Throws an Error whose message explains the problem.
 */
export function parsePortSpec(spec: string | number): PortSpec[] {
  const text = String(spec).trim();
  // Fast path for the common "HOST:CONTAINER" and "CONTAINER" forms: projects list thousands.
  const simple = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(text);
  if (simple) {
    const target = Number(simple[2]);
    const host = simple[1] === undefined ? undefined : Number(simple[1]);
    if (target >= 1 && target <= 65535 && (host === undefined || host <= 65535)) {
      return [host === undefined ? { mode: 'ingress', target, protocol: 'tcp' } : { mode: 'ingress', target, published: String(host), protocol: 'tcp' }];
    }
  }
  if (text === '') throw new Error('the port is empty');
  let protocol = 'tcp';
  let body = text;
  const slash = text.lastIndexOf('/');
  if (slash >= 0) {
    protocol = text.slice(slash + 1).toLowerCase();
    body = text.slice(0, slash);
    if (!protocols.has(protocol)) throw new Error(`unknown protocol "${text.slice(slash + 1)}"; use "tcp", "udp" or "sctp"`);
  }
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && protocols.has(body.slice(lastColon + 1).toLowerCase())) {
    throw new Error(`the protocol follows "/", not ":" (write "${body.slice(0, lastColon)}/${body.slice(lastColon + 1)}")`);
  }
  const parts = splitParts(body);
  if (parts.hostIp !== undefined && parts.hostIp !== '' && ipVersion(parts.hostIp) === 0) {
    throw new Error(`host IP "${parts.hostIp}" is not an IP address`);
  }
  if (parts.container === '') throw new Error('the container port is empty');
  const container = parseRange(parts.container, 'container port', 1);
  const host = parts.host === undefined || parts.host === '' ? undefined : parseRange(parts.host, 'host port', 0);
  const containerCount = container.end - container.start + 1;
  const base = { mode: 'ingress' as const, ...(parts.hostIp ? { host_ip: parts.hostIp } : {}) };
  if (containerCount === 1) {
    const published = host === undefined ? undefined : host.start === host.end ? String(host.start) : `${host.start}-${host.end}`;
    return [{ ...base, target: container.start, ...(published === undefined ? {} : { published }), protocol }];
  }
  if (host !== undefined && host.end - host.start + 1 !== containerCount) {
    throw new Error(`host range ${host.start}-${host.end} and container range ${container.start}-${container.end} differ in size`);
  }
  const specs: PortSpec[] = [];
  for (let offset = 0; offset < containerCount; offset++) {
    const published = host === undefined ? undefined : String(host.start + offset);
    specs.push({ ...base, target: container.start + offset, ...(published === undefined ? {} : { published }), protocol });
  }
  return specs;
}

/** Checks an `expose` entry (`"3000"`, `"3000-3005"`, `"53/udp"`); throws an Error explaining the problem. */
export function parseExposeSpec(spec: string | number): { start: number; end: number; protocol: string } {
  const text = String(spec).trim();
  const [ports, protocolText] = text.split('/', 2);
  const protocol = (protocolText ?? 'tcp').toLowerCase();
  if (!protocols.has(protocol)) throw new Error(`unknown protocol "${protocolText}"; use "tcp", "udp" or "sctp"`);
  const range = parseRange(ports, 'port', 1);
  return { ...range, protocol };
}
