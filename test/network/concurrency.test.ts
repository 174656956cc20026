/**
 * Attaches and detaches running at the same time, in one process and across processes and berth
 * roots: every container gets its own address and host port, its namespace is configured as
 * decided (IPv4, IPv6 and both default routes), published ports get their rules, and detaching
 * them all at once leaves nothing behind (namespaces, veths, port claims, rules). No traffic is
 * sent: the checks read the kernel's state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetworkAttachment, Project } from '../../src/engine/types.js';
import { cleanupProject, createNetworkProvider, findProjectLeaks, listNetworks } from '../../src/network/index.js';
import { projectTable } from '../../src/network/firewall.js';
import { readPortClaims } from '../../src/network/state.js';
import { loadProject } from '../../src/project/index.js';
import { haveNetTools } from './rig.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !haveNetTools() ? 'needs ip and nft' : undefined;
const here = path.dirname(fileURLToPath(import.meta.url));

/** `count` services; the first `published` publish container port 8080 on a port of `range` at 127.0.0.1. */
function compose(count: number, published: number, range: string, ipv6: boolean): string {
  const lines = ['services:'];
  for (let i = 1; i <= count; i++) {
    lines.push(`  s${i}:`, '    image: berth-test/busybox:latest');
    if (i <= published) lines.push(`    ports: ["127.0.0.1:${range}:8080"]`);
  }
  if (ipv6) lines.push('networks:', '  default:', '    enable_ipv6: true');
  return `${lines.join('\n')}\n`;
}

