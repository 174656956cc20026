/**
 * The DNS server on its own: it reads membership from state files (no namespaces needed, so it
 * listens on 127.0.0.1 with a test port and the "asking container" is 127.0.0.1), answers A for
 * names on the asker's networks with all replicas rotated, NXDOMAIN for unknown single labels,
 * forwards other names to a fake upstream on 127.0.0.1, SERVFAIL when the upstream is down,
 * answers over TCP, and follows state changes and stopped containers without a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDnsServer } from '../../src/network/index.js';
import { buildQuery, buildResponse, parseQuery, parseResponse, QTYPE, RCODE } from '../../src/network/dns/wire.js';
import type { EndpointState, NetworkState } from '../../src/network/state.js';

function endpoint(id: string, service: string, ipv4: string, aliases: string[] = []): EndpointState {
  return { containerId: id, containerName: id, project: 'p', service, hostname: id, ipv4, mac: '02:42:00:00:00:00', aliases: [service, id, ...aliases], hostIf: 'vbx' };
}

function network(name: string, gateway: string, endpoints: EndpointState[]): NetworkState {
  return {
    name, key: name, project: 'p', id: '000000000000', driver: 'bridge', bridge: 'br-x', subnet: '10.99.0.0/24', gateway, internal: false, mtu: 1500,
    labels: {}, created: '', reserved: [], endpoints: Object.fromEntries(endpoints.map((e) => [e.containerId, e])),
  };
}

async function freePort(type: 'udp4' | 'tcp'): Promise<number> {
  if (type === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  s.close();
  return port;
}

async function ask(port: number, name: string, qtype: number = QTYPE.A): Promise<{ rcode: number; addresses: string[] }> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer for ${name}`)), 5000);
      socket.on('message', (m) => { clearTimeout(timer); const { rcode, addresses } = parseResponse(m); resolve({ rcode, addresses }); });
      socket.bind(0, '127.0.0.1', () => socket.send(buildQuery(7, name, qtype), port, '127.0.0.1'));
    });
  } finally {
    socket.close();
  }
}

test('dns server: names from state files, replicas, NXDOMAIN, forwarding, SERVFAIL, TCP, live updates', async (t) => {
  const root = mkdtempSync('/tmp/berth-dns-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'networks');
  mkdirSync(path.join(dir, 'containers'), { recursive: true });
  const write = (state: NetworkState) => writeFileSync(path.join(dir, `${state.name}.json`), JSON.stringify(state));
  write(network('p_front', '127.0.0.1', [endpoint('asker', 'client', '127.0.0.1'), endpoint('p-web-1', 'web', '10.99.0.2', ['www']), endpoint('p-web-2', 'web', '10.99.0.3', ['www'])]));
  write(network('p_back', '127.0.0.2', [endpoint('p-db-1', 'db', '10.98.0.2')]));

  // A fake upstream on 127.0.0.1 that answers every query with 198.51.100.7 (tests never ask outside resolvers).
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', (m, r) => {
    const q = parseQuery(m)!;
    upstream.send(buildResponse(m, q, RCODE.NOERROR, [{ address: '198.51.100.7' }]), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  t.after(() => upstream.close());
  const upstreamPort = upstream.address().port;

  const port = await freePort('tcp');
  const server = await startDnsServer({ project: 'p', root, port, upstreams: [`127.0.0.1:${upstreamPort}`], rescanMs: 100 });
  t.after(() => server.close());
  assert.ok(server.addresses().includes(`127.0.0.1:${port}`));

  const first = await ask(port, 'web');
  assert.deepEqual([...first.addresses].sort(), ['10.99.0.2', '10.99.0.3']);
  const second = await ask(port, 'WWW');
  assert.deepEqual([...second.addresses].sort(), ['10.99.0.2', '10.99.0.3'], 'aliases, case-insensitive');
  const third = await ask(port, 'web');
  assert.notEqual(third.addresses[0], first.addresses[0], 'replica order rotates');
  assert.deepEqual((await ask(port, 'p-web-2')).addresses, ['10.99.0.3']);
  assert.deepEqual((await ask(port, 'web', QTYPE.AAAA)), { rcode: RCODE.NOERROR, addresses: [] }, 'known name without IPv6: no data, not forwarded');

  assert.equal((await ask(port, 'db')).rcode, RCODE.NXDOMAIN, 'db is on a network the asker is not on');
  assert.deepEqual(await ask(port, 'www.example.test'), { rcode: RCODE.NOERROR, addresses: ['198.51.100.7'] }, 'other names are forwarded');

  // TCP: two-byte length prefix.
  const tcpAnswer = await new Promise<{ rcode: number; addresses: string[] }>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      const q = buildQuery(9, 'web', QTYPE.A);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      socket.write(Buffer.concat([len, q]));
    });
    socket.on('data', (d) => { socket.destroy(); resolve(parseResponse(d.subarray(2))); });
    socket.on('error', reject);
  });
  assert.equal(tcpAnswer.addresses.length, 2);

  // A stopped container drops out; a recreated one (new address) is picked up without a restart.
  const runDir = path.join(root, 'projects', 'p', 'containers', 'p-web-1');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ restartCount: 0, startedAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:01:00Z' }));
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual((await ask(port, 'web')).addresses, ['10.99.0.3']);
  write(network('p_front', '127.0.0.1', [endpoint('asker', 'client', '127.0.0.1'), endpoint('p-web-3', 'web', '10.99.0.9')]));
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual((await ask(port, 'web')).addresses, ['10.99.0.9']);

  // An upstream that is down: SERVFAIL, not silence.
  const deadPort = await freePort('udp4');
  const lonely = await startDnsServer({ project: 'p', root, port: await freePort('tcp'), upstreams: [`127.0.0.1:${deadPort}`] });
  t.after(() => lonely.close());
  const lonelyPort = Number(lonely.addresses()[0].split(':')[1]);
  assert.equal((await ask(lonelyPort, 'www.example.test')).rcode, RCODE.SERVFAIL);
});
