/**
 * Compose network options with real namespaces, in as few containers as possible: an internal
 * network, `links`, `driver_opts` (MTU, bridge name), IPv6 (`enable_ipv6`: addresses, traffic
 * between two containers, AAAA answers, a port published on ::1), `ipv4_address` and
 * `mac_address`, `network_mode: none` and `host`; and an `external: true` network made by one
 * project and joined by another. Traffic only goes to 127.0.0.0/8, ::1 and the bridges and
 * namespaces the test made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findProjectLeaks, listNetworks, startDnsServer } from '../../src/network/index.js';
import { projectTable } from '../../src/network/firewall.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { haveNetTools, makeNetRig, nslookupAddresses, type RigContainer } from './rig.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime not built' : !haveNetTools() ? 'needs ip and nft' : undefined;

const web = (name: string) => ['/bin/sh', '-c', `mkdir -p /tmp/www && echo ${name}-ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www`];

/** GET http://[ip]:8080/ from inside `c` with nc; returns the body ('' when nothing answered). */
async function fetchFrom(c: RigContainer, ip: string, timeoutS = 3): Promise<string> {
  const r = await c.sh(`printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w ${timeoutS} ${ip} 8080`);
  return r.stdout.split('\r\n\r\n')[1] ?? '';
}

async function lookup(c: RigContainer, name: string, type: 'A' | 'AAAA' = 'A'): Promise<string[]> {
  const r = await c.sh(`nslookup -type=${type} ${name} 2>&1`);
  return nslookupAddresses(r.stdout).filter((a) => (type === 'A' ? !a.includes(':') : a.includes(':')));
}

/** HTTP GET from the host over a plain socket (fetch does not take ::1 with a zone-less literal everywhere). */
function rawGet(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const socket = net.connect(port, host, () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.setTimeout(timeoutMs, () => { socket.destroy(); resolve(''); });
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('end', () => resolve(data.split('\r\n\r\n')[1] ?? ''));
    socket.on('error', () => resolve(''));
  });
}

const sub = 10 + (process.pid % 200);
const bridgeName = `bth12${process.pid % 100000}`;

const compose = `
services:
  fixed:
    image: berth-test/busybox:latest
    mac_address: "02:42:de:ad:be:ef"
    networks:
      main:
        ipv4_address: 10.216.${sub}.50
      v6net: {}
  server:
    image: berth-test/busybox:latest
    networks: [v6net]
    ports:
      - target: 8080
        host_ip: "::"
  client:
    image: berth-test/busybox:latest
    networks: [v6net]
    links: ["server:srvlink"]
  lonely:
    image: berth-test/busybox:latest
    networks: [hidden]
  nonet:
    image: berth-test/busybox:latest
    network_mode: none
  hostnet:
    image: berth-test/busybox:latest
    network_mode: host
networks:
  main:
    driver_opts:
      com.docker.network.driver.mtu: "1400"
      com.docker.network.bridge.name: ${bridgeName}
    ipam:
      config: [{subnet: 10.216.${sub}.0/24}]
  v6net:
    enable_ipv6: true
  hidden:
    internal: true
`;

