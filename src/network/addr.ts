/** IPv4/IPv6 address and CIDR arithmetic on bigints: parse, format, contains, overlap, nth host. */
import { ipVersion } from '../ip.js';

/** A parsed prefix: family, network address (as a number), prefix length. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

/** Parses an IPv4 or IPv6 address into a bigint; throws on anything else. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } {
  const version = ipVersion(text);
  if (version === 4) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (version === 6) {
    // A zone (fe80::1%eth0) names an interface, not part of the address.
    const address = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
    let head = address;
    let v4tail: bigint | undefined;
    const lastColon = address.lastIndexOf(':');
    if (address.includes('.')) {
      v4tail = parseAddress(address.slice(lastColon + 1)).value;
      head = address.slice(0, lastColon + 1) + '0:0';
    }
    const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
    const l = left ? left.split(':') : [];
    const r = right === undefined ? [] : right ? right.split(':') : [];
    const fill = right === undefined ? [] : new Array(8 - l.length - r.length).fill('0');
    const groups = [...l, ...fill, ...r];
    let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
    if (v4tail !== undefined) value = (value & ~0xffffffffn) | v4tail;
    return { family: 6, value };
  }
  throw new Error(`"${text}" is not an IP address`);
}

/** Formats a bigint address of a family as text (IPv6 compressed). */
export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Total bits of a family's addresses. */
export function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** Parses `a.b.c.d/n` (or an IPv6 prefix); the host part is cleared. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`"${text}" is not a subnet (expected address/prefix-length)`);
  const { family, value } = parseAddress(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^\d+$/.test(bitsText) || bits > familyBits(family)) throw new Error(`"${text}" has an invalid prefix length`);
  return { family, base: value & prefixMask(family, bits), bits };
}

function prefixMask(family: 4 | 6, bits: number): bigint {
  const total = BigInt(familyBits(family));
  const all = (1n << total) - 1n;
  return bits === 0 ? 0n : (all >> (total - BigInt(bits))) << (total - BigInt(bits));
}

/** Formats a prefix as `address/bits`. */
export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.family, cidr.base)}/${cidr.bits}`;
}

/** Number of addresses in a prefix. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(familyBits(cidr.family) - cidr.bits);
}

/** True when `address` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  let parsed;
  try { parsed = parseAddress(address); } catch { return false; }
  return parsed.family === cidr.family && (parsed.value & prefixMask(cidr.family, cidr.bits)) === cidr.base;
}

/** True when two prefixes share any address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  const mask = prefixMask(a.family, bits);
  return (a.base & mask) === (b.base & mask);
}

/** The `n`th address of a prefix as text (0 is the network address). */
export function nthAddress(cidr: Cidr, n: bigint): string {
  return formatAddress(cidr.family, cidr.base + n);
}

/** Offset of `address` inside `cidr`. */
export function addressOffset(cidr: Cidr, address: string): bigint {
  return parseAddress(address).value - cidr.base;
}
