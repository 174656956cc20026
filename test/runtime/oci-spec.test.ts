// toOciSpec must turn a ContainerSpec into exactly Docker's confinement; goldens pin the whole
// config.json (BERTH_UPDATE_GOLDEN=1 regenerates them; review the diff like code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allCapabilities, berthAnnotations, defaultCapabilities, hostCapabilities, resolveCapabilities, resolveSpecUser, resolveUser, serializeOciConfig, toOciSpec,
  type ContainerSpec, type OciConfig,
} from '../../src/runtime/index.js';
import { RuntimeError } from '../../src/errors.js';

// Goldens live in the source tree (test/runtime/golden), next to this file's source.
const goldenDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'runtime', 'golden');

/** The BPF program is deterministic but unreadable: the golden keeps its size and hash. */
function forGolden(config: OciConfig): string {
  const copy = structuredClone(config);
  const bpf = copy.annotations?.[berthAnnotations.seccompBpf];
  if (bpf && copy.annotations) {
    const bytes = Buffer.from(bpf, 'base64');
    copy.annotations[berthAnnotations.seccompBpf] = `<${bytes.length / 8} instructions, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}>`;
  }
  return serializeOciConfig(copy);
}

function checkGolden(name: string, config: OciConfig): void {
  const file = path.join(goldenDir, `${name}.json`);
  const actual = forGolden(config);
  if (process.env.BERTH_UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(file, actual);
    if (process.env.BERTH_UPDATE_GOLDEN !== '1') assert.fail(`golden ${file} was missing and has been written; review it and re-run`);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `config differs from golden ${file} (BERTH_UPDATE_GOLDEN=1 to regenerate)`);
}

const minimal: ContainerSpec = { id: 'web-1', rootfs: '/var/lib/berth/containers/web-1/rootfs', args: ['nginx', '-g', 'daemon off;'] };

test('golden: minimal container gets Docker defaults', () => {
  checkGolden('minimal', toOciSpec(minimal, { arch: 'x64' }));
});

test('golden: every ContainerSpec field', () => {
  const spec: ContainerSpec = {
    id: 'shop_api_1', rootfs: '/var/lib/berth/containers/shop_api_1/rootfs', args: ['/app/server', '--port', '8080'],
    env: ['NODE_ENV=production', 'PATH=/app/bin:/usr/bin:/bin'], cwd: '/app', user: { uid: 1000, gid: 1000, additionalGids: [50, 29], home: '/home/app' },
    hostname: 'api', domainname: 'shop.internal', tty: false, stdin: true, init: true, readOnly: true,
    mounts: [
      { type: 'volume', source: '/var/lib/berth/volumes/shop_data/_data', target: '/data' },
      { type: 'bind', source: '/srv/config', target: '/app/config', readOnly: true },
      { type: 'tmpfs', target: '/run/cache', tmpfsSize: 16 * 1024 * 1024, tmpfsMode: 0o1777 },
      { type: 'bind', source: '/srv/shm', target: '/dev/shm', options: ['rshared'] },
    ],
    tmpfs: { '/tmp': 'size=32m,mode=1777' },
    capAdd: ['net_admin', 'CAP_SYS_PTRACE'], capDrop: ['MKNOD', 'net_raw'], noNewPrivileges: true,
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.core.somaxconn': '1024' },
    ulimits: { nofile: { soft: 1024, hard: 4096 }, core: { soft: -1, hard: -1 } },
    oomScoreAdj: 500, devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, access: 'rw' }],
    resources: { memory: 256 * 1024 * 1024, memoryReservation: 128 * 1024 * 1024, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512, cpusetCpus: '0-1', cpusetMems: '0', pidsLimit: 100, blkioWeight: 300 },
    network: { path: '/run/berth/netns/shop_default' },
    annotations: { 'org.example.team': 'payments' },
    labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'api' },
    log: { path: '/var/lib/berth/containers/shop_api_1/shop_api_1-json.log', maxSize: 10 * 1024 * 1024, maxFile: 3 },
    hooks: { poststop: [{ path: '/usr/bin/true', args: ['true'] }] },
    cgroupParent: '/berth/shop',
    shmSize: 128 * 1024 * 1024,
  };
  checkGolden('full', toOciSpec(spec, { arch: 'x64' }));
});

