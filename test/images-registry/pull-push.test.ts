/**
 * Pull and push against a real registry (Debian's docker-registry on 127.0.0.1): images built
 * into one store, pushed with berth's push, pulled into a fresh store, with gzip and zstd
 * layers, multi-platform indexes, mirrors, corrupt and interrupted downloads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ImageError, RegistryError } from '../../src/errors.js';
import { ImageStore } from '../../src/images/store/index.js';
import { pullImage, pushClient, pushImage, type PullProgress } from '../../src/images/registry/index.js';
import { hostPlatform } from '../../src/images/registry/platform.js';
import { MediaTypes, type OciIndex } from '../../src/images/types.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage, buildImage } from './build-image.js';
import { startProxy } from './proxy.js';

const cleanups: (() => unknown)[] = [];
const afterHost = { after: (fn: () => unknown) => { cleanups.push(fn); } };
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A fresh BERTH_ROOT with its own store and Docker config dir (never the user's). */
async function freshState(): Promise<{ root: string; store: ImageStore; env: NodeJS.ProcessEnv }> {
  const root = mkdtempSync('/tmp/berth-test-');
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const env = { ...process.env, BERTH_ROOT: root, DOCKER_CONFIG: path.join(root, 'docker'), BERTH_REGISTRY_MIRRORS: '', BERTH_INSECURE_REGISTRIES: '' };
  return { root, store: await ImageStore.open(path.join(root, 'images')), env };
}

