/**
 * The pure parts of the container spec builder: compose semantics of entrypoint/command,
 * environment, restart policies, healthchecks, resources, ulimits, tmpfs, security options,
 * lifecycle hooks and secret/config targets; plus buildContainerSpec against a plain directory
 * rootfs (bind sources, named/anonymous volumes, files) without running anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildContainerSpec, healthcheckOf, lifecycleHooks, mergeEnvironment, normalizeSignal, resolveArgs, resourcesOf,
  restartPolicyOf, securityOptionsOf, tmpfsOf, ulimitsOf, anonymousVolumesOf, type SpecInput,
} from '../../src/engine/container-spec.js';
import { fileMode, fileTarget } from '../../src/engine/files.js';
import { VolumeManager } from '../../src/engine/volumes.js';
import { loadProject } from '../../src/project/index.js';
import type { Service } from '../../src/model/types.js';
import type { StoredImage } from '../../src/images/index.js';

const fail = (key: string, message: string): never => {
  throw new Error(`${key}: ${message}`);
};
const svc = (fields: Record<string, unknown>): Service => ({ name: 'web', source: { file: 'compose.yaml', line: 1, column: 1, path: 'services.web' }, ...fields }) as Service;

test('entrypoint and command follow compose semantics against the image', () => {
  const image = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'] };
  assert.deepEqual(resolveArgs(image, undefined, undefined), ['/entry.sh', 'serve', '--port', '80']);
  assert.deepEqual(resolveArgs(image, undefined, ['run']), ['/entry.sh', 'run']);
  assert.deepEqual(resolveArgs(image, ['/other'], undefined), ['/other'], 'an explicit entrypoint drops the image CMD');
  assert.deepEqual(resolveArgs(image, ['/other'], ['x']), ['/other', 'x']);
  assert.deepEqual(resolveArgs(image, [], undefined), ['serve', '--port', '80'], 'entrypoint: [] clears the entrypoint only');
  assert.deepEqual(resolveArgs(image, null, []), ['/entry.sh'], 'command: [] clears the command');
  assert.deepEqual(resolveArgs(image, null, null), ['/entry.sh', 'serve', '--port', '80'], 'null means the image default');
  assert.deepEqual(resolveArgs({}, undefined, ['sh']), ['sh']);
});

test('environment is merged over the image Env, replacing keys in place', () => {
  assert.deepEqual(
    mergeEnvironment(['PATH=/usr/bin', 'A=1', 'B=2'], { B: 'two', C: '3' }, { A: 'one' }),
    ['PATH=/usr/bin', 'A=one', 'B=two', 'C=3'],
  );
  assert.deepEqual(mergeEnvironment(undefined, { X: 'a=b' }), ['X=a=b']);
});

test('restart policies from restart and deploy.restart_policy', () => {
  assert.deepEqual(restartPolicyOf(svc({})), { name: 'no', maxRetries: 0 });
  assert.deepEqual(restartPolicyOf(svc({ restart: 'always' })), { name: 'always', maxRetries: 0 });
  assert.deepEqual(restartPolicyOf(svc({ restart: 'unless-stopped' })), { name: 'unless-stopped', maxRetries: 0 });
  assert.deepEqual(restartPolicyOf(svc({ restart: 'on-failure:5' })), { name: 'on-failure', maxRetries: 5 });
  assert.deepEqual(restartPolicyOf(svc({ restart: 'on-failure' })), { name: 'on-failure', maxRetries: 0 });
  assert.deepEqual(restartPolicyOf(svc({ deploy: { restart_policy: { condition: 'on-failure', max_attempts: 3 } } })), { name: 'on-failure', maxRetries: 3 });
  assert.deepEqual(restartPolicyOf(svc({ deploy: { restart_policy: { condition: 'any' } } })), { name: 'always', maxRetries: 0 });
  assert.deepEqual(restartPolicyOf(svc({ deploy: { restart_policy: { condition: 'none' } } })), { name: 'no', maxRetries: 0 });
  assert.deepEqual(restartPolicyOf(svc({ restart: 'no', deploy: { restart_policy: { condition: 'any' } } })), { name: 'no', maxRetries: 0 }, 'restart wins');
  assert.throws(() => restartPolicyOf(svc({ restart: 'sometimes' })), /service "web": restart: unknown restart policy "sometimes"/);
});

test('healthcheck: service over image, Docker defaults, NONE and disable', () => {
  const image = { Healthcheck: { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9, Retries: 7 } };
  assert.deepEqual(healthcheckOf(svc({}), image), {
    test: ['CMD-SHELL', 'wget -q localhost'], intervalMs: 5000, timeoutMs: 30_000, retries: 7, startPeriodMs: 0, startIntervalMs: 5000,
  });
  assert.deepEqual(healthcheckOf(svc({ healthcheck: { test: ['CMD', 'true'], interval: '1m30s', timeout: '2s', retries: 2, start_period: '500ms', start_interval: '1s' } }), undefined), {
    test: ['CMD', 'true'], intervalMs: 90_000, timeoutMs: 2000, retries: 2, startPeriodMs: 500, startIntervalMs: 1000,
  });
  assert.equal(healthcheckOf(svc({ healthcheck: { disable: true } }), image), undefined);
  assert.equal(healthcheckOf(svc({ healthcheck: { test: ['NONE'] } }), image), undefined);
  assert.equal(healthcheckOf(svc({}), { Healthcheck: { Test: ['NONE'] } }), undefined);
  assert.equal(healthcheckOf(svc({}), undefined), undefined);
  assert.equal(healthcheckOf(svc({ healthcheck: { interval: '2s' } }), image)?.intervalMs, 2000, 'fields without a test keep the image test');
  assert.throws(() => healthcheckOf(svc({ healthcheck: { test: ['CMD', 'x'], interval: '10' } }), undefined), /healthcheck.interval: duration "10" has no unit/);
});

test('signals, resources, ulimits and tmpfs', () => {
  assert.equal(normalizeSignal('term'), 'SIGTERM');
  assert.equal(normalizeSignal('SIGUSR1'), 'SIGUSR1');
  assert.equal(normalizeSignal('9'), '9');
  assert.deepEqual(resourcesOf(svc({ mem_limit: '64m', mem_reservation: '32m', cpus: 0.5, cpu_shares: 512, cpuset: '0', pids_limit: 50 }), fail), {
    memory: 64 * 1024 ** 2, memoryReservation: 32 * 1024 ** 2, cpuPeriod: 100_000, cpuQuota: 50_000, cpuShares: 512, cpusetCpus: '0', pidsLimit: 50,
  });
  assert.deepEqual(resourcesOf(svc({ deploy: { resources: { limits: { cpus: '1.5', memory: '1g', pids: 10 }, reservations: { memory: '100m' } } } }), fail), {
    memory: 1024 ** 3, memoryReservation: 100 * 1024 ** 2, cpuPeriod: 100_000, cpuQuota: 150_000, pidsLimit: 10,
  });
  assert.equal(resourcesOf(svc({}), fail), undefined);
  assert.throws(() => resourcesOf(svc({ mem_limit: 'lots' }), fail), /mem_limit: "lots" is not a byte size/);
  assert.deepEqual(ulimitsOf({ nofile: { soft: 1024, hard: 2048 }, nproc: 65535 }, fail), { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 65535, hard: 65535 } });
  assert.deepEqual(tmpfsOf(['/run', '/cache:size=1m,mode=1777']), { '/run': '', '/cache': 'size=1m,mode=1777' });
  assert.deepEqual(tmpfsOf('/tmp'), { '/tmp': '' });
});

test('security_opt: no-new-privileges and seccomp (unconfined, Docker-format profile file)', () => {
  const dir = mkdtempSync('/tmp/berth-spec-seccomp-');
  try {
    writeFileSync(path.join(dir, 'profile.json'), JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO', archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
      syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_PTRACE'] } }],
    }));
    assert.deepEqual(securityOptionsOf(['no-new-privileges:true', 'seccomp=unconfined'], dir, fail), { noNewPrivileges: true, seccomp: 'unconfined' });
    assert.deepEqual(securityOptionsOf(['no-new-privileges'], dir, fail), { noNewPrivileges: true });
    assert.deepEqual(securityOptionsOf(['no-new-privileges=false', 'apparmor=unconfined'], dir, fail), { noNewPrivileges: false });
    assert.deepEqual(securityOptionsOf(['seccomp:profile.json'], dir, fail).seccomp, {
      defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.throws(() => securityOptionsOf(['seccomp=missing.json'], dir, fail), /cannot read seccomp profile/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lifecycle hooks and secret/config targets', () => {
  const hooks = lifecycleHooks(svc({
    post_start: [{ command: ['touch', '/ready'], user: 'root', environment: { A: '1' } }, { command: 'echo hi', privileged: true, working_dir: '/tmp' }],
    pre_stop: [{ command: ['sh', '-c', 'sleep 1'] }],
  }));
  assert.deepEqual(hooks.postStart, [
    { command: ['touch', '/ready'], user: 'root', privileged: false, workingDir: undefined, env: ['A=1'] },
    { command: ['/bin/sh', '-c', 'echo hi'], user: undefined, privileged: true, workingDir: '/tmp', env: [] },
  ]);
  assert.equal(hooks.preStop.length, 1);
  assert.deepEqual(lifecycleHooks(svc({})), { postStart: [], preStop: [] });
  assert.equal(fileTarget('secret', { source: 'db' }), '/run/secrets/db');
  assert.equal(fileTarget('secret', { source: 'db', target: 'pw' }), '/run/secrets/pw');
  assert.equal(fileTarget('secret', { source: 'db', target: '/etc/pw' }), '/etc/pw');
  assert.equal(fileTarget('config', { source: 'nginx' }), '/nginx');
  assert.equal(fileTarget('config', { source: 'nginx', target: '/etc/nginx.conf' }), '/etc/nginx.conf');
  assert.equal(fileMode(undefined), 0o444);
  assert.equal(fileMode('0440'), 0o440);
  assert.equal(fileMode(0o400), 0o400);
});

/** A project from YAML, a directory "rootfs" with passwd/group and image content, and a volume manager. */
async function fixture(t: import('node:test').TestContext, yaml: string, imageConfig: Record<string, unknown> = {}) {
  const dir = mkdtempSync('/tmp/berth-spec-unit-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const projectDir = path.join(dir, 'proj');
  mkdirSync(projectDir);
  writeFileSync(path.join(projectDir, 'compose.yaml'), yaml);
  const project = await loadProject({ cwd: projectDir, env: { PATH: process.env.PATH ?? '', SECRET_TOKEN: 's3cret' } });
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
  mkdirSync(path.join(rootfs, 'srv/data'), { recursive: true });
  writeFileSync(path.join(rootfs, 'srv/data/seed.txt'), 'seed\n');
  symlinkSync('seed.txt', path.join(rootfs, 'srv/data/link'));
  const volumes = new VolumeManager(path.join(dir, 'state'));
  const stateDir = path.join(dir, 'state', 'c');
  mkdirSync(stateDir, { recursive: true });
  const image = { id: 'sha256:x', refs: ['img'], config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: imageConfig } } as unknown as StoredImage;
  const input = (service: string, extra: Partial<SpecInput> = {}): SpecInput => ({
    project, service: project.services.get(service) as Service, image, containerId: `c-${service}`, name: `c-${service}`, number: 1, oneoff: false,
    rootfs, stateDir, logPath: path.join(stateDir, 'c.log'), labels: { a: 'b' },
    network: { mode: 'none', addresses: [], ports: [], files: {} }, volumes, ...extra,
  });
  return { dir, projectDir, project, rootfs, volumes, stateDir, input };
}

