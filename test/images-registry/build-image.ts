/**
 * Builds small images directly into a berth ImageStore for the registry tests: each layer is a
 * directory tarred with GNU tar, compressed with zlib (gzip) or the zstd CLI, stored as blobs
 * with a config and manifest, and tagged.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore, type StoredImage } from '../../src/images/store/index.js';
import { MediaTypes, type OciImageConfig, type OciManifest } from '../../src/images/types.js';
import { makeBusyboxRootfs, removeRootfs } from '../helpers/busybox-rootfs.js';

/** One layer: an existing directory or files to write (path → content). */
export type LayerSource = { dir: string } | { files: Record<string, string | Buffer> };

/** Options of buildImage. */
export interface BuildImageOptions {
  layers: LayerSource[];
  compression?: 'gzip' | 'zstd' | 'none';
  architecture?: string;
  variant?: string;
  /** Docker schema2 media types instead of OCI ones. */
  docker?: boolean;
  cmd?: string[];
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function tarDirectory(dir: string): Buffer {
  return execFileSync('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1024 * 1024 * 1024 });
}

function compress(tar: Buffer, compression: 'gzip' | 'zstd' | 'none'): Buffer {
  if (compression === 'gzip') return gzipSync(tar, { level: 1 });
  if (compression === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1024 * 1024 * 1024 });
  return tar;
}

/** Builds an image into `store` and tags it `ref`; returns the stored image. */
export async function buildImage(store: ImageStore, ref: string, options: BuildImageOptions): Promise<StoredImage> {
  const compression = options.compression ?? 'gzip';
  const layerType = options.docker
    ? (compression === 'gzip' ? MediaTypes.dockerLayerGzip : MediaTypes.dockerLayer)
    : compression === 'gzip' ? MediaTypes.ociLayerGzip : compression === 'zstd' ? MediaTypes.ociLayerZstd : MediaTypes.ociLayer;
  const diffIds: string[] = [];
  const layers: OciManifest['layers'] = [];
  for (const source of options.layers) {
    let dir: string;
    let temp: string | undefined;
    if ('dir' in source) dir = source.dir;
    else {
      temp = mkdtempSync('/tmp/berth-layer-');
      dir = temp;
      for (const [file, content] of Object.entries(source.files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), content);
      }
    }
    try {
      const tar = tarDirectory(dir);
      diffIds.push(sha256(tar));
      const blob = compress(tar, compression);
      const stored = await store.putBlob(blob);
      layers.push({ mediaType: layerType, digest: stored.digest, size: stored.size });
    } finally {
      if (temp) rmSync(temp, { recursive: true, force: true });
    }
  }
  const config: OciImageConfig = {
    created: new Date().toISOString(),
    architecture: options.architecture ?? 'amd64',
    os: 'linux',
    ...(options.variant ? { variant: options.variant } : {}),
    config: { Cmd: options.cmd ?? ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created_by: 'berth test' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configBlob = await store.putBlob(configBytes);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: options.docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest,
    config: { mediaType: options.docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers,
  };
  const manifestBlob = await store.putBlob(Buffer.from(JSON.stringify(manifest)));
  await store.setRef(ref, manifestBlob.digest);
  return (await store.resolve(ref))!;
}

/** A busybox image (one layer with the busybox rootfs, one with an extra file). */
export async function buildBusyboxImage(store: ImageStore, ref: string, options: Omit<BuildImageOptions, 'layers'> & { marker?: string } = {}): Promise<StoredImage> {
  const rootfs = makeBusyboxRootfs();
  try {
    return await buildImage(store, ref, { ...options, layers: [{ dir: rootfs }, { files: { 'etc/berth-marker': options.marker ?? 'busybox\n' } }] });
  } finally {
    removeRootfs(rootfs);
  }
}
