/**
 * The network layer with real namespaces, driven directly (containers run through
 * RuntimeDriver): two networks and three services, name and alias resolution, isolation,
 * replicas, published TCP/UDP ports, random ports, recreate, service:x sharing, bad input, and
 * a leak check after down. Traffic only goes to 127.0.0.0/8 and to the bridges/namespaces the
 * test made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { createNetworkProvider, findProjectLeaks, listNetworks, startDnsServer } from '../../src/network/index.js';
import { bridgeMac } from '../../src/network/networks.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { haveNetTools, httpGet, makeNetRig, nslookupAddresses, type NetRig, type RigContainer } from './rig.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime not built' : !haveNetTools() ? 'needs ip and nft' : undefined;

const web = (name: string) => ['/bin/sh', '-c', `mkdir -p /tmp/www && echo ${name}-$(hostname)-$(ip -o -4 addr show eth0 | awk '{print $4}') > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www`];

const compose = `
services:
  frontend:
    image: berth-test/busybox:latest
    networks: [front]
    extra_hosts: ["gw.test:host-gateway", "fixed.test:10.1.2.3"]
    dns_search: [example.invalid]
  api:
    image: berth-test/busybox:latest
    hostname: apihost
    networks:
      front:
        aliases: [api-alias]
      back: {}
    ports:
      - "8080"
      - "127.0.0.1:39180-39189:8080"
      - "7000/udp"
  db:
    image: berth-test/busybox:latest
    networks:
      back:
        aliases: [database]
  sidecar:
    image: berth-test/busybox:latest
    network_mode: service:api
networks:
  front: {}
  back:
    internal: true
`;

/** GET http://IP:8080/ from inside `c` with nc (busybox-static's wget crashes without NSS); returns the body. */
async function fetchFrom(c: RigContainer, ip: string, timeoutS = 5): Promise<string> {
  const r = await c.sh(`printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w ${timeoutS} ${ip} 8080`);
  const body = r.stdout.split('\r\n\r\n')[1];
  return body ?? '';
}

/** Resolves NAME inside `c` (nslookup), then fetches http://NAME:8080/. */
async function fetchByName(c: RigContainer, name: string): Promise<string> {
  const ip = (await lookup(c, name))[0];
  return ip ? fetchFrom(c, ip) : '';
}

async function lookup(c: RigContainer, name: string): Promise<string[]> {
  const r = await c.sh(`nslookup ${name} 2>&1`);
  const found = nslookupAddresses(r.stdout).filter((a) => !a.includes(':'));
  return found;
}