test('buildContainerSpec: process, user, lifecycle and limits from service and image', async (t) => {
  const f = await fixture(t, `
services:
  web:
    image: img
    environment: { B: two }
    working_dir: /srv/appdir
    user: app
    group_add: [staff]
    hostname: web.example.org
    stop_grace_period: 3s
    restart: on-failure:2
    init: true
    read_only: true
    tty: true
    mem_limit: 32m
    ulimits: { nofile: 512 }
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    sysctls: { net.core.somaxconn: 1024 }
    tmpfs: [/run]
    shm_size: 8m
    logging: { options: { max-size: 1k, max-file: "2" } }
`, { Entrypoint: ['/entry'], Cmd: ['serve'], Env: ['A=1', 'B=2'], StopSignal: 'SIGQUIT', Volumes: {} });
  const built = await buildContainerSpec(f.input('web'));
  assert.deepEqual(built.args, ['/entry', 'serve']);
  assert.deepEqual(built.env, ['A=1', 'B=two']);
  assert.equal(built.workingDir, '/srv/appdir');
  assert.ok(statSync(path.join(f.rootfs, 'srv/appdir')).isDirectory(), 'a missing working_dir is created in the rootfs');
  assert.equal(built.user, 'app');
  assert.deepEqual(built.spec.user, { uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' });
  assert.equal(built.spec.hostname, 'web');
  assert.equal(built.spec.domainname, 'example.org');
  assert.equal(built.stopSignal, 'SIGQUIT');
  assert.equal(built.stopGraceMs, 3000);
  assert.deepEqual(built.restart, { name: 'on-failure', maxRetries: 2 });
  assert.equal(built.tty, true);
  assert.equal(built.spec.init, true);
  assert.equal(built.spec.readOnly, true);
  assert.equal(built.spec.resources?.memory, 32 * 1024 * 1024);
  assert.deepEqual(built.spec.ulimits, { nofile: { soft: 512, hard: 512 } });
  assert.deepEqual(built.spec.capAdd, ['NET_ADMIN']);
  assert.deepEqual(built.spec.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(built.spec.tmpfs, { '/run': '' });
  assert.equal(built.spec.shmSize, 8 * 1024 * 1024);
  assert.deepEqual(built.spec.log, { path: path.join(f.stateDir, 'c.log'), maxSize: 1024, maxFile: 2 });
  assert.deepEqual(built.spec.labels, { a: 'b' });
  assert.equal(built.spec.network, 'none');

  const oneoff = await buildContainerSpec(f.input('web', { oneoff: true, overrides: { entrypoint: ['/bin/sh'], env: { C: '3' }, user: '0', workingDir: '/', tty: false } }));
  assert.deepEqual(oneoff.args, ['/bin/sh'], 'an overridden entrypoint drops the image CMD');
  assert.deepEqual(oneoff.env, ['A=1', 'B=two', 'C=3']);
  assert.deepEqual(oneoff.restart, { name: 'no', maxRetries: 0 }, 'one-off containers never restart');
  assert.deepEqual(oneoff.spec.user, { uid: 0, gid: 0, additionalGids: [50], home: '/root' });
});

test('buildContainerSpec: binds, named and anonymous volumes, tmpfs mounts, secrets and configs', async (t) => {
  const f = await fixture(t, `
services:
  web:
    image: img
    command: [sh]
    volumes:
      - ./made-for-me:/short
      - type: bind
        source: ./exists
        target: /long
        read_only: true
      - data:/srv/data
      - empty:/srv/data2:nocopy
      - /anon
      - type: tmpfs
        target: /scratch
        tmpfs: { size: 1m, mode: 0o1777 }
      - type: volume
        source: data
        target: /sub
        volume: { subpath: nested }
    secrets: [token, { source: file_secret, target: renamed, mode: 0400, uid: "1000", gid: "1000" }]
    configs: [inline, { source: inline, target: /etc/app.conf }]
  missing:
    image: img
    command: [sh]
    volumes:
      - type: bind
        source: ./not-there
        target: /x
volumes:
  data: {}
  empty: {}
secrets:
  token: { environment: SECRET_TOKEN }
  file_secret: { file: ./secret.txt }
configs:
  inline: { content: "key=value" }
`, { Volumes: { '/var/cache': {}, '/anon': {} } });
  mkdirSync(path.join(f.projectDir, 'exists'));
  writeFileSync(path.join(f.projectDir, 'secret.txt'), 'from-file\n');
  // subpath must exist in the volume: make the volume and the directory first.
  f.volumes.ensure(`${f.project.name}_data`, {});
  mkdirSync(path.join(f.volumes.path(`${f.project.name}_data`), 'nested'));
  const built = await buildContainerSpec(f.input('web'));
  const byTarget = new Map(built.spec.mounts?.map((m) => [m.target, m]));
  assert.ok(existsSync(path.join(f.projectDir, 'made-for-me')), 'short-syntax bind source is created');
  assert.deepEqual(byTarget.get('/short'), { type: 'bind', source: path.join(f.projectDir, 'made-for-me'), target: '/short', readOnly: false });
  assert.equal(byTarget.get('/long')?.readOnly, true);
  const data = f.volumes.path(`${f.project.name}_data`);
  assert.equal(byTarget.get('/srv/data')?.source, data);
  assert.equal(byTarget.get('/sub')?.source, path.join(data, 'nested'));
  // "data" had content (nested/) before the first mount, so nothing was copied into it.
  assert.ok(!existsSync(path.join(data, 'seed.txt')));
  const empty = f.volumes.path(`${f.project.name}_empty`);
  assert.deepEqual(readdirSync(empty), [], 'nocopy leaves the volume empty');
  assert.deepEqual(built.volumes, [`${f.project.name}_data`, `${f.project.name}_empty`]);
  assert.equal(f.volumes.inspect(`${f.project.name}_empty`)?.labels['com.docker.compose.volume'], 'empty');
  assert.equal(built.anonymousVolumes.length, 2, 'one for /anon (declared by service and image) and one for /var/cache');
  assert.equal(byTarget.get('/anon')?.source, f.volumes.path(built.anonymousVolumes[0]));
  assert.equal(byTarget.get('/var/cache')?.source, f.volumes.path(built.anonymousVolumes[1]));
  assert.deepEqual(anonymousVolumesOf(f.volumes, built.anonymousVolumes), { '/anon': built.anonymousVolumes[0], '/var/cache': built.anonymousVolumes[1] });
  assert.deepEqual(byTarget.get('/scratch'), { type: 'tmpfs', target: '/scratch', readOnly: false, tmpfsSize: 1024 * 1024, tmpfsMode: 0o1777 });
  const token = byTarget.get('/run/secrets/token');
  assert.equal(readFileSync(token?.source as string, 'utf8'), 's3cret');
  assert.equal(token?.readOnly, true);
  assert.equal(statSync(token?.source as string).mode & 0o777, 0o444);
  const renamed = byTarget.get('/run/secrets/renamed');
  assert.equal(readFileSync(renamed?.source as string, 'utf8'), 'from-file\n');
  assert.equal(statSync(renamed?.source as string).mode & 0o777, 0o400);
  assert.equal(statSync(renamed?.source as string).uid, 1000);
  assert.equal(readFileSync(byTarget.get('/inline')?.source as string, 'utf8'), 'key=value');
  assert.equal(readFileSync(byTarget.get('/etc/app.conf')?.source as string, 'utf8'), 'key=value');

  // A recreate keeps the anonymous volumes when asked to.
  const again = await buildContainerSpec(f.input('web', { inheritAnonymousVolumes: anonymousVolumesOf(f.volumes, built.anonymousVolumes) }));
  assert.deepEqual(again.anonymousVolumes, built.anonymousVolumes);

  await assert.rejects(buildContainerSpec(f.input('missing')), (err: Error & { hint?: string }) => {
    assert.match(err.message, /service "missing": volumes\[0\]: bind source path ".*not-there" does not exist/);
    assert.match(err.hint ?? '', /create_host_path/);
    return true;
  });
});

test('VolumeManager: populate copies content, modes, ownership and symlinks once; list and remove', async (t) => {
  const dir = mkdtempSync('/tmp/berth-volumes-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'source');
  mkdirSync(path.join(source, 'sub'), { recursive: true, mode: 0o750 });
  writeFileSync(path.join(source, 'sub/file'), 'x', { mode: 0o640 });
  symlinkSync('sub/file', path.join(source, 'link'));
  if (process.getuid?.() === 0) chownSync(path.join(source, 'sub/file'), 1234, 4321);
  const volumes = new VolumeManager(path.join(dir, 'state'));
  assert.deepEqual(volumes.ensure('v1', { 'com.docker.compose.project': 'p' }), { created: true, path: volumes.path('v1') });
  assert.equal(volumes.ensure('v1').created, false);
  assert.equal(await volumes.populateFromImage('v1', source), true);
  const data = volumes.path('v1');
  assert.equal(readFileSync(path.join(data, 'sub/file'), 'utf8'), 'x');
  assert.equal(statSync(path.join(data, 'sub/file')).mode & 0o777, 0o640);
  assert.equal(statSync(path.join(data, 'sub')).mode & 0o777, 0o750);
  if (process.getuid?.() === 0) assert.equal(statSync(path.join(data, 'sub/file')).uid, 1234);
  assert.equal(readlinkSync(path.join(data, 'link')), 'sub/file');
  rmSync(path.join(data, 'sub'), { recursive: true });
  assert.equal(await volumes.populateFromImage('v1', source), false, 'populated once only');
  volumes.ensure('v2', { 'com.docker.compose.project': 'q' });
  assert.deepEqual(volumes.list().map((v) => v.name), ['v1', 'v2']);
  assert.deepEqual(volumes.list({ project: 'p' }).map((v) => v.name), ['v1']);
  assert.equal(volumes.inspect('v1')?.labels['com.docker.compose.project'], 'p');
  assert.equal(volumes.remove('v1'), true);
  assert.equal(volumes.remove('v1'), false);
  assert.equal(volumes.exists('v1'), false);
  assert.throws(() => volumes.ensure('../evil'), /invalid volume name/);
});

test('VolumeManager: external volumes must exist', async (t) => {
  const dir = mkdtempSync('/tmp/berth-volumes-ext-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  a:\n    image: x\n    volumes: [shared:/s, own:/o]\nvolumes:\n  shared: { external: true, name: the-shared }\n  own: {}\n');
  const project = await loadProject({ cwd: dir, env: {} });
  const volumes = new VolumeManager(path.join(dir, 'state'));
  const events: string[] = [];
  await assert.rejects(volumes.ensureProjectVolumes(project, ['shared', 'own']), /external volume "the-shared" not found/);
  volumes.ensure('the-shared');
  await volumes.ensureProjectVolumes(project, ['shared', 'own'], (e) => events.push(`${e.type}:${(e as { action: string }).action}:${(e as { name: string }).name}`));
  assert.deepEqual(events, [`volume:create:${project.name}_own`]);
  await volumes.ensureProjectVolumes(project, ['own'], (e) => events.push(e.type));
  assert.equal(events.length, 1, 'an existing volume is not created again');
});
