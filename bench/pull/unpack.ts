/**
 * unpackLayer on its own, next to GNU `tar -xzf` on the same gzip layer (both as root, so both
 * set owners). Without a file argument it generates a ~20 MB gzip layer shaped like a distro
 * rootfs (thousands of small text files, some large ones, symlinks). Prints medians and MB/s
 * of uncompressed tar.
 *
 *   node dist/bench/pull/unpack.js [--runs 3] [--file layer.tar.gz] [--dir /dev/shm]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { unpackLayer, writeTar, type TarWriteEntry } from '../../src/images/layers/index.js';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

const runs = Math.min(Math.max(Number(option('runs') ?? 3), 1), 20);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** About 60 MB of tar (20 MB gzip): 5,000 small text files in 200 directories, 10 large files, 500 symlinks. */
function* layerEntries(): Generator<TarWriteEntry> {
  const words = ['berth', 'layer', 'registry', 'overlay', 'compose', 'service', 'volume', 'network'];
  for (let dir = 0; dir < 200; dir++) yield { path: `usr/lib/pkg-${dir}`, type: 'directory', mode: 0o755, mtime: 1_700_000_000 };
  for (let index = 0; index < 5000; index++) {
    const size = 512 + ((index * 7919) % 12000);
    let text = '';
    for (let line = 0; text.length < size; line++) text += `${index} ${words[line % 8]} ${words[(line * 3 + index) % 8]} ${(line * 2654435761) % 100000}\n`;
    yield { path: `usr/lib/pkg-${index % 200}/file-${index}.txt`, type: 'file', mode: 0o644, mtime: 1_700_000_000, body: text };
  }
  for (let index = 0; index < 10; index++) {
    const half = randomBytes(1024 * 1024);
    yield { path: `opt/big-${index}.bin`, type: 'file', mode: 0o755, mtime: 1_700_000_000, body: Buffer.concat([half, Buffer.alloc(1024 * 1024, index), half.subarray(0, 512 * 1024)]) };
  }
  for (let index = 0; index < 500; index++) yield { path: `usr/bin/tool-${index}`, type: 'symlink', linkname: `../lib/pkg-${index % 200}/file-${index}.txt`, mtime: 1_700_000_000 };
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(option('dir') ?? '/tmp', 'berth-bench-unpack-'));
  try {
    let file = option('file');
    if (!file) {
      file = path.join(work, 'layer.tar.gz');
      await pipeline(Readable.from(writeTar(layerEntries())), createGzip(), createWriteStream(file));
    }
    const tarBytes = Number(spawnSync('sh', ['-c', 'gzip -dc "$1" | wc -c', 'sh', file], { encoding: 'utf8' }).stdout.trim());
    const berthTimes: number[] = [];
    const tarTimes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const dest = path.join(work, `berth-${run}`);
      spawnSync('sync'); // neither side pays for the other's writeback
      let started = performance.now();
      await unpackLayer(createReadStream(file, { highWaterMark: 1024 * 1024 }), { dest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
      berthTimes.push(performance.now() - started);
      rmSync(dest, { recursive: true, force: true });
      const target = path.join(work, `tar-${run}`);
      mkdirSync(target);
      spawnSync('sync');
      started = performance.now();
      const result = spawnSync('tar', ['-xzf', file, '-C', target, '--numeric-owner', '--xattrs', '--xattrs-include=*'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      tarTimes.push(performance.now() - started);
      if (result.status !== 0) throw new Error(`tar failed: ${result.stderr}`);
      rmSync(target, { recursive: true, force: true });
    }
    const berth = median(berthTimes);
    const tar = median(tarTimes);
    const mb = tarBytes / 1e6;
    process.stdout.write(`layer: ${(statSync(file).size / 1e6).toFixed(1)} MB gzip, ${mb.toFixed(1)} MB tar; median of ${runs}\n`);
    process.stdout.write(`berth unpackLayer ${berth.toFixed(0)} ms (${(mb / (berth / 1000)).toFixed(0)} MB/s)  runs: ${berthTimes.map((t) => t.toFixed(0)).join(' ')}\n`);
    process.stdout.write(`tar -xzf          ${tar.toFixed(0)} ms (${(mb / (tar / 1000)).toFixed(0)} MB/s)  runs: ${tarTimes.map((t) => t.toFixed(0)).join(' ')}\n`);
    process.stdout.write(`ratio berth/tar: ${(berth / tar).toFixed(2)} (< 1 means berth is faster)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
