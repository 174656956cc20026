/**
 * The small part of the DNS wire format (RFC 1035, RFC 3596) the berth resolver needs: read a
 * query's header and first question, write a response with A/AAAA answers or an error code.
 * Everything else is forwarded byte for byte, so nothing more is parsed.
 */

/** Record types berth answers itself. */
export const QTYPE = { A: 1, PTR: 12, AAAA: 28, ANY: 255 } as const;

/** Response codes. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** A parsed query: header fields and the first question. */
export interface DnsQuery {
  id: number;
  flags: number;
  opcode: number;
  /** Question name, lowercase, no trailing dot. */
  name: string;
  qtype: number;
  qclass: number;
  /** Byte offset just after the first question (header + question are echoed in replies). */
  questionEnd: number;
}

/** Parses a query message; returns undefined for anything that is not a well-formed query. */
export function parseQuery(msg: Buffer): DnsQuery | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  const qdcount = msg.readUInt16BE(4);
  if (qdcount < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (let guard = 0; guard < 128; guard++) {
    if (offset >= msg.length) return undefined;
    const len = msg[offset];
    if (len === 0) { offset += 1; break; }
    if ((len & 0xc0) !== 0) return undefined; // no compression in a question we answer
    if (offset + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  if (offset + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    name: labels.join('.').toLowerCase(),
    qtype: msg.readUInt16BE(offset),
    qclass: msg.readUInt16BE(offset + 2),
    questionEnd: offset + 4,
  };
}

/** One answer record: an address (A for IPv4 text, AAAA for IPv6 text) or a PTR name. */
export type DnsAnswer = { address: string } | { ptr: string };

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((label) => {
    const bytes = Buffer.from(label, 'latin1').subarray(0, 63);
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function addressBytes(address: string): Buffer {
  if (!address.includes(':')) return Buffer.from(address.split('.').map(Number));
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return buf;
}

/** Builds a response to `query` (raw `msg`) with `answers` and `rcode`; ttl in seconds. */
export function buildResponse(msg: Buffer, query: DnsQuery, rcode: number, answers: DnsAnswer[] = [], ttl = 5): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  // QR, opcode echoed, AA, RD echoed, RA, rcode.
  const flags = 0x8000 | (query.opcode << 11) | 0x0400 | (query.flags & 0x0100) | 0x0080 | (rcode & 0xf);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const question = msg.subarray(12, query.questionEnd);
  const records = answers.map((answer) => {
    const isPtr = 'ptr' in answer;
    const rdata = isPtr ? encodeName(answer.ptr) : addressBytes(answer.address);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(isPtr ? QTYPE.PTR : rdata.length === 4 ? QTYPE.A : QTYPE.AAAA, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, question, ...records]);
}

/** A minimal error response for a message we could only read the id of. */
export function errorForRaw(msg: Buffer, rcode: number): Buffer | undefined {
  if (msg.length < 2) return undefined;
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, Math.min(12, msg.length));
  header.writeUInt16BE(0x8000 | 0x0080 | (rcode & 0xf), 2);
  header.fill(0, 4, 12);
  return header;
}

/** Builds a query message (used by tests and the forwarder's health checks). */
export function buildQuery(id: number, name: string, qtype: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(qtype, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

/** Reads the rcode and A/AAAA addresses of a response (for tests and tools). */
export function parseResponse(msg: Buffer): { id: number; rcode: number; addresses: string[] } {
  const id = msg.readUInt16BE(0);
  const rcode = msg.readUInt16BE(2) & 0xf;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let offset = 12;
  const skipName = (): void => {
    while (offset < msg.length) {
      const len = msg[offset];
      if (len === 0) { offset += 1; return; }
      if ((len & 0xc0) === 0xc0) { offset += 2; return; }
      offset += 1 + len;
    }
  };
  for (let i = 0; i < qd; i++) { skipName(); offset += 4; }
  const addresses: string[] = [];
  for (let i = 0; i < an && offset < msg.length; i++) {
    skipName();
    const type = msg.readUInt16BE(offset);
    const rdlen = msg.readUInt16BE(offset + 8);
    const rdata = msg.subarray(offset + 10, offset + 10 + rdlen);
    if (type === QTYPE.A) addresses.push([...rdata].join('.'));
    if (type === QTYPE.AAAA) {
      const groups: string[] = [];
      for (let g = 0; g < 8; g++) groups.push(rdata.readUInt16BE(g * 2).toString(16));
      addresses.push(groups.join(':'));
    }
    offset += 10 + rdlen;
  }
  return { id, rcode, addresses };
}
