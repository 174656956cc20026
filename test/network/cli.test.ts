/**
 * Networking through the CLI: `berth up -d` with two networks and three services, names across
 * the shared network only, a published port found with `berth port` and reachable at 127.0.0.1
 * and at the host's address on the project's bridge, and nothing left after `down`.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { findProjectLeaks, listNetworks } from '../../src/network/index.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { runBerth } from '../helpers/cli.js';
import { makeStackRoot } from '../helpers/stack.js';
import { haveNetTools, httpGet, nslookupAddresses } from './rig.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime not built' : !haveNetTools() ? 'needs ip and nft' : undefined;

const compose = `
services:
  web:
    image: berth-test/busybox:latest
    command: ["sh", "-c", "mkdir -p /w && echo web-ok > /w/index.html && exec httpd -f -p 80 -h /w"]
    networks: [front]
    ports: ["80", "127.0.0.1:39280-39289:80"]
  api:
    image: berth-test/busybox:latest
    command: ["sleep", "3600"]
    networks:
      front:
        aliases: [backend-api]
      back: {}
  db:
    image: berth-test/busybox:latest
    command: ["sleep", "3600"]
    networks: [back]
networks:
  front: {}
  back: {}
`;

/** A fresh state root with the project `compose`, brought up with `up -d`; taken down and removed after the test. */
async function stackUp(t: TestContext, prefix: string, composeText: string) {
  const root = await makeStackRoot({ prefix: `berth-${prefix}-` });
  const name = `${prefix}${process.pid}`;
  const dir = root.project(name, composeText);
  // No outside resolver in tests: names berth does not know fail fast instead of leaving the host.
  const env = { ...root.env, BERTH_DNS_UPSTREAM: '' };
  t.after(() => {
    runBerth(['-p', name, 'down', '-t', '1'], { cwd: dir, env });
    root.remove();
  });
  const up = runBerth(['-p', name, 'up', '-d'], { cwd: dir, env, timeoutMs: 90_000 });
  assert.equal(up.status, 0, up.stderr);
  return { root, name, dir, env };
}

test('berth up -d: two networks, names, berth port, published port, down leaves nothing', { skip, timeout: 120_000 }, async (t) => {
  const { root, name, dir, env } = await stackUp(t, 'netcli', compose);

  const port = runBerth(['-p', name, 'port', 'web', '80'], { cwd: dir, env });
  assert.equal(port.status, 0, port.stderr);
  const m = /^0\.0\.0\.0:(\d+)\n$/.exec(port.stdout);
  assert.ok(m, `berth port prints the binding: ${port.stdout}`);
  assert.equal(await httpGet('127.0.0.1', Number(m[1])), 'web-ok\n');
  const front = listNetworks(root.root).find((n) => n.name === `${name}_front`)!;
  assert.equal(await httpGet(front.gateway, Number(m[1])), 'web-ok\n', 'reachable at the host\'s own address on the bridge');
  const indexed = runBerth(['-p', name, 'port', 'web', '80', '--index', '1'], { cwd: dir, env });
  assert.equal(indexed.stdout, port.stdout);
  const missing = runBerth(['-p', name, 'port', 'web', '81'], { cwd: dir, env });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /no port 81\/tcp published/);

  // Names resolve through the DNS server the supervisor runs (it may need a moment to start).
  let addresses: string[] = [];
  for (let i = 0; i < 40 && addresses.length === 0; i++) {
    const r = runBerth(['-p', name, 'exec', '-T', 'web', 'nslookup', 'backend-api'], { cwd: dir, env });
    addresses = nslookupAddresses(r.stdout);
    if (addresses.length === 0) await new Promise((r2) => setTimeout(r2, 250));
  }
  const api = front.endpoints[Object.keys(front.endpoints).find((id) => front.endpoints[id].service === 'api')!];
  assert.deepEqual(addresses, [api.ipv4]);
  const db = runBerth(['-p', name, 'exec', '-T', 'web', 'nslookup', 'db'], { cwd: dir, env });
  assert.deepEqual(nslookupAddresses(db.stdout), [], 'db is not on web\'s network');
  const fromApi = runBerth(['-p', name, 'exec', '-T', 'api', 'nslookup', 'db'], { cwd: dir, env });
  assert.equal(nslookupAddresses(fromApi.stdout).length, 1, 'api shares the back network with db');

  const down = runBerth(['-p', name, 'down', '-t', '1'], { cwd: dir, env, timeoutMs: 60_000 });
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(await findProjectLeaks(name, root.root), { links: [], netns: [], tables: [], networks: [], containers: [] });
});

test('a name looked up the moment a container starts is answered, on a cold up and in a one-off run', { skip, timeout: 120_000 }, async (t) => {
  // "first" resolves "peer" as its very first act; nothing depends on anything, and no supervisor
  // runs before this up (a fresh state root): the DNS server must be serving before first starts.
  const { name, dir, env } = await stackUp(t, 'netdns', `
services:
  peer:
    image: berth-test/busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
  first:
    image: berth-test/busybox:latest
    command: ["sh", "-c", "nslookup peer > /tmp/lookup 2>&1; echo status=$$? >> /tmp/lookup; trap 'exit 0' TERM; sleep 3600 & wait"]
`);
  let lookup = '';
  for (let i = 0; i < 40 && !lookup.includes('status='); i++) {
    lookup = runBerth(['-p', name, 'exec', '-T', 'first', 'cat', '/tmp/lookup'], { cwd: dir, env }).stdout;
    if (!lookup.includes('status=')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(lookup, /status=0/, `the lookup at start succeeded:\n${lookup}`);
  assert.equal(nslookupAddresses(lookup).length, 1, lookup);

  // A one-off container of a project that is down still has a DNS server to ask.
  const down = runBerth(['-p', name, 'down', '-t', '1'], { cwd: dir, env, timeoutMs: 60_000 });
  assert.equal(down.status, 0, down.stderr);
  const run = runBerth(['-p', name, 'run', '--rm', '-T', 'peer', 'nslookup', 'peer'], { cwd: dir, env, timeoutMs: 60_000 });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  assert.equal(nslookupAddresses(run.stdout).length, 1, run.stdout);
});
