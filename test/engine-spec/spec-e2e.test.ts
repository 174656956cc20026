/**
 * A service with many features becomes a real container: buildContainerSpec → toOciSpec →
 * berth-runtime, and the process inside reports what it sees (environment, cwd, user, hostname,
 * cgroup limits, capabilities, ulimits, mounts, secrets and configs, read-only root, tmpfs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildContainerSpec } from '../../src/engine/container-spec.js';
import { VolumeManager } from '../../src/engine/volumes.js';
import { ImageStore, prepareContainerRootfs, removeContainerRootfs } from '../../src/images/index.js';
import { loadProject } from '../../src/project/index.js';
import { RuntimeDriver, hostSpecOptions, toOciSpec } from '../../src/runtime/index.js';
import { runtimeBinary } from '../../src/paths.js';
import { haveBusybox } from '../helpers/busybox-rootfs.js';
import { makeStackRoot, testImage } from '../helpers/stack.js';

const skipReason = process.getuid?.() !== 0 ? 'needs root' : !haveBusybox() ? 'needs busybox-static' : !existsSync(runtimeBinary()) ? 'berth-runtime is not built' : undefined;

const script = [
  'echo "env=$SHARED,$OWN,$FROM_IMAGE"',
  'echo "cwd=$(pwd)"',
  'echo "id=$(id -u):$(id -g):$(id -G)"',
  'echo "host=$(hostname)"',
  'echo "mem=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
  'echo "pids=$(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)"',
  'echo "capbnd=$(grep CapBnd /proc/self/status | cut -f2)"',
  'echo "nofile=$(ulimit -Sn):$(ulimit -Hn)"',
  'echo "secret=$(cat /run/secrets/token)"',
  'echo "config=$(cat /etc/app.conf)"',
  'echo "home=$(ls /home)"',
  'echo "bind=$(cat /bind/f)"',
  'if touch /rootfs-write 2>/dev/null; then echo root=rw; else echo root=ro; fi',
  'touch /scratch/x && echo scratch=ok',
  'echo "anon=$(ls -d /var/lib/anon)"',
  'echo "shm=$(df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2)"',
].join('; ');

test('a many-feature service runs with what its compose file says', { skip: skipReason, timeout: 60_000 }, async (t) => {
  const root = await makeStackRoot({ changes: ['CMD ["sh"]', 'ENV FROM_IMAGE=image', 'ENV SHARED=image', 'VOLUME /var/lib/anon'] });
  const id = `spec-e2e-${process.pid}`;
  const driver = new RuntimeDriver({ env: root.env });
  const store = await ImageStore.open(path.join(root.root, 'images'));
  t.after(async () => {
    await driver.delete(id, { force: true, ignoreMissing: true }).catch(() => undefined);
    await removeContainerRootfs(store, id).catch(() => undefined);
    root.remove();
  });
  const dir = root.project(`spec${process.pid}`, `
services:
  app:
    image: ${testImage}
    command: ["sh", "-c", ${JSON.stringify(script.replaceAll("$", "$$$$"))}]
    environment: { SHARED: service, OWN: own }
    working_dir: /work
    user: app
    group_add: [daemon]
    hostname: feature-box
    mem_limit: 48m
    pids_limit: 64
    shm_size: 2m
    cap_drop: [CHOWN]
    cap_add: [NET_ADMIN]
    ulimits: { nofile: { soft: 256, hard: 512 } }
    read_only: true
    tmpfs: [/scratch]
    volumes: [home:/home, ./bind:/bind:ro]
    secrets: [token]
    configs: [{ source: conf, target: /etc/app.conf }]
volumes: { home: {} }
secrets: { token: { environment: TOKEN } }
configs: { conf: { content: hello config } }
`);
  mkdirSync(path.join(dir, 'bind'));
  writeFileSync(path.join(dir, 'bind/f'), 'from host');
  const project = await loadProject({ cwd: dir, env: { ...root.env, TOKEN: 'tok-123' } });
  const image = await store.resolve(testImage);
  assert.ok(image);
  const rootfs = await prepareContainerRootfs(store, image, id);
  const stateDir = path.join(root.root, 'state', id);
  mkdirSync(stateDir, { recursive: true });
  const volumes = new VolumeManager(root.root);
  const built = await buildContainerSpec({
    project, service: project.services.get('app')!, image, containerId: id, name: id, number: 1, oneoff: false,
    rootfs: rootfs.rootfs, stateDir, logPath: path.join(stateDir, 'log.json'), labels: {},
    network: { mode: 'none', addresses: [], ports: [], files: {} }, volumes,
  });
  const bundle = path.join(stateDir, 'bundle');
  RuntimeDriver.writeBundle(bundle, toOciSpec(built.spec, hostSpecOptions(built.spec)));
  const result = await driver.run(id, bundle, { timeoutMs: 30_000 });
  assert.equal(result.stderr, '');
  assert.equal(result.exitCode, 0);
  const seen = Object.fromEntries(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  assert.equal(seen.env, 'service,own,image', 'service environment over the image Env');
  assert.equal(seen.cwd, '/work', 'working_dir created and used');
  assert.equal(seen.id, '1000:1000:1000 1 29 50', 'user app: its groups from /etc/group plus group_add daemon');
  assert.equal(seen.host, 'feature-box');
  assert.equal(Number(seen.mem), 48 * 1024 * 1024);
  assert.equal(seen.pids, '64');
  const caps = BigInt(`0x${seen.capbnd}`);
  assert.equal(caps & 1n, 0n, 'CAP_CHOWN dropped');
  assert.equal((caps >> 12n) & 1n, 1n, 'CAP_NET_ADMIN added');
  assert.equal(seen.nofile, '256:512');
  assert.equal(seen.secret, 'tok-123');
  assert.equal(seen.config, 'hello config');
  assert.equal(seen.home, 'app', 'named volume populated from the image content at its target');
  assert.equal(seen.bind, 'from host');
  assert.equal(seen.root, 'ro');
  assert.equal(seen.scratch, 'ok');
  assert.equal(seen.anon, '/var/lib/anon');
  assert.equal(seen.shm, '2048');
  assert.equal(built.anonymousVolumes.length, 1, 'the image VOLUME got an anonymous volume');
  assert.ok(existsSync(path.join(volumes.path(`${project.name}_home`), 'app')), 'the copy is in the volume on the host');
});
