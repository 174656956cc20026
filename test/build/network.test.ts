/**
 * The network of RUN steps: by default an isolated namespace on berth's build bridge (the
 * host's 127.0.0.1 is out of reach, the bridge's gateway is reachable, extra_hosts are in
 * /etc/hosts), `network: host` reaches the host's loopback, `RUN --network=host` needs the
 * builder's permission, and nothing of the build network is left afterwards. Traffic goes only to 127.0.0.1 and to the gateway berth made.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { buildImage } from '../../src/build/index.js';
import { buildProjectName, buildResolvers } from '../../src/build/network.js';
import { ImageStore } from '../../src/images/index.js';
import { findProjectLeaks } from '../../src/network/index.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';
import { runImage } from './run-image.js';

/** A TCP server on `host` that answers every connection with `token` and closes. */
async function tokenServer(host: string, token: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${token}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function buildNetns(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(`berth-build-${process.pid}-`));
}

test('RUN steps: isolated build network by default, host when asked, nothing left behind', async (t) => {
  const root = await makeStackRoot({ prefix: 'berth-buildnet-' });
  const loopback = await tokenServer('127.0.0.1', `loopback-${process.pid}`);
  // On every address: the RUN step finds the host through its default gateway (the bridge).
  const gatewayServer = await tokenServer('0.0.0.0', `gateway-${process.pid}`);
  t.after(() => {
    loopback.server.close();
    gatewayServer.server.close();
    root.remove();
  });
  const dir = root.project(`buildnet-${process.pid}`);
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}
ARG LOOPBACK_PORT
ARG GATEWAY_PORT
RUN (echo | nc -w 2 127.0.0.1 $LOOPBACK_PORT || echo unreachable) > /loopback.out 2>&1
RUN gw=$(ip route | awk '/^default/ {print $3}'); echo "gateway $gw" > /gateway.out; \\
    (echo | nc -w 3 "$gw" $GATEWAY_PORT || echo failed) >> /gateway.out 2>&1; \\
    cp /etc/hosts /hosts.out; ip -o link | grep -c ether > /links.out
`);
  const store = await ImageStore.open(path.join(root.root, 'images'));
  const buildArgs = { LOOPBACK_PORT: String(loopback.port), GATEWAY_PORT: String(gatewayServer.port) };
  const show = (ref: string) => runImage(root, ref, ['cat', '/loopback.out', '/gateway.out', '/hosts.out', '/links.out']);

  // Default: the host's loopback is out of reach; the gateway (an address of the host on berth's bridge) answers.
  await buildImage({ context: dir, store, env: root.env, tags: ['net/default'], buildArgs, extraHosts: ['db.example=10.9.8.7', 'hostside:host-gateway'] });
  const isolated = (await show('net/default')).output;
  assert.match(isolated, /^unreachable$/m, isolated);
  assert.doesNotMatch(isolated, new RegExp(`loopback-${process.pid}`));
  const gateway = /^gateway (\d+\.\d+\.\d+\.\d+)$/m.exec(isolated)?.[1];
  assert.ok(gateway, isolated);
  assert.match(isolated, new RegExp(`^gateway-${process.pid}$`, 'm'), 'the gateway answers: the namespace has a route out');
  assert.match(isolated, /^10\.9\.8\.7\tdb\.example$/m, 'extra_hosts are in /etc/hosts');
  assert.match(isolated, new RegExp(`^${gateway.replace(/\./g, '\\.')}\\thostside$`, 'm'), 'host-gateway is the bridge gateway');
  assert.match(isolated, /^1$/m, 'one interface besides loopback');

  // Nothing of the build network is left: no bridge, veth, netns, nft table or state.
  const leaks = await findProjectLeaks(buildProjectName, root.root);
  assert.deepEqual(leaks, { links: [], netns: [], tables: [], networks: [], containers: [] });
  assert.deepEqual(buildNetns(), []);
  const addresses = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  assert.ok(!addresses.includes(` ${gateway}/`), `the gateway ${gateway} is gone from the host`);

  // network: host reaches the host's loopback (the step key ignores the network: no cache).
  await buildImage({ context: dir, store, env: root.env, tags: ['net/host'], buildArgs, network: 'host', noCache: true });
  assert.match((await show('net/host')).output, new RegExp(`^loopback-${process.pid}$`, 'm'));

  // RUN --network=none: loopback only; an unknown network is refused with the line.
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${testImage}\nRUN --network=none ip -o link | grep -c ether > /links.out || true\n`);
  await buildImage({ context: dir, store, env: root.env, tags: ['net/none'] });
  assert.equal((await runImage(root, 'net/none', ['cat', '/links.out'])).output, '0\n');
  await assert.rejects(buildImage({ context: dir, dockerfileInline: `FROM ${testImage}\nRUN true\n`, store, env: root.env, network: 'mynet' }), /Dockerfile \(inline\):2: build network "mynet" is not supported/);
  // The Dockerfile alone cannot take the host's network: RUN --network=host needs the builder's permission.
  const hostFlag = `FROM ${testImage}\nRUN --network=host (echo | nc -w 2 127.0.0.1 ${loopback.port}) > /flag.out\n`;
  await assert.rejects(buildImage({ context: dir, dockerfileInline: hostFlag, store, env: root.env }), /Dockerfile \(inline\):2: RUN --network=host is not allowed/);
  await buildImage({ context: dir, dockerfileInline: hostFlag, store, env: root.env, tags: ['net/flag'], allowHostNetwork: true });
  assert.equal((await runImage(root, 'net/flag', ['cat', '/flag.out'])).output, `loopback-${process.pid}\n`);
  assert.deepEqual(await findProjectLeaks(buildProjectName, root.root), { links: [], netns: [], tables: [], networks: [], containers: [] });
});

test('build resolvers: loopback stubs are replaced by their upstreams or reported', async () => {
  const dir = mkdtempSync('/tmp/berth-resolv-');
  try {
    const main = path.join(dir, 'resolv.conf');
    const systemd = path.join(dir, 'systemd.conf');
    writeFileSync(main, 'nameserver 127.0.0.53\noptions edns0 trust-ad ndots:2\nsearch corp.example\n');
    writeFileSync(systemd, 'nameserver 10.1.1.1\nnameserver 127.0.0.1\n');
    assert.deepEqual(await buildResolvers({ main, systemd }), { servers: ['10.1.1.1'], search: ['corp.example'], options: ['edns0', 'trust-ad'], loopbackOnly: [] });
    rmSync(systemd);
    assert.deepEqual((await buildResolvers({ main, systemd })).loopbackOnly, ['127.0.0.53']);
    writeFileSync(main, 'nameserver 10.2.2.2\nnameserver 127.0.0.1\n');
    assert.deepEqual((await buildResolvers({ main, systemd })).servers, ['10.2.2.2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
