/**
 * What a container can reach on the host. berth sets route_localnet on its bridges so published
 * ports work at 127.0.0.1; without a guard, that also lets a container hand the host packets for
 * 127.0.0.0/8 (or from it) and reach services bound to the host's loopback (the CVE-2020-8558
 * class). The test plays the attacker with root in the container's namespace: it routes
 * 127.0.0.1 (and ::1) through the container's eth0 to the gateway, then tries the host's
 * loopback listeners the test itself opened. Traffic goes only to 127.0.0.0/8, ::1 and the
 * bridge the test made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { listNetworks, readNetwork } from '../../src/network/index.js';
import { projectTable } from '../../src/network/firewall.js';
import { writeNetwork } from '../../src/network/state.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { haveNetTools, httpGet, makeNetRig } from './rig.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime not built' : !haveNetTools() ? 'needs ip and nft' : undefined;

const web = ['/bin/sh', '-c', 'mkdir -p /tmp/www && echo app-ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'];

/** A TCP listener of the test that counts the connections it accepts and greets them. */
async function listener(host: string): Promise<{ port: number; accepted: () => number; close: () => void }> {
  let accepted = 0;
  const server = net.createServer((socket) => { accepted++; socket.end('host-secret\n'); });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted, close: () => server.close() };
}

/** Runs a node script as root inside a network namespace (the test acting as the container). */
function nodeInNetns(ns: string, script: string, timeoutMs = 10_000): string {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8', timeout: timeoutMs });
  } catch (err) {
    return `${(err as { stdout?: string }).stdout ?? ''}error: ${(err as Error).message.split('\n')[0]}`;
  }
}

test('a container cannot reach the host\'s loopback through its bridge; published 127.0.0.1 ports still work', { skip, timeout: 90_000 }, async (t) => {
  const rig = await makeNetRig();
  t.after(() => rig.close());
  const name = `netsec${process.pid}`;
  const project = await rig.load(name, `services:\n  app:\n    image: berth-test/busybox:latest\n    ports: ["127.0.0.1::8080"]\nnetworks:\n  default:\n    enable_ipv6: true\n`);
  const app = await rig.run(project, 'app', 1, web);
  const bridge = listNetworks(rig.root.root).find((n) => n.name === `${name}_default`)!;
  const ns = `berth-${app.id}`;
  const ipn = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });

  // The attacker's setup: accept loopback addresses on eth0 and route the host's loopback through
  // the gateway (the container's own lo stays reachable for everything else).
  execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet; echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet']);
  ipn('rule', 'add', 'pref', '10', 'to', '127.0.0.1/32', 'lookup', '100');
  ipn('route', 'add', '127.0.0.1/32', 'via', bridge.gateway, 'dev', 'eth0', 'table', '100');
  ipn('-6', 'rule', 'add', 'pref', '10', 'to', '::1/128', 'lookup', '100');
  ipn('-6', 'route', 'add', '::1/128', 'via', bridge.gateway6!, 'dev', 'eth0', 'table', '100');
  for (const family of ['-4', '-6']) {
    ipn(family, 'rule', 'del', 'pref', '0', 'lookup', 'local');
    ipn(family, 'rule', 'add', 'pref', '100', 'lookup', 'local');
  }
  assert.match(ipn('route', 'get', '127.0.0.1'), new RegExp(`via ${bridge.gateway.replace(/\./g, '\\.')} dev eth0`), 'the container sends 127.0.0.1 to the gateway');

  await t.test('route_localnet is on (needed for published ports at 127.0.0.1)', () => {
    assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${bridge.bridge}/route_localnet`, 'utf8').trim(), '1');
  });

  await t.test('a TCP listener on the host\'s 127.0.0.1 is not reachable from the container', async (tt) => {
    const host = await listener('127.0.0.1');
    tt.after(() => host.close());
    const r = await app.sh(`echo hi | nc -w 1 127.0.0.1 ${host.port}`);
    assert.doesNotMatch(r.stdout, /host-secret/);
    assert.equal(host.accepted(), 0, 'the host accepted a connection from the container on 127.0.0.1');
    // The berth path to the host (the gateway, host-gateway) does not lead to loopback-only listeners.
    const viaGateway = await app.sh(`echo hi | nc -w 1 ${bridge.gateway} ${host.port}`);
    assert.doesNotMatch(viaGateway.stdout, /host-secret/);
    assert.equal(host.accepted(), 0);
  });

  await t.test('a TCP listener on the host\'s ::1 is not reachable from the container', async (tt) => {
    const host = await listener('::1');
    tt.after(() => host.close());
    const out = nodeInNetns(ns, `const s=require('net').connect(${host.port},'::1');s.setTimeout(1000,()=>{console.log('timeout');process.exit(0)});s.on('data',d=>{process.stdout.write(d);process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`);
    assert.doesNotMatch(out, /host-secret/);
    assert.equal(host.accepted(), 0);
  });

  await t.test('packets from the container with a spoofed 127.0.0.0/8 source do not reach the host', async (tt) => {
    const socket = dgram.createSocket('udp4');
    const received: string[] = [];
    socket.on('message', (m, from) => received.push(`${from.address}:${m.toString()}`));
    await new Promise<void>((resolve) => socket.bind(0, bridge.gateway, () => resolve()));
    tt.after(() => socket.close());
    const port = socket.address().port;
    const out = nodeInNetns(ns, `const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.5',()=>s.send('spoofed',${port},'${bridge.gateway}',(e)=>{console.log(e?e.code:'sent');s.close()}))`);
    assert.match(out, /sent/, 'the container could send the packet');
    // A control packet with the container's real address shows the path itself works.
    const control = nodeInNetns(ns, `const s=require('dgram').createSocket('udp4');s.send('control',${port},'${bridge.gateway}',(e)=>{console.log(e?e.code:'sent');s.close()})`);
    assert.match(control, /sent/);
    const deadline = Date.now() + 3000;
    while (!received.some((r) => r.endsWith(':control')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(received, [`${app.attachment.addresses[0].ipv4}:control`]);
  });

  await t.test('published port at 127.0.0.1 still answers from the host', async () => {
    const published = app.attachment.ports.find((p) => p.hostIp === '127.0.0.1')!;
    assert.equal(await httpGet('127.0.0.1', published.hostPort), 'app-ok\n');
  });

  await t.test('the container still reaches the host at the gateway address (host-gateway)', async (tt) => {
    const host = await listener(bridge.gateway);
    tt.after(() => host.close());
    const r = await app.sh(`echo hi | nc -w 2 ${bridge.gateway} ${host.port}`);
    assert.match(r.stdout, /host-secret/);
  });

  await t.test('a network made before the guard existed gets it on the next ensureNetworks', async () => {
    const table = projectTable(rig.root.root, name);
    const { guarded: _, ...legacy } = readNetwork(rig.root.root, bridge.name)!;
    writeNetwork(rig.root.root, legacy);
    execFileSync('nft', ['delete', 'chain', 'inet', table, 'guard']);
    await rig.provider.ensureNetworks(project, ['default']);
    assert.match(execFileSync('nft', ['list', 'chain', 'inet', table, 'guard'], { encoding: 'utf8' }), new RegExp(`iifname "${bridge.bridge}" ip daddr 127\\.0\\.0\\.0/8 drop`));
    assert.equal(readNetwork(rig.root.root, bridge.name)?.guarded, true);
  });

  await t.test('down leaves nothing', async () => {
    assert.deepEqual(await rig.down(project), { links: [], netns: [], tables: [], networks: [], containers: [] });
  });
});
