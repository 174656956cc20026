/** berth import/save/load through the CLI: configs from --change, round trips through docker-save and OCI layouts, hostile tarballs refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { runBerth, berthBin } from '../helpers/cli.js';
import { ImageStore } from '../../src/images/store/index.js';
import { isRoot, rawTar, tarBuffer, tempDir } from './fixtures.js';

async function rootfsTarball(dir: string): Promise<string> {
  const file = path.join(dir, 'rootfs.tar.gz');
  writeFileSync(file, gzipSync(await tarBuffer([
    { path: 'bin', type: 'directory' },
    { path: 'bin/app', type: 'file', mode: 0o755, body: '#!/bin/sh\necho app\n' },
    { path: 'etc/passwd', type: 'file', body: 'root:x:0:0:root:/root:/bin/sh\n' },
    { path: 'usr/share/doc/long', type: 'file', body: 'd'.repeat(5000) },
  ])));
  return file;
}

function hasSkopeo(): boolean {
  return spawnSync('skopeo', ['--version']).status === 0;
}

test('import with --change and -m writes the config like docker import', async (t) => {
  if (!isRoot) return t.skip('needs root: layers are unpacked with their owners');
  const dir = tempDir(t);
  const env = { BERTH_ROOT: path.join(dir, 'state') };
  const result = runBerth([
    'import', '-m', 'first import',
    '-c', 'CMD ["/bin/app", "--serve"]', '-c', 'ENTRYPOINT /bin/sh -c', '-c', 'ENV A=1 B="two words"', '-c', 'ENV C 3 4',
    '-c', 'WORKDIR /srv', '-c', 'WORKDIR data', '-c', 'EXPOSE 80 53/udp', '-c', 'USER 1000:1000', '-c', 'LABEL org.example.team=core',
    '-c', 'VOLUME ["/data"]', '-c', 'STOPSIGNAL SIGINT',
    await rootfsTarball(dir), 'example/app:1.0',
  ], { env });
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
  assert.match(result.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const store = await ImageStore.open(path.join(dir, 'state', 'images'));
  const image = await store.resolve('example/app:1.0');
  assert.ok(image);
  assert.equal(image.id, result.stdout.trim());
  assert.deepEqual(image.config.config, {
    Cmd: ['/bin/app', '--serve'],
    Entrypoint: ['/bin/sh', '-c', '/bin/sh -c'],
    Env: ['A=1', 'B=two words', 'C=3 4'],
    WorkingDir: '/srv/data',
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    User: '1000:1000',
    Labels: { 'org.example.team': 'core' },
    Volumes: { '/data': {} },
    StopSignal: 'SIGINT',
  });
  assert.equal(image.config.history?.[0].comment, 'first import');
  assert.equal(image.layers.length, 1);
  assert.equal(image.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(readFileSync(path.join(store.layerDir(image.layers[0].diffId), 'bin/app'), 'utf8'), '#!/bin/sh\necho app\n');
});

test('an unsupported --change instruction is a usage error', async (t) => {
  const dir = tempDir(t);
  const result = runBerth(['import', '-c', 'RUN rm -rf /', await rootfsTarball(dir), 'x:1'], { env: { BERTH_ROOT: path.join(dir, 'state') } });
  assert.equal(result.status, 1);
  assert.equal(result.stderr, 'error: invalid --change "RUN rm -rf /": unsupported instruction "RUN"\n  hint: supported instructions: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR\n');
});

test('a malicious rootfs tarball is refused and nothing is tagged', async (t) => {
  const dir = tempDir(t);
  const state = path.join(dir, 'state');
  const evil = path.join(dir, 'evil.tar');
  writeFileSync(evil, rawTar([{ name: 'ok', body: 'fine' }, { name: '../../evil', body: 'pwned' }]));
  const result = runBerth(['import', evil, 'evil:1'], { env: { BERTH_ROOT: state } });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^error: layer (sha256:[0-9a-f]{64} )?entry "\.\.\/\.\.\/evil": path escapes the layer directory\n$/);
  assert.ok(!existsSync(path.join(dir, 'evil')) && !existsSync(path.join(state, 'evil')));
  const store = await ImageStore.open(path.join(state, 'images'));
  assert.deepEqual(await store.listImages(), []);
  assert.ok(!existsSync(path.join(state, 'images', 'layers', 'sha256')) || execFileSync('ls', [path.join(state, 'images', 'layers', 'sha256')], { encoding: 'utf8' }) === '');
});

test('save then load round-trips through docker-save/OCI tarballs, stdin and an OCI layout directory', async (t) => {
  if (!isRoot) return t.skip('needs root: layers are unpacked with their owners');
  const dir = tempDir(t);
  const first = { BERTH_ROOT: path.join(dir, 'first') };
  assert.equal(runBerth(['import', '-c', 'CMD ["/bin/app"]', await rootfsTarball(dir), 'example/app:1.0'], { env: first }).status, 0);
  assert.equal(runBerth(['import', await rootfsTarball(dir), 'localhost:5000/other:2'], { env: first }).status, 0);
  const archive = path.join(dir, 'images.tar');
  const saved = runBerth(['save', '-o', archive, 'example/app:1.0', 'localhost:5000/other:2'], { env: first });
  assert.equal(saved.stderr, '');
  assert.equal(saved.status, 0);
  const listing = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n');
  for (const name of ['index.json', 'manifest.json', 'oci-layout']) assert.ok(listing.includes(name), name);
  const dockerManifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as Array<{ RepoTags: string[] }>;
  assert.deepEqual(dockerManifest.map((item) => item.RepoTags), [['example/app:1.0'], ['localhost:5000/other:2']]);
  const again = path.join(dir, 'again.tar');
  runBerth(['save', '-o', again, 'example/app:1.0', 'localhost:5000/other:2'], { env: first });
  assert.deepEqual(readFileSync(again), readFileSync(archive), 'save output is deterministic');

  const firstStore = await ImageStore.open(path.join(dir, 'first', 'images'));
  const original = await firstStore.resolve('example/app:1.0');

  const fromFile = { BERTH_ROOT: path.join(dir, 'second') };
  const loaded = runBerth(['load', '-i', archive], { env: fromFile });
  assert.equal(loaded.stderr, '');
  assert.equal(loaded.stdout, 'Loaded image: example/app:1.0\nLoaded image: localhost:5000/other:2\n');
  const secondStore = await ImageStore.open(path.join(dir, 'second', 'images'));
  const copy = await secondStore.resolve('example/app:1.0');
  assert.equal(copy?.manifestDigest, original?.manifestDigest);
  assert.deepEqual(copy?.config.config?.Cmd, ['/bin/app']);
  assert.ok(await secondStore.hasLayer(copy!.layers[0].diffId));

  // docker load also takes compressed archives: feed a gzipped one through stdin.
  const fromStdin = spawnSync(process.execPath, [berthBin, 'load'], { input: gzipSync(readFileSync(archive)), env: { ...process.env, BERTH_ROOT: path.join(dir, 'third') }, encoding: 'utf8' });
  assert.equal(fromStdin.stdout, 'Loaded image: example/app:1.0\nLoaded image: localhost:5000/other:2\n');

  const layout = path.join(dir, 'layout');
  mkdirSync(layout);
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  const fromDir = runBerth(['load', '-i', layout], { env: { BERTH_ROOT: path.join(dir, 'fourth') } });
  assert.equal(fromDir.stderr, '');
  assert.equal(fromDir.stdout, 'Loaded image: example/app:1.0\nLoaded image: localhost:5000/other:2\n');
});

test('archives written by skopeo (legacy docker-archive and OCI layout) load', async (t) => {
  if (!isRoot) return t.skip('needs root: layers are unpacked with their owners');
  if (!hasSkopeo()) return t.skip('needs skopeo (Debian package skopeo)');
  const dir = tempDir(t);
  const first = { BERTH_ROOT: path.join(dir, 'first') };
  assert.equal(runBerth(['import', await rootfsTarball(dir), 'example/app:1.0'], { env: first }).status, 0);
  const archive = path.join(dir, 'images.tar');
  assert.equal(runBerth(['save', '-o', archive, 'example/app:1.0'], { env: first }).status, 0);
  const legacy = path.join(dir, 'legacy.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${archive}`, `docker-archive:${legacy}:example/legacy:3`]);
  const oci = path.join(dir, 'oci');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci:${oci}:example/oci:4`]);
  const env = { BERTH_ROOT: path.join(dir, 'second') };
  const fromLegacy = runBerth(['load', '-i', legacy], { env });
  assert.equal(fromLegacy.stderr, '');
  assert.equal(fromLegacy.stdout, 'Loaded image: example/legacy:3\n');
  const fromOci = runBerth(['load', '-i', oci], { env });
  assert.equal(fromOci.stderr, '');
  assert.equal(fromOci.stdout, 'Loaded image: example/oci:4\n');
  const store = await ImageStore.open(path.join(dir, 'second', 'images'));
  const image = await store.resolve('example/oci:4');
  assert.ok(image && (await store.hasLayer(image.layers[0].diffId)));
});