test('two networks, three services: names, isolation, replicas, ports, recreate, sharing, cleanup', { skip, timeout: 120_000 }, async (t) => {
  const rig: NetRig = await makeNetRig();
  t.after(() => rig.close());
  const name = `net${process.pid}`;
  const project = await rig.load(name, compose);
  await rig.provider.ensureNetworks(project, ['front', 'back']);
  const [front, back] = [`${name}_front`, `${name}_back`].map((n) => listNetworks(rig.root.root).find((s) => s.name === n)!);
  assert.ok(front && back, 'both networks are recorded');
  const dns = await startDnsServer({ project: name, root: rig.root.root, upstreams: [] });
  t.after(() => dns.close());
  assert.deepEqual(dns.addresses().sort(), [`${front.gateway}:53`, `${back.gateway}:53`].sort());

  const db = await rig.run(project, 'db', 1, web('db'));
  const api1 = await rig.run(project, 'api', 1, web('api'));
  const api2 = await rig.run(project, 'api', 2, web('api'));
  const frontend = await rig.run(project, 'frontend');
  const ipOf = (c: RigContainer, network: string) => c.attachment.addresses.find((a) => a.network === network)!.ipv4!;

  await t.test('container files: own name in hosts, berth DNS in resolv.conf, extra_hosts with host-gateway', async () => {
    const r = await frontend.sh('cat /etc/hosts /etc/resolv.conf');
    assert.match(r.stdout, new RegExp(`${ipOf(frontend, front.name)}\\s+${frontend.id.slice(0, 12)}`));
    assert.match(r.stdout, new RegExp(`${front.gateway}\\s+gw.test`));
    assert.match(r.stdout, /10\.1\.2\.3\s+fixed.test/);
    assert.match(r.stdout, new RegExp(`nameserver ${front.gateway.replace(/\./g, '\\.')}`));
    assert.match(r.stdout, /search example.invalid/);
    const routes = await db.sh('ip route');
    assert.doesNotMatch(routes.stdout, /default/, 'a container only on an internal network has no default route');
  });

  await t.test('frontend reaches api by service name, alias, container name and hostname', async () => {
    const apiIps = [ipOf(api1, front.name), ipOf(api2, front.name)].sort();
    assert.deepEqual((await lookup(frontend, 'api')).sort(), apiIps, 'all replicas answer under the service name');
    assert.deepEqual((await lookup(frontend, 'api-alias')).sort(), apiIps);
    assert.deepEqual(await lookup(frontend, api1.id), [ipOf(api1, front.name)]);
    assert.deepEqual((await lookup(frontend, 'apihost')).sort(), apiIps);
    assert.match(await fetchByName(frontend, 'api-alias'), /^api-apihost/);
  });

  await t.test('replicas all answer: requests by name reach both', async () => {
    const seen = new Set<string>();
    const ips = new Set<string>();
    for (let i = 0; i < 8 && ips.size < 2; i++) {
      const ip = (await lookup(frontend, 'api'))[0];
      ips.add(ip);
      seen.add(await fetchFrom(frontend, ip));
    }
    assert.equal(ips.size, 2, 'the first address rotates between the replicas');
    assert.equal(seen.size, 2, 'both replicas served a request');
  });

  await t.test('isolation: frontend cannot resolve or reach the backend-only db; api can', async () => {
    assert.deepEqual(await lookup(frontend, 'db'), []);
    assert.deepEqual(await lookup(frontend, 'database'), []);
    assert.equal(await fetchFrom(frontend, ipOf(db, back.name), 2), '', 'no way across networks');
    assert.deepEqual(await lookup(api1, 'database'), [ipOf(db, back.name)]);
    assert.match(await fetchByName(api1, 'database'), /^db-/);
  });

  await t.test('published TCP port answers at 127.0.0.1 and at the host\'s address on the bridge', async () => {
    const random = api1.attachment.ports.find((p) => p.target === 8080 && p.hostIp === '0.0.0.0')!;
    assert.ok(random.hostPort >= 1024, 'a random host port was picked');
    assert.match(await httpGet('127.0.0.1', random.hostPort), /^api-/);
    assert.match(await httpGet(front.gateway, random.hostPort), /^api-/);
    const local = api1.attachment.ports.find((p) => p.hostIp === '127.0.0.1')!;
    assert.ok(local.hostPort >= 39180 && local.hostPort <= 39189);
    assert.match(await httpGet('127.0.0.1', local.hostPort), /^api-/);
    const other = api2.attachment.ports.find((p) => p.hostIp === '127.0.0.1')!;
    assert.notEqual(other.hostPort, local.hostPort, 'the second replica takes the next port of the range');
  });

  await t.test('published UDP port', async (tt) => {
    const udpPort = api1.attachment.ports.find((p) => p.protocol === 'udp')!;
    const echo = rig.inNetns(api1, [process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(7000,()=>console.log('ready'))`]);
    tt.after(() => { echo.kill('SIGKILL'); });
    await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
    const socket = dgram.createSocket('udp4');
    tt.after(() => socket.close());
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP reply')), 5000);
      socket.on('message', (m) => { clearTimeout(timer); resolve(m.toString()); });
      socket.send('ping', udpPort.hostPort, '127.0.0.1');
    });
    assert.equal(reply, 'echo:ping');
  });

  await t.test('a port already in use names the process holding it, and nothing is half-made', async (tt) => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    tt.after(() => holder.close());
    const port = (holder.address() as net.AddressInfo).port;
    const busy = await rig.load(`${name}busy`, `services:\n  web:\n    image: berth-test/busybox:latest\n    ports: ["127.0.0.1:${port}:80"]\n`);
    await assert.rejects(rig.run(busy, 'web'), (err: Error) => {
      assert.match(err.message, new RegExp(`port ${port}/tcp .*held by node \\(pid ${process.pid}\\)`));
      return true;
    });
    const leaks = await rig.down(busy);
    assert.deepEqual(leaks, { links: [], netns: [], tables: [], networks: [], containers: [] });
  });

  await t.test('recreate: names follow the new container', async () => {
    // The bridge keeps its own fixed MAC: otherwise it takes the lowest MAC of its ports, changes
    // it when that container leaves, and the others' ARP entry for the gateway (their DNS) goes stale.
    const bridgeMacNow = () => readFileSync(`/sys/class/net/${front.bridge}/address`, 'utf8').trim();
    assert.equal(bridgeMacNow(), bridgeMac(front.gateway));
    const api3 = await rig.run(project, 'api', 3, web('api'));
    await rig.remove(api1);
    assert.equal(bridgeMacNow(), bridgeMac(front.gateway), 'adding and removing containers leaves the bridge MAC alone');
    assert.deepEqual((await lookup(frontend, 'api')).sort(), [ipOf(api2, front.name), ipOf(api3, front.name)].sort());
  });

  await t.test('network_mode service:api shares the namespace of api', async () => {
    const sidecar = await rig.run(project, 'sidecar');
    assert.equal(sidecar.attachment.mode, 'shared');
    assert.match(await fetchFrom(sidecar, '127.0.0.1'), /^api-/);
    const addresses = (await sidecar.sh('ip -4 -o addr show')).stdout;
    for (const address of api2.attachment.addresses) assert.ok(addresses.includes(`${address.ipv4}/`), `${address.ipv4} of api-2 is in the shared namespace`);
    await rig.remove(sidecar);
  });

  await t.test('down leaves nothing: bridges, veths, namespaces, rules, state', async () => {
    const leaks = await rig.down(project);
    assert.deepEqual(leaks, { links: [], netns: [], tables: [], networks: [], containers: [] });
  });
});

test('bad input is refused before anything is made', { skip, timeout: 60_000 }, async (t) => {
  const rig = await makeNetRig();
  t.after(() => rig.close());
  const name = `netbad${process.pid}`;
  const provider = createNetworkProvider({ root: rig.root.root });
  const first = await rig.load(`${name}a`, `services:\n  a:\n    image: berth-test/busybox:latest\nnetworks:\n  default:\n    ipam:\n      config: [{subnet: 10.213.0.0/24}]\n`);
  await provider.ensureNetworks(first, ['default']);
  t.after(() => provider.removeNetworks(first));

  const overlap = await rig.load(`${name}b`, `services:\n  a:\n    image: berth-test/busybox:latest\n    networks: [one, two]\nnetworks:\n  one: {}\n  two:\n    ipam:\n      config: [{subnet: 10.213.0.128/25}]\n`);
  await assert.rejects(provider.ensureNetworks(overlap, ['one', 'two']), /subnet 10\.213\.0\.128\/25 of network "two" overlaps berth network "netbad\d+a_default"/);
  const outside = await rig.load(`${name}c`, `services:\n  a:\n    image: berth-test/busybox:latest\n    networks:\n      one: {ipv4_address: 10.214.1.5}\nnetworks:\n  one:\n    ipam:\n      config: [{subnet: 10.214.0.0/24}]\n`);
  await assert.rejects(provider.ensureNetworks(outside, ['one']), /address 10\.214\.1\.5 of service "a" is outside the subnet 10\.214\.0\.0\/24 of network "one"/);
  const external = await rig.load(`${name}d`, `services:\n  a:\n    image: berth-test/busybox:latest\n    networks: [one, ext]\nnetworks:\n  one: {}\n  ext:\n    external: true\n    name: nosuchnet${process.pid}\n`);
  await assert.rejects(provider.ensureNetworks(external, ['one', 'ext']), /network "nosuchnet\d+" is declared as external, but could not be found/);
  for (const p of ['b', 'c', 'd']) {
    assert.deepEqual(await findProjectLeaks(`${name}${p}`, rig.root.root), { links: [], netns: [], tables: [], networks: [], containers: [] }, `nothing made for ${p}`);
  }
});