describe('registry pull and push', () => {
  let registry: TestRegistry;
  let source: { store: ImageStore; env: NodeJS.ProcessEnv };

  before(async () => {
    registry = await startRegistry(afterHost);
    source = await freshState();
  });

  test('an image pushed with berth pulls back into an empty store, layers unpacked', async () => {
    const built = await buildBusyboxImage(source.store, `${registry.host}/test/busybox:1`, { marker: 'gzip\n' });
    const pushed = await pushImage(source.store, `${registry.host}/test/busybox:1`, undefined, { env: source.env });
    assert.equal(pushed.digest, built.manifestDigest);
    assert.equal(pushed.ref, `${registry.host}/test/busybox:1`);

    const { store, env } = await freshState();
    const events: PullProgress[] = [];
    const image = await pullImage(store, `${registry.host}/test/busybox:1`, { env, onProgress: (event) => events.push(event) });
    assert.equal(image.id, built.id);
    assert.equal(image.manifestDigest, built.manifestDigest);
    assert.deepEqual(image.refs, [`${registry.host}/test/busybox:1`]);
    assert.equal(image.layers.length, 2);
    const [base, top] = image.layers;
    assert.ok(existsSync(path.join(store.layerDir(base.diffId), 'bin', 'busybox')));
    assert.equal(readFileSync(path.join(store.layerDir(top.diffId), 'etc', 'berth-marker'), 'utf8'), 'gzip\n');
    assert.ok(events.some((event) => event.kind === 'layer' && event.phase === 'done'));

    // Pulling again downloads nothing: every layer is already unpacked.
    const again: PullProgress[] = [];
    await pullImage(store, `${registry.host}/test/busybox:1`, { env, onProgress: (event) => again.push(event) });
    assert.deepEqual(again.filter((event) => event.kind === 'layer' && event.phase !== 'waiting').map((event) => (event as { phase: string }).phase), ['exists', 'exists']);
    assert.ok((await store.lastPull(`${registry.host}/test/busybox:1`)) instanceof Date);

    // Pushing again uploads nothing: the registry has every blob.
    const phases: string[] = [];
    await pushImage(source.store, `${registry.host}/test/busybox:1`, undefined, { env: source.env, onProgress: (event) => phases.push(event.phase) });
    assert.deepEqual(phases, ['exists', 'exists', 'exists']);
    // Pushing to another repository of the same registry mounts the blobs instead of uploading them.
    const mounted: string[] = [];
    await pushImage(source.store, `${registry.host}/test/busybox:1`, `${registry.host}/test/copy:2`, { env: source.env, onProgress: (event) => mounted.push(event.phase) });
    assert.deepEqual(mounted.filter((phase) => phase !== 'uploading'), ['mounted', 'mounted', 'mounted']);
  });

  test('zstd layers and Docker schema2 gzip layers pull and unpack; chunked uploads work', async () => {
    const zstd = await buildImage(source.store, `${registry.host}/test/zstd:1`, { compression: 'zstd', layers: [{ files: { 'hello.txt': 'zstd layer\n', 'dir/nested': 'x'.repeat(100_000) } }] });
    assert.equal(zstd.layers[0].mediaType, MediaTypes.ociLayerZstd);
    await pushImage(source.store, `${registry.host}/test/zstd:1`, undefined, { env: source.env, chunkSize: 4096 });
    const docker = await buildImage(source.store, `${registry.host}/test/docker:1`, { docker: true, layers: [{ files: { 'docker.txt': 'schema2\n' } }] });
    assert.equal(docker.manifest.mediaType, MediaTypes.dockerManifest);
    await pushImage(source.store, `${registry.host}/test/docker:1`, undefined, { env: source.env });

    const { store, env } = await freshState();
    const pulledZstd = await pullImage(store, `${registry.host}/test/zstd:1`, { env });
    assert.equal(readFileSync(path.join(store.layerDir(pulledZstd.layers[0].diffId), 'hello.txt'), 'utf8'), 'zstd layer\n');
    assert.equal(readFileSync(path.join(store.layerDir(pulledZstd.layers[0].diffId), 'dir/nested'), 'utf8').length, 100_000);
    const pulledDocker = await pullImage(store, `${registry.host}/test/docker:1`, { env });
    assert.equal(pulledDocker.id, docker.id);
    assert.equal(readFileSync(path.join(store.layerDir(pulledDocker.layers[0].diffId), 'docker.txt'), 'utf8'), 'schema2\n');
  });

  test('a multi-platform index: the host platform by default, another with platform', async () => {
    const amd64 = await buildImage(source.store, `${registry.host}/test/multi:amd64`, { architecture: 'amd64', layers: [{ files: { arch: 'amd64\n' } }] });
    const arm64 = await buildImage(source.store, `${registry.host}/test/multi:arm64`, { architecture: 'arm64', variant: 'v8', layers: [{ files: { arch: 'arm64\n' } }] });
    await pushImage(source.store, amd64.manifestDigest, `${registry.host}/test/multi@${amd64.manifestDigest}`, { env: source.env });
    await pushImage(source.store, arm64.manifestDigest, `${registry.host}/test/multi@${arm64.manifestDigest}`, { env: source.env });
    const index: OciIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        { mediaType: MediaTypes.ociManifest, digest: arm64.manifestDigest, size: (await source.store.readBlob(arm64.manifestDigest)).length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: MediaTypes.ociManifest, digest: amd64.manifestDigest, size: (await source.store.readBlob(amd64.manifestDigest)).length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    await pushClient(`${registry.host}/test/multi:latest`, { env: source.env }).putManifest('latest', Buffer.from(JSON.stringify(index)), MediaTypes.ociIndex);

    const { store, env } = await freshState();
    const host = hostPlatform();
    const native = await pullImage(store, `${registry.host}/test/multi`, { env });
    assert.equal(native.config.architecture, host.architecture === 'arm64' ? 'arm64' : 'amd64');
    const other = host.architecture === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const foreign = await pullImage(store, `${registry.host}/test/multi:latest`, { env, platform: other });
    assert.equal(foreign.config.architecture, other.split('/')[1]);
    assert.equal(readFileSync(path.join(store.layerDir(foreign.layers[0].diffId), 'arch'), 'utf8'), `${other.split('/')[1]}\n`);
    await assert.rejects(pullImage(store, `${registry.host}/test/multi`, { env, platform: 'linux/s390x' }), (err: unknown) => {
      assert.ok(err instanceof ImageError);
      assert.match(err.message, /no variant for platform linux\/s390x/);
      assert.equal(err.hint, 'available platforms: linux/arm64/v8, linux/amd64; choose one with --platform');
      return true;
    });
  });

  test('mirrors: "busybox" resolves through the local registry', async () => {
    await buildBusyboxImage(source.store, `${registry.host}/library/busybox:latest`, { marker: 'mirrored\n' });
    await pushImage(source.store, `${registry.host}/library/busybox:latest`, undefined, { env: source.env });
    const { root, store, env } = await freshState();
    writeFileSync(path.join(root, 'registries.json'), JSON.stringify({ mirrors: { 'docker.io': [`http://${registry.host}`] } }));
    const image = await pullImage(store, 'busybox', { env, retries: 0 });
    assert.deepEqual(image.refs, ['docker.io/library/busybox:latest']);
    assert.equal(readFileSync(path.join(store.layerDir(image.layers[1].diffId), 'etc/berth-marker'), 'utf8'), 'mirrored\n');
    assert.equal((await store.resolve('busybox'))?.id, image.id);
    // The environment variable works too.
    const second = await freshState();
    const viaEnv = await pullImage(second.store, 'busybox:latest', { env: { ...second.env, BERTH_REGISTRY_MIRRORS: `docker.io=http://${registry.host}` }, retries: 0 });
    assert.equal(viaEnv.id, image.id);
  });

  test('a corrupted blob is rejected naming the ref and digest, and nothing is stored', async () => {
    const built = await buildImage(source.store, `${registry.host}/test/corrupt:1`, { layers: [{ files: { 'data.bin': Buffer.alloc(50_000, 7) } }] });
    await pushImage(source.store, `${registry.host}/test/corrupt:1`, undefined, { env: source.env });
    const layerDigest = built.layers[0].digest;
    const proxy = await startProxy(afterHost, registry.host, { corruptBlob: layerDigest });
    const { store, env } = await freshState();
    const ref = `${proxy.host}/test/corrupt:1`;
    await assert.rejects(pullImage(store, ref, { env }), (err: unknown) => {
      assert.ok(err instanceof RegistryError, String(err));
      assert.match(err.message, new RegExp(`blob ${layerDigest} of "${ref}" failed verification`));
      return true;
    });
    assert.equal(await store.hasBlob(layerDigest), false);
    assert.equal(await store.resolve(ref), undefined);
    assert.deepEqual(readdirSync(path.join(store.root, 'tmp')), []);
  });

  test('an interrupted download resumes with a Range request', async () => {
    const built = await buildImage(source.store, `${registry.host}/test/resume:1`, { compression: 'none', layers: [{ files: { 'big.bin': Buffer.alloc(3_000_000, 1) } }] });
    await pushImage(source.store, `${registry.host}/test/resume:1`, undefined, { env: source.env });
    const layerDigest = built.layers[0].digest;

    // Without retries the first pull fails and keeps the partial file; the next pull resumes it.
    const proxy = await startProxy(afterHost, registry.host, { cutBlobOnce: { digest: layerDigest, afterBytes: 1_000_000 } });
    const { store, env } = await freshState();
    const ref = `${proxy.host}/test/resume:1`;
    await assert.rejects(pullImage(store, ref, { env, retries: 0 }), RegistryError);
    assert.ok(existsSync(store.partialPath(layerDigest)));
    const image = await pullImage(store, ref, { env, retries: 0 });
    assert.equal(image.id, built.id);
    const ranged = proxy.requests.filter((request) => request.path.endsWith(layerDigest) && request.range);
    assert.equal(ranged.length, 1);
    assert.match(ranged[0].range!, /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(ranged[0].range!)![0]) > 0);
    assert.equal(existsSync(store.partialPath(layerDigest)), false);

    // With retries (the default) one pull gets through by itself.
    const proxy2 = await startProxy(afterHost, registry.host, { cutBlobOnce: { digest: layerDigest, afterBytes: 500_000 } });
    const fresh = await freshState();
    const again = await pullImage(fresh.store, `${proxy2.host}/test/resume:1`, { env: fresh.env });
    assert.equal(again.id, built.id);
    assert.equal(proxy2.requests.filter((request) => request.path.endsWith(layerDigest) && request.range).length, 1);
  });

  test('5xx and 429 answers are retried with backoff, and reported once retries run out', async () => {
    await buildImage(source.store, `${registry.host}/test/flaky:1`, { layers: [{ files: { 'flaky.txt': 'retry\n' } }] });
    await pushImage(source.store, `${registry.host}/test/flaky:1`, undefined, { env: source.env });
    const flaky = await startProxy(afterHost, registry.host, { failFirst: { count: 3, status: 503 } });
    const { store, env } = await freshState();
    const image = await pullImage(store, `${flaky.host}/test/flaky:1`, { env });
    assert.equal(image.layers.length, 1);
    assert.equal(flaky.requests.filter((request) => request.status === 503).length, 3);
    const limited = await startProxy(afterHost, registry.host, { failFirst: { count: 5, status: 429 } });
    await assert.rejects(pullImage((await freshState()).store, `${limited.host}/test/flaky:1`, { env, retries: 1 }), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 429);
      assert.match(err.message, /answered HTTP 429 2 times/);
      return true;
    });
  });

  test('an aborted pull stops, stores no ref and leaves no lease behind', async () => {
    await buildImage(source.store, `${registry.host}/test/abort:1`, { compression: 'none', layers: [{ files: { 'big.bin': Buffer.alloc(4_000_000, 3) } }] });
    await pushImage(source.store, `${registry.host}/test/abort:1`, undefined, { env: source.env });
    const { store, env } = await freshState();
    const controller = new AbortController();
    await assert.rejects(pullImage(store, `${registry.host}/test/abort:1`, {
      env,
      signal: controller.signal,
      onProgress: (event) => { if (event.kind === 'layer' && event.phase === 'downloading' && (event.current ?? 0) > 0) controller.abort(); },
    }), (err: unknown) => (err as Error).name === 'AbortError');
    assert.equal(await store.resolve(`${registry.host}/test/abort:1`), undefined);
    assert.deepEqual(readdirSync(path.join(store.root, 'leases')), []);
    // The next pull completes (resuming whatever part arrived).
    const image = await pullImage(store, `${registry.host}/test/abort:1`, { env });
    assert.equal(image.layers.length, 1);
  });

  test('errors: unknown image, unknown tag, unreachable registry', async () => {
    const { store, env } = await freshState();
    await assert.rejects(pullImage(store, `${registry.host}/test/nothing:1`, { env }), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 404);
      assert.match(err.message, /not found/);
      return true;
    });
    await assert.rejects(pullImage(store, '127.0.0.1:1/x:1', { env, retries: 0 }), /cannot reach 127\.0\.0\.1:1/);
  });
});
