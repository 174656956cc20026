/** Registry settings (registries.json + environment), challenge parsing and platform choice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isInsecureRegistry, loadRegistryConfig, parseChallenge, registryEndpoints, selectManifest } from '../../src/images/registry/index.js';
import { shouldPull, parsePullInterval } from '../../src/images/registry/pull-policy.js';
import { ImageStore } from '../../src/images/store/index.js';
import { MediaTypes } from '../../src/images/types.js';
import { buildImage } from './build-image.js';

test('plain HTTP only for loopback and listed registries; mirrors from file and environment', (t) => {
  const root = mkdtempSync('/tmp/berth-test-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ insecure: ['registry.lan:5000'], mirrors: { 'docker.io': ['mirror.example.com'], 'quay.io': ['http://10.0.0.1:5000/v2/'] } }));
  const config = loadRegistryConfig({ BERTH_ROOT: root, BERTH_INSECURE_REGISTRIES: 'other.lan', BERTH_REGISTRY_MIRRORS: 'http://127.0.0.1:5000' });
  for (const host of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'registry.lan:5000', 'other.lan:443']) assert.equal(isInsecureRegistry(host, config), true, host);
  for (const host of ['docker.io', 'registry.lan:6000', 'ghcr.io', '10.0.0.1:5000']) assert.equal(isInsecureRegistry(host, config), false, host);
  assert.deepEqual(registryEndpoints('docker.io', config, 'pull').map((endpoint) => [endpoint.url.href, endpoint.mirror]), [
    ['http://127.0.0.1:5000/', true],
    ['https://mirror.example.com/', true],
    ['https://registry-1.docker.io/', false],
  ]);
  assert.deepEqual(registryEndpoints('docker.io', config, 'push').map((endpoint) => endpoint.url.href), ['https://registry-1.docker.io/']);
  assert.deepEqual(registryEndpoints('quay.io', config, 'pull').map((endpoint) => endpoint.url.href), ['http://10.0.0.1:5000/', 'https://quay.io/']);
  assert.equal(registryEndpoints('localhost:5000', config, 'pull')[0].url.href, 'http://localhost:5000/');
  writeFileSync(path.join(root, 'registries.json'), '{oops');
  assert.throws(() => loadRegistryConfig({ BERTH_ROOT: root }), /registry settings ".*registries\.json" are not valid JSON/);
});

test('WWW-Authenticate challenges parse with quoted values', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.equal(parseChallenge(undefined), undefined);
});

test('platform selection: exact variant, arm64 v8 equivalence, unknown entries skipped', () => {
  const entry = (digest: string, architecture: string, variant?: string, os = 'linux') => ({ mediaType: MediaTypes.ociManifest, digest, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } });
  const manifests = [entry('sha256:u', 'unknown', undefined, 'unknown'), entry('sha256:a', 'amd64'), entry('sha256:b', 'arm64'), entry('sha256:c', 'arm', 'v6'), entry('sha256:d', 'arm', 'v7')];
  assert.equal(selectManifest(manifests, { os: 'linux', architecture: 'amd64' })?.digest, 'sha256:a');
  assert.equal(selectManifest(manifests, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, 'sha256:b');
  assert.equal(selectManifest(manifests, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, 'sha256:d');
  assert.equal(selectManifest(manifests, { os: 'windows', architecture: 'amd64' }), undefined);
});

test('pull_policy decisions, including every_<duration> against the recorded last pull', async (t) => {
  const root = mkdtempSync('/tmp/berth-test-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const store = await ImageStore.open(path.join(root, 'images'));
  assert.equal(parsePullInterval('1h30m'), 5_400_000);
  assert.throws(() => parsePullInterval('soon'), /invalid pull_policy interval "soon"/);
  assert.equal(await shouldPull(store, 'app:1', 'missing'), true);
  assert.equal(await shouldPull(store, 'app:1', undefined), true);
  assert.equal(await shouldPull(store, 'app:1', 'never'), false);
  await buildImage(store, 'app:1', { layers: [{ files: { a: 'a' } }] });
  assert.equal(await shouldPull(store, 'app:1', 'missing'), false);
  assert.equal(await shouldPull(store, 'app:1', undefined, { explicitPull: true }), true);
  // Built locally, never pulled: time-based policies pull.
  assert.equal(await shouldPull(store, 'app:1', 'daily'), true);
  const pulledAt = new Date('2026-01-01T00:00:00Z');
  await store.recordPull('app:1', pulledAt);
  assert.equal(await shouldPull(store, 'app:1', 'daily', { now: new Date('2026-01-01T23:00:00Z') }), false);
  assert.equal(await shouldPull(store, 'app:1', 'daily', { now: new Date('2026-01-02T00:00:00Z') }), true);
  assert.equal(await shouldPull(store, 'app:1', 'every_12h', { now: new Date('2026-01-01T12:00:01Z') }), true);
  assert.equal(await shouldPull(store, 'app:1', 'weekly', { now: new Date('2026-01-07T00:00:00Z') }), false);
  await assert.rejects(shouldPull(store, 'app:1', 'sometimes'), /unknown pull_policy "sometimes"/);
});