async function load(root: string, name: string, yaml: string): Promise<{ dir: string; project: Project }> {
  const dir = path.join(root, 'src', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  return { dir, project: await loadProject({ cwd: dir, projectName: name, env: { PATH: process.env.PATH ?? '' }, readStdin: async () => '' }) };
}

function nsJson<T>(ns: string, args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' }) || '[]') as T;
}

test('concurrent attaches and detaches across processes and roots: own addresses and ports, nothing left', { skip, timeout: 90_000 }, async (t) => {
  const roots = [mkdtempSync('/tmp/berth-net-conc-'), mkdtempSync('/tmp/berth-net-conc-'), mkdtempSync('/tmp/berth-net-conc-')];
  const names = ['a', 'b', 'c'].map((x) => `conc${x}${process.pid}`);
  const range = '39400-39439';
  t.after(async () => {
    for (const [i, name] of names.entries()) await cleanupProject(name, roots[i]).catch(() => undefined);
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });
  const a = await load(roots[0], names[0], compose(8, 4, range, true));
  const b = await load(roots[1], names[1], compose(8, 4, range, false));
  const c = await load(roots[2], names[2], compose(4, 4, range, false));
  const providers = [createNetworkProvider({ root: roots[0] }), createNetworkProvider({ root: roots[1] })];

  // Networks of two roots at once, then every container of both, while another process attaches its own.
  await Promise.all([providers[0].ensureNetworks(a.project, ['default']), providers[1].ensureNetworks(b.project, ['default'])]);
  const child = spawn(process.execPath, [path.join(here, 'attach-child.js'), roots[2], c.dir, names[2]], { stdio: ['ignore', 'pipe', 'pipe'] });
  const childOut: Buffer[] = [];
  const childErr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => childOut.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => childErr.push(chunk));
  const childDone = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const attachAll = (i: number, project: Project) => Promise.all([...project.services.values()].map(async (service) => {
    const id = `${project.name}-${service.name}-1`;
    const attachment = await providers[i].attach({ project, service, containerId: id, containerName: id, hostname: id.slice(0, 12), stateDir: path.join(roots[i], 'containers', id) });
    return { id, attachment };
  }));
  const [inA, inB] = await Promise.all([attachAll(0, a.project), attachAll(1, b.project)]);
  assert.equal(await childDone, 0, Buffer.concat(childErr).toString());
  const inC = (JSON.parse(Buffer.concat(childOut).toString()) as NetworkAttachment[]).map((attachment, i) => ({ id: `${names[2]}-s${i + 1}-1`, attachment }));

  await t.test('every container has its own address on its network and its own host port', () => {
    const subnets = roots.map((root, i) => listNetworks(root).find((n) => n.project === names[i])!.subnet);
    assert.equal(new Set(subnets).size, 3, `subnets ${subnets.join(', ')}`);
    for (const list of [inA, inB, inC]) {
      const addresses = list.map((x) => x.attachment.addresses[0].ipv4);
      assert.equal(new Set(addresses).size, list.length, `addresses ${addresses.join(', ')}`);
    }
    const ports = [...inA, ...inB, ...inC].flatMap((x) => x.attachment.ports.map((p) => p.hostPort));
    assert.equal(ports.length, 12);
    assert.equal(new Set(ports).size, 12, `host ports ${ports.join(', ')}`);
    for (const port of ports) assert.ok(port >= 39400 && port <= 39439, `port ${port} in ${range}`);
    const claimed = (readPortClaims() ?? []).filter((claim) => roots.includes(claim.root)).map((claim) => claim.hostPort);
    assert.deepEqual([...claimed].sort(), [...ports].sort());
  });

  await t.test('each namespace holds the decided addresses and default routes (IPv4 and IPv6)', () => {
    for (const { id, attachment } of [...inA, ...inB, ...inC]) {
      const ns = `berth-${id}`;
      const links = nsJson<Array<{ ifname: string; addr_info: Array<{ family: string; local: string }> }>>(ns, ['addr', 'show', 'dev', 'eth0']);
      const local = links[0].addr_info.map((x) => x.local);
      assert.ok(local.includes(attachment.addresses[0].ipv4!), `${ns}: ${local.join(', ')}`);
      assert.equal(nsJson<unknown[]>(ns, ['route', 'show', 'default']).length, 1, `${ns}: IPv4 default route`);
      if (attachment.addresses[0].ipv6) {
        assert.ok(local.includes(attachment.addresses[0].ipv6), `${ns}: ${local.join(', ')}`);
        assert.equal(nsJson<unknown[]>(ns, ['-6', 'route', 'show', 'default']).length, 1, `${ns}: IPv6 default route`);
      }
    }
  });

  await t.test('published ports have their rules; the masquerade rules are there without any', () => {
    const table = execFileSync('nft', ['list', 'table', 'inet', projectTable(roots[0], names[0])], { encoding: 'utf8' });
    for (const { attachment } of inA) for (const p of attachment.ports) assert.match(table, new RegExp(`dport ${p.hostPort} dnat`));
    assert.match(table, /masquerade/);
  });

  await t.test('detaching everything at once leaves no namespace, veth, port claim or rule', async () => {
    await Promise.all([
      ...inA.map((x) => providers[0].detach(x.id, x.attachment)),
      ...inB.map((x) => providers[1].detach(x.id, x.attachment)),
      ...inC.map((x) => createNetworkProvider({ root: roots[2] }).detach(x.id, x.attachment)),
    ]);
    assert.deepEqual((readPortClaims() ?? []).filter((claim) => roots.includes(claim.root)), []);
    const table = execFileSync('nft', ['list', 'table', 'inet', projectTable(roots[0], names[0])], { encoding: 'utf8' });
    assert.doesNotMatch(table, /dnat ip6? to/);
    for (const [i, name] of names.entries()) {
      const leaks = await findProjectLeaks(name, roots[i]);
      assert.deepEqual({ netns: leaks.netns, containers: leaks.containers }, { netns: [], containers: [] });
      assert.deepEqual(leaks.links.filter((l) => !l.startsWith('br-')), [], `${name}: veths left`);
      assert.ok(listNetworks(roots[i]).every((n) => Object.keys(n.endpoints).length === 0));
    }
    await Promise.all([providers[0].removeNetworks(a.project), providers[1].removeNetworks(b.project), createNetworkProvider({ root: roots[2] }).removeNetworks(c.project)]);
    for (const [i, name] of names.entries()) assert.deepEqual(await findProjectLeaks(name, roots[i]), { links: [], netns: [], tables: [], networks: [], containers: [] });
  });
});