test('network options: internal, links, driver_opts, IPv6, fixed address and MAC, network_mode none and host', { skip, timeout: 120_000 }, async (t) => {
  const rig = await makeNetRig();
  t.after(() => rig.close());
  const name = `netopt${process.pid}`;
  const project = await rig.load(name, compose);
  await rig.provider.ensureNetworks(project, ['main', 'v6net', 'hidden']);
  const state = (key: string) => listNetworks(rig.root.root).find((n) => n.name === `${name}_${key}`)!;
  const [main, v6net, hidden] = [state('main'), state('v6net'), state('hidden')];
  const dns = await startDnsServer({ project: name, root: rig.root.root, upstreams: [] });
  t.after(() => dns.close());

  const server = await rig.run(project, 'server', 1, web('server'));
  const [fixed, client, lonely, nonet, hostnet] = await Promise.all([
    rig.run(project, 'fixed'), rig.run(project, 'client'), rig.run(project, 'lonely'), rig.run(project, 'nonet'), rig.run(project, 'hostnet'),
  ]);
  const addr = (c: RigContainer, network: string) => c.attachment.addresses.find((a) => a.network === network)!;

  await t.test('internal: no default route in the container, no masquerade, forwarding out dropped', async () => {
    assert.equal(hidden.internal, true);
    const routes = (await lonely.sh('ip route; ip -6 route')).stdout;
    assert.doesNotMatch(routes, /default/);
    const rules = execFileSync('nft', ['list', 'table', 'inet', projectTable(rig.root.root, name)], { encoding: 'utf8' });
    const br = `"${hidden.bridge}"`;
    assert.doesNotMatch(rules, new RegExp(`ip saddr ${hidden.subnet.replace(/[./]/g, '\\$&')} oifname != ${br} masquerade`), 'no masquerade for the internal subnet');
    assert.match(rules, new RegExp(`ip saddr ${v6net.subnet.replace(/[./]/g, '\\$&')} oifname != "${v6net.bridge}" masquerade`), 'a normal network is masqueraded');
    assert.match(rules, new RegExp(`iifname ${br} drop`), 'traffic leaving the internal bridge is dropped');
    // The host (berth's DNS on the gateway) is still there for it.
    assert.deepEqual(await lookup(lonely, 'lonely'), [addr(lonely, hidden.name).ipv4]);
  });

  await t.test('links: only the linking container sees the alias', async () => {
    assert.deepEqual(await lookup(client, 'srvlink'), [addr(server, v6net.name).ipv4]);
    assert.deepEqual(await lookup(fixed, 'srvlink'), [], 'a container without the link does not resolve it');
    assert.deepEqual(await lookup(fixed, 'server'), [addr(server, v6net.name).ipv4], 'the service name is for everyone on the network');
  });

  await t.test('driver_opts: bridge name and MTU', async () => {
    assert.equal(main.bridge, bridgeName);
    assert.equal(readFileSync(`/sys/class/net/${bridgeName}/mtu`, 'utf8').trim(), '1400');
    const eth = (await fixed.sh('cat /sys/class/net/eth0/mtu /sys/class/net/eth1/mtu')).stdout.split('\n');
    assert.equal(eth[0], '1400', 'the container end on main has its MTU');
    assert.equal(eth[1], String(v6net.mtu));
  });

  await t.test('ipv4_address and mac_address', async () => {
    assert.equal(addr(fixed, main.name).ipv4, `10.216.${sub}.50`);
    const r = await fixed.sh('ip -o -4 addr show eth0; cat /sys/class/net/eth0/address');
    assert.match(r.stdout, new RegExp(`inet 10\\.216\\.${sub}\\.50/24`));
    assert.match(r.stdout, /^02:42:de:ad:be:ef$/m);
    assert.deepEqual(await lookup(client, 'fixed'), [addr(fixed, v6net.name).ipv4], 'the fixed address is on main, which client is not on');
    const ipv4s = (await lookup(fixed, 'fixed')).sort();
    assert.deepEqual(ipv4s, [`10.216.${sub}.50`, addr(fixed, v6net.name).ipv4!].sort());
  });

  await t.test('IPv6: addresses on the bridge and in containers, traffic between two containers, AAAA', async () => {
    assert.ok(v6net.subnet6 && v6net.gateway6, 'the network has an IPv6 subnet');
    const bridgeAddrs = execFileSync('ip', ['-6', '-o', 'addr', 'show', 'dev', v6net.bridge], { encoding: 'utf8' });
    assert.ok(bridgeAddrs.includes(`${v6net.gateway6}/64`), `gateway ${v6net.gateway6} on the bridge`);
    const server6 = addr(server, v6net.name).ipv6!;
    const client6 = addr(client, v6net.name).ipv6!;
    assert.ok(server6 && client6);
    assert.match((await server.sh('ip -o -6 addr show eth0')).stdout, new RegExp(`${server6}/64`));
    assert.equal(await fetchFrom(client, server6), 'server-ok\n', 'client reaches server over IPv6');
    assert.deepEqual(await lookup(client, 'server', 'AAAA'), [server6]);
    assert.deepEqual(await lookup(client, 'srvlink', 'AAAA'), [server6]);
    const ping = await client.sh(`ping -6 -c 1 -W 2 ${server6} 2>&1 || ping6 -c 1 -W 2 ${server6} 2>&1`);
    assert.match(ping.stdout, /1 packets received/);
  });

  await t.test('IPv6: a port published on :: answers at the host\'s IPv6 address; ::1 is refused up front', async () => {
    const published = server.attachment.ports.find((p) => p.hostIp === '::');
    assert.ok(published, JSON.stringify(server.attachment.ports));
    assert.equal(await rawGet(v6net.gateway6!, published.hostPort), 'server-ok\n');
    // The kernel cannot route replies to ::1 in from a bridge: the connection is refused at once.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(published.hostPort, '::1');
      socket.setTimeout(3000, () => { socket.destroy(); resolve('timeout'); });
      socket.on('connect', () => { socket.destroy(); resolve('connected'); });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
    const loop6 = await rig.load(`${name}l6`, `services:\n  s:\n    image: berth-test/busybox:latest\n    ports: [{target: 80, host_ip: "::1"}]\nnetworks:\n  default:\n    enable_ipv6: true\n`);
    await assert.rejects(rig.provider.ensureNetworks(loop6, ['default']), /port 80 of service "s" cannot be published on ::1/);
    assert.deepEqual(await findProjectLeaks(loop6.name, rig.root.root), { links: [], netns: [], tables: [], networks: [], containers: [] });
  });

  await t.test('network_mode none: only loopback, no network state', async () => {
    assert.equal(nonet.attachment.mode, 'none');
    assert.deepEqual(nonet.attachment.addresses, []);
    const links = (await nonet.sh('ls /sys/class/net')).stdout.split(/\s+/).filter(Boolean);
    assert.deepEqual(links, ['lo']);
    assert.ok(!listNetworks(rig.root.root).some((n) => Object.values(n.endpoints).some((e) => e.containerId === nonet.id)));
  });

  await t.test('network_mode host: the host\'s interfaces and loopback, no namespace of its own', async (tt) => {
    assert.equal(hostnet.attachment.mode, 'host');
    assert.ok(!existsSync(`/run/netns/berth-${hostnet.id}`));
    const links = (await hostnet.sh('ls /sys/class/net')).stdout.split(/\s+/);
    assert.ok(links.includes(bridgeName), 'it sees the host\'s bridges');
    const listener = net.createServer((s) => s.end('host-loopback\n'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
    tt.after(() => listener.close());
    const r = await hostnet.sh(`echo | nc -w 2 127.0.0.1 ${(listener.address() as net.AddressInfo).port}`);
    assert.match(r.stdout, /host-loopback/, 'host networking shares the host\'s loopback (an explicit choice)');
  });

  await t.test('down leaves nothing', async () => {
    assert.deepEqual(await rig.down(project), { links: [], netns: [], tables: [], networks: [], containers: [] });
    assert.ok(!existsSync(`/sys/class/net/${bridgeName}`));
  });
});

test('external: true joins a network another project made (fixed name), and the joiner\'s down leaves it', { skip, timeout: 60_000 }, async (t) => {
  const rig = await makeNetRig();
  t.after(() => rig.close());
  const shared = `berthext${process.pid}`;
  const owner = await rig.load(`netexta${process.pid}`, `services:\n  a:\n    image: berth-test/busybox:latest\n    networks: [shared]\nnetworks:\n  shared:\n    name: ${shared}\n`);
  const joiner = await rig.load(`netextb${process.pid}`, `services:\n  b:\n    image: berth-test/busybox:latest\n    networks: [shared, own]\nnetworks:\n  own: {}\n  shared:\n    external: true\n    name: ${shared}\n`);
  await assert.rejects(rig.provider.ensureNetworks(joiner, ['shared', 'own']), /network "berthext\d+" is declared as external, but could not be found/);
  const a = await rig.run(owner, 'a', 1, web('a'));
  const b = await rig.run(joiner, 'b');
  const dns = await startDnsServer({ project: joiner.name, root: rig.root.root, upstreams: [] });
  t.after(() => dns.close());
  const net = listNetworks(rig.root.root).find((n) => n.name === shared)!;
  assert.equal(net.project, owner.name, 'the network still belongs to the project that made it');
  const aIp = a.attachment.addresses.find((x) => x.network === shared)!.ipv4!;
  assert.equal(await fetchFrom(b, aIp), 'a-ok\n', 'b reaches a over the shared network');
  assert.deepEqual(await lookup(b, 'a'), [aIp], 'names of the other project resolve on the shared network');

  const leaks = await rig.down(joiner);
  assert.deepEqual(leaks, { links: [], netns: [], tables: [], networks: [], containers: [] }, 'the joiner left nothing of its own');
  assert.ok(existsSync(`/sys/class/net/${net.bridge}`), 'the external network\'s bridge is still there');
  assert.ok(listNetworks(rig.root.root).some((n) => n.name === shared));
  const c = await rig.run(owner, 'a', 2, web('a'));
  assert.equal(c.attachment.addresses[0].network, shared, 'the owner still attaches to it');
  assert.deepEqual(await rig.down(owner), { links: [], netns: [], tables: [], networks: [], containers: [] });
  assert.ok(!existsSync(`/sys/class/net/${net.bridge}`), 'the owner\'s down removes it');
});