test('golden: privileged container has every capability and device, no seccomp, no masking', () => {
  const config = toOciSpec({ ...minimal, id: 'priv', privileged: true, network: 'host' }, {
    arch: 'x64', hostDevices: [{ path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }],
  });
  checkGolden('privileged', config);
  assert.deepEqual(config.process.capabilities?.bounding, allCapabilities);
  assert.equal(config.linux.seccomp, undefined);
  assert.equal(config.linux.maskedPaths, undefined);
  assert.equal(config.linux.namespaces.some((ns) => ns.type === 'network'), false);
});

test('golden: cap_drop ALL with one cap_add, unconfined seccomp, arm64 host', () => {
  checkGolden('drop-all-arm64', toOciSpec({ ...minimal, id: 'lean', capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'], seccomp: 'unconfined', pidHost: true, ipcHost: true, cgroupns: 'host' }, { arch: 'arm64' }));
});

test('capabilities: Docker defaults, add/drop, ALL on either side', () => {
  assert.equal(defaultCapabilities.length, 14);
  assert.deepEqual(resolveCapabilities(), defaultCapabilities);
  assert.deepEqual(resolveCapabilities(['SYS_ADMIN'], ['chown']), [...defaultCapabilities.filter((c) => c !== 'CAP_CHOWN'), 'CAP_SYS_ADMIN']);
  assert.deepEqual(resolveCapabilities(['ALL'], ['SYS_ADMIN']), allCapabilities.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(resolveCapabilities(['KILL'], ['ALL']), ['CAP_KILL']);
  assert.deepEqual(resolveCapabilities([], ['ALL']), []);
  // A host whose own bounding set lacks CAP_SYS_RESOURCE (bit 24) cannot grant it.
  const available = hostCapabilities('CapBnd:\t000001fffeffffff\n');
  assert.equal(available.length, 40);
  assert.deepEqual(resolveCapabilities([], [], true, available), allCapabilities.filter((c) => c !== 'CAP_SYS_RESOURCE'));
  assert.deepEqual(resolveCapabilities(['ALL'], ['KILL'], false, available), allCapabilities.filter((c) => c !== 'CAP_SYS_RESOURCE' && c !== 'CAP_KILL'));
  assert.throws(() => resolveCapabilities(['NET_ADMINN']), (err: unknown) => err instanceof RuntimeError && err.message === 'unknown capability "NET_ADMINN"');
});

test('defaults: /dev/shm size follows shmSize, user mounts replace defaults, rlimit -1 is RLIM_INFINITY', () => {
  const config = toOciSpec({ ...minimal, shmSize: 1 << 20, ulimits: { nofile: { soft: -1, hard: -1 } } }, { arch: 'x64' });
  assert.deepEqual(config.mounts.find((m) => m.destination === '/dev/shm')?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=1048576']);
  assert.match(serializeOciConfig(config), /"soft": 18446744073709551615/);
  const replaced = toOciSpec({ ...minimal, mounts: [{ type: 'tmpfs', target: '/dev/shm' }] }, { arch: 'x64' });
  assert.equal(replaced.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.equal(replaced.mounts.find((m) => m.destination === '/dev/shm')?.source, 'tmpfs');
  assert.equal(config.hostname, 'web-1');
  assert.ok(config.process.env.includes('HOME=/root'));
  assert.equal(config.process.capabilities?.inheritable, undefined);
  assert.equal(config.process.capabilities?.ambient, undefined);
});

test('toOciSpec rejects what no runtime could run, naming the container', () => {
  assert.throws(() => toOciSpec({ ...minimal, id: '../evil' }), /invalid container id "\.\.\/evil"/);
  assert.throws(() => toOciSpec({ ...minimal, args: [] }), /container "web-1" has no command to run/);
  assert.throws(() => toOciSpec({ ...minimal, mounts: [{ type: 'bind', source: 'relative', target: '/x' }] }), /bind mount "\/x" of container "web-1" needs an absolute host source path/);
  assert.throws(() => toOciSpec({ ...minimal, ulimits: { nofiles: { soft: 1, hard: 1 } } }), /unknown ulimit "nofiles" for container "web-1"/);
});

function makeEtc(): string {
  const dir = mkdtempSync('/tmp/berth-test-user-');
  mkdirSync(path.join(dir, 'etc'));
  writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n# comment\nbroken line\nweb:x:33:33::/var/www:/bin/false\n');
  writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app,web\naudio:x:29:app\nwww:x:33:\n');
  return dir;
}

test('resolveUser: names, numbers and mixes like docker run --user', (t) => {
  const rootfs = makeEtc();
  t.after(() => rmSync(rootfs, { recursive: true, force: true }));
  assert.deepEqual(resolveUser(rootfs, undefined), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser(rootfs, 'app'), { uid: 1000, gid: 1000, additionalGids: [29, 50], home: '/home/app' });
  assert.deepEqual(resolveUser(rootfs, '1000'), { uid: 1000, gid: 1000, additionalGids: [29, 50], home: '/home/app' });
  assert.deepEqual(resolveUser(rootfs, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(resolveUser(rootfs, '1000:50'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser(rootfs, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser(rootfs, 'web'), { uid: 33, gid: 33, additionalGids: [50], home: '/var/www' });
  assert.throws(() => resolveUser(rootfs, 'ghost'), (err: unknown) => err instanceof RuntimeError && /unable to find user "ghost"/.test(err.message) && /numeric uid/.test(err.hint ?? ''));
  assert.throws(() => resolveUser(rootfs, 'app:ghosts'), /unable to find group "ghosts"/);
  // Through the spec: names resolve against the rootfs, numeric strings need no rootfs at all.
  assert.deepEqual(resolveSpecUser({ rootfs, user: 'app:staff' }).user, { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(toOciSpec({ ...minimal, user: '33:44' }, { arch: 'x64' }).process.user, { uid: 33, gid: 44 });
  assert.throws(() => toOciSpec({ ...minimal, user: 'app' }, { arch: 'x64' }), (err: unknown) => err instanceof RuntimeError && err.message === 'user "app" of container "web-1" is not numeric' && /resolveSpecUser/.test(err.hint ?? ''));
});

test('resolveUser never reads outside the rootfs through symlinks', (t) => {
  const rootfs = mkdtempSync('/tmp/berth-test-user-');
  const outside = mkdtempSync('/tmp/berth-test-outside-');
  t.after(() => {
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  // A hostile image: /etc/passwd points at a host file by absolute and relative paths.
  writeFileSync(path.join(outside, 'passwd'), 'evil:x:4000:4000::/:/bin/sh\n');
  mkdirSync(path.join(rootfs, 'etc'));
  symlinkSync(path.join(outside, 'passwd'), path.join(rootfs, 'etc/passwd'));
  symlinkSync(`../../../../../../..${outside}/passwd`, path.join(rootfs, 'etc/group'));
  assert.throws(() => resolveUser(rootfs, 'evil'), /unable to find user "evil"/);
  // Re-rooted, the absolute link lands on <rootfs><outside>/passwd: plant one there to prove it.
  mkdirSync(path.join(rootfs, outside), { recursive: true });
  writeFileSync(path.join(rootfs, outside, 'passwd'), 'inside:x:4100:4100::/:/bin/sh\n');
  assert.equal(resolveUser(rootfs, 'inside').uid, 4100);
  // A directory symlink loop is an error, not a hang.
  rmSync(path.join(rootfs, 'etc'), { recursive: true });
  symlinkSync('/etc', path.join(rootfs, 'etc'));
  assert.throws(() => resolveUser(rootfs, 'app'), /too many levels of symbolic links/);
});
