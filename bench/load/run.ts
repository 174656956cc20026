/**
 * Benchmark: `berth load` of a generated ~100 MB docker-save tarball, median over runs, next to
 * the peer doing the same job: `skopeo copy docker-archive:… oci:…` plus GNU `tar -xf` of every
 * layer of the resulting OCI layout into a directory of its own (berth load stores the blobs and
 * unpacks the layers, as `docker load` does). skopeo's copy alone is printed too. Every timed
 * step starts after `sync`. Ratios are berth/peer (< 1: berth is faster). Usage (as root, after
 * `npm run build`):
 *   node dist/bench/load/run.js [--runs 5] [--size-mb 100]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeTar, type TarWriteEntry } from '../../src/images/layers/index.js';
import { packageRoot } from '../../src/paths.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const runs = Math.min(Math.max(option('runs', 5), 1), 10);
const sizeMb = option('size-mb', 100);
const berthBin = path.join(packageRoot, 'bin', 'berth.js');

/** A rootfs of many small files and a few large incompressible ones, about `sizeMb` in total. */
function* rootfsEntries(): Generator<TarWriteEntry> {
  const small = 2000;
  for (let index = 0; index < small; index++) {
    yield { path: `usr/share/small/${index % 50}/file-${index}.txt`, type: 'file', mode: 0o644, mtime: 0, body: randomBytes(2048).toString('hex') };
  }
  const bigCount = 20;
  const bigSize = Math.max(1, Math.floor(((sizeMb * 1024 * 1024) - small * 4096) / bigCount));
  for (let index = 0; index < bigCount; index++) {
    yield { path: `opt/data/blob-${index}.bin`, type: 'file', mode: 0o644, mtime: 0, body: randomBytes(bigSize) };
  }
  for (let index = 0; index < 200; index++) yield { path: `usr/bin/tool-${index}`, type: 'symlink', linkname: '../share/small/0/file-0.txt', mtime: 0 };
}

async function writeRootfsTar(file: string): Promise<void> {
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const { Readable } = await import('node:stream');
  await pipeline(Readable.from(writeTar(rootfsEntries())), createWriteStream(file));
}

function time(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  execFileSync('sync');
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return elapsed;
}

/** Extracts every layer of the OCI layout `dir` with GNU tar, one directory per layer; returns the time taken. */
function extractOciLayers(dir: string, into: string): number {
  const blob = (digest: string) => path.join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const start = process.hrtime.bigint();
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  let count = 0;
  for (const entry of index.manifests) {
    const manifest = JSON.parse(readFileSync(blob(entry.digest), 'utf8')) as { layers: { digest: string }[] };
    for (const layer of manifest.layers) {
      const target = path.join(into, String(count++));
      mkdirSync(target, { recursive: true });
      execFileSync('tar', ['-xf', blob(layer.digest), '-C', target, '--numeric-owner'], { stdio: 'ignore' });
    }
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: berth unpacks layers with their owners');
  const work = mkdtempSync('/tmp/berth-bench-load-');
  try {
    const rootfs = path.join(work, 'rootfs.tar');
    await writeRootfsTar(rootfs);
    const seed = path.join(work, 'seed');
    execFileSync(process.execPath, [berthBin, 'import', rootfs, 'bench/load:latest'], { env: { ...process.env, BERTH_ROOT: seed }, stdio: 'ignore' });
    const archive = path.join(work, 'archive.tar');
    execFileSync(process.execPath, [berthBin, 'save', '-o', archive, 'bench/load:latest'], { env: { ...process.env, BERTH_ROOT: seed } });
    rmSync(seed, { recursive: true, force: true });
    const archiveMb = statSync(archive).size / 1024 / 1024;
    const haveSkopeo = spawnSync('skopeo', ['--version']).status === 0;
    const berthTimes: number[] = [];
    const skopeoTimes: number[] = [];
    const peerTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const root = path.join(work, `berth-${run}`);
      berthTimes.push(time(process.execPath, [berthBin, 'load', '-q', '-i', archive], { BERTH_ROOT: root }));
      rmSync(root, { recursive: true, force: true });
      if (haveSkopeo) {
        const target = path.join(work, `skopeo-${run}`);
        const copy = time('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci:${target}:bench`]);
        skopeoTimes.push(copy);
        const unpacked = path.join(work, `peer-${run}`);
        peerTimes.push(copy + extractOciLayers(target, unpacked));
        rmSync(target, { recursive: true, force: true });
        rmSync(unpacked, { recursive: true, force: true });
      }
    }
    const lines = [
      `archive: ${archiveMb.toFixed(1)} MB docker-save tarball (1 layer, 2200 files), ${runs} runs`,
      `berth load (store + unpack)      median ${median(berthTimes).toFixed(0)} ms  (min ${Math.min(...berthTimes).toFixed(0)}, max ${Math.max(...berthTimes).toFixed(0)})`,
    ];
    if (haveSkopeo) {
      lines.push(`skopeo copy + tar -xf (peer)     median ${median(peerTimes).toFixed(0)} ms  (min ${Math.min(...peerTimes).toFixed(0)}, max ${Math.max(...peerTimes).toFixed(0)})`);
      lines.push(`skopeo copy docker-archive: oci: median ${median(skopeoTimes).toFixed(0)} ms  (min ${Math.min(...skopeoTimes).toFixed(0)}, max ${Math.max(...skopeoTimes).toFixed(0)})`);
      lines.push(`ratio berth/peer (load+unpack vs copy+tar): ${(median(berthTimes) / median(peerTimes)).toFixed(2)}  (< 1 means berth is faster)`);
      lines.push(`ratio berth/skopeo copy alone: ${(median(berthTimes) / median(skopeoTimes)).toFixed(2)}  (berth also unpacks)`);
    } else lines.push('skopeo not installed: no comparison');
    process.stdout.write(`${lines.join('\n')}\n`);
    writeFileSync(path.join(packageRoot, 'bench', 'load', 'last-run.txt'), `${new Date().toISOString()}\n${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
