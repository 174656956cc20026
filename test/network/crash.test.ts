/**
 * A berth command killed after attaching a container's network but before writing the
 * container's record (kill -9, a closed pipe) leaves an endpoint nobody owns; the project's next
 * `down` (removeNetworks with no containers left) removes it with the networks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createNetworkProvider, findProjectLeaks } from '../../src/network/index.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { haveNetTools, makeNetRig } from './rig.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime not built' : !haveNetTools() ? 'needs ip and nft' : undefined;

test('down after a crash between attach and record removes the orphaned endpoint and the network', { skip, timeout: 60_000 }, async (t) => {
  const rig = await makeNetRig();
  t.after(() => rig.close());
  const name = `netcrash${process.pid}`;
  const project = await rig.load(name, 'services:\n  app:\n    image: berth-test/busybox:latest\n    ports: ["8080"]\n');
  const provider = createNetworkProvider({ root: rig.root.root });
  await provider.ensureNetworks(project, ['default']);
  const id = `${name}-app-1`;
  const stateDir = path.join(rig.root.root, 'containers', id);
  mkdirSync(stateDir, { recursive: true });
  const attachment = await provider.attach({ project, service: project.services.get('app')!, containerId: id, containerName: id, hostname: 'app', stateDir });
  assert.ok(attachment.netnsPath && existsSync(attachment.netnsPath), 'the namespace exists');
  assert.equal(attachment.ports.length, 1, 'a port was published');
  // The "crash": no record is ever written for the container.

  await provider.removeNetworks(project);
  assert.deepEqual(await findProjectLeaks(name, rig.root.root), { links: [], netns: [], tables: [], networks: [], containers: [] });
  assert.equal(existsSync(attachment.netnsPath), false, 'the namespace is gone');
});
