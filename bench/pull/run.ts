/**
 * Pull benchmark: a ~100 MB, 5-layer image (half random, half compressible text) is pushed to a
 * local docker-registry, then pulled into a fresh store several times, side by side with the
 * peer doing the same job: `skopeo copy docker://... dir:...`, plus (for pull+unpack) GNU
 * `tar -xzf` of each layer into a directory of its own, 3 at a time as berth does. Every timed
 * step starts after `sync`, so no one pays for the previous step's writeback. Prints medians
 * and ratios berth/peer (< 1: berth is faster).
 *
 *   node dist/bench/pull/run.js [runs=3] [megabytes=100]
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ImageStore } from '../../src/images/store/index.js';
import { mapLimit, pullImage, pushImage, RegistryClient, registryEndpoints, loadRegistryConfig } from '../../src/images/registry/index.js';
import { parseReference } from '../../src/images/reference.js';
import { startRegistry } from '../../test/helpers/registry.js';
import { buildImage } from '../../test/images-registry/build-image.js';

const execFileAsync = promisify(execFile);
const runs = Math.min(Math.max(Number(process.argv[2] ?? 3), 1), 10);
const megabytes = Math.min(Math.max(Number(process.argv[3] ?? 100), 1), 2000);
const layerCount = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function layerFiles(layer: number, bytes: number): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const fileSize = 1024 * 1024;
  const words = ['berth', 'layer', 'registry', 'overlay', 'compose', 'service', 'volume', 'network'];
  for (let index = 0; index * fileSize < bytes; index++) {
    if (index % 2 === 0) {
      files[`data/l${layer}/random-${index}.bin`] = randomBytes(fileSize);
    } else {
      const lines: string[] = [];
      let size = 0;
      for (let line = 0; size < fileSize; line++) {
        const text = `${line} ${words[line % words.length]} ${words[(line * 7) % words.length]} ${Math.random().toString(36).slice(2, 8)}\n`;
        lines.push(text);
        size += text.length;
      }
      files[`data/l${layer}/text-${index}.txt`] = Buffer.from(lines.join('')).subarray(0, fileSize);
    }
  }
  return files;
}

async function main(): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  const host = { after: (fn: () => unknown) => { cleanups.push(fn); } };
  const work = mkdtempSync('/tmp/berth-bench-');
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  try {
    const registry = await startRegistry(host);
    const env = { ...process.env, BERTH_ROOT: work, DOCKER_CONFIG: path.join(work, 'docker'), BERTH_REGISTRY_MIRRORS: '', BERTH_INSECURE_REGISTRIES: '' };
    const ref = `${registry.host}/bench/big:1`;
    const source = await ImageStore.open(path.join(work, 'source'));
    const perLayer = Math.ceil((megabytes * 1024 * 1024) / layerCount);
    const built = await buildImage(source, ref, { layers: Array.from({ length: layerCount }, (_, layer) => ({ files: layerFiles(layer, perLayer) })) });
    const compressed = built.layers.reduce((sum, layer) => sum + layer.size, 0);
    await pushImage(source, ref, undefined, { env });
    process.stdout.write(`image: ${layerCount} layers, ${megabytes} MB unpacked, ${(compressed / 1e6).toFixed(1)} MB compressed (gzip)\n`);

    const berthTimes: number[] = [];
    const downloadTimes: number[] = [];
    const skopeoTimes: number[] = [];
    const peerTimes: number[] = [];
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    for (let run = 0; run < runs; run++) {
      const storeDir = path.join(work, `store-${run}`);
      const store = await ImageStore.open(storeDir);
      execFileSync('sync');
      let started = performance.now();
      await pullImage(store, ref, { env });
      berthTimes.push(performance.now() - started);
      rmSync(storeDir, { recursive: true, force: true });

      // berth's download alone (same client, no unpack), to compare like with like.
      const downloadStore = await ImageStore.open(path.join(work, `download-${run}`));
      const parsed = parseReference(ref);
      const client = new RegistryClient({ imageRef: ref, endpoint: registryEndpoints(parsed.domain, loadRegistryConfig(env), 'pull')[0], repository: parsed.path, access: 'pull', credentials: null, env });
      execFileSync('sync');
      started = performance.now();
      await client.getManifest(parsed.tag!);
      await mapLimit([built.manifest.config, ...built.manifest.layers], 3, async (blob) => client.downloadBlob(downloadStore, blob.digest, blob.size));
      downloadTimes.push(performance.now() - started);
      rmSync(downloadStore.root, { recursive: true, force: true });

      const target = path.join(work, `skopeo-${run}`);
      execFileSync('sync');
      started = performance.now();
      execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `dir:${target}`], { stdio: 'inherit' });
      const copied = performance.now();
      skopeoTimes.push(copied - started);
      // The peer's unpack: GNU tar (with its gzip) into one directory per layer, 3 at a time.
      await mapLimit(built.manifest.layers, 3, async (layer, index) => {
        const dir = path.join(work, `peer-${run}`, String(index));
        mkdirSync(dir, { recursive: true });
        await execFileAsync('tar', ['-xzf', path.join(target, layer.digest.replace(/^sha256:/, '')), '-C', dir, '--numeric-owner']);
      });
      peerTimes.push(performance.now() - started);
      rmSync(target, { recursive: true, force: true });
      rmSync(path.join(work, `peer-${run}`), { recursive: true, force: true });
      process.stdout.write(`run ${run + 1}: berth pull+unpack ${seconds(berthTimes[run])}, skopeo+tar ${seconds(peerTimes[run])}; berth download ${seconds(downloadTimes[run])}, skopeo copy ${seconds(skopeoTimes[run])}\n`);
    }
    const berth = median(berthTimes);
    const peer = median(peerTimes);
    const skopeo = median(skopeoTimes);
    const download = median(downloadTimes);
    process.stdout.write(`median over ${runs} runs:\n`);
    process.stdout.write(`  download only:  berth ${seconds(download)}  skopeo copy ${seconds(skopeo)}  ratio berth/peer ${(download / skopeo).toFixed(2)}\n`);
    process.stdout.write(`  pull + unpack:  berth ${seconds(berth)}  skopeo copy + tar -xzf ${seconds(peer)}  ratio berth/peer ${(berth / peer).toFixed(2)}\n`);
    process.stdout.write('  (ratio < 1 means berth is faster)\n');
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

await main();
