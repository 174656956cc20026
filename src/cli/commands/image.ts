/**
 * `berth image ...`: pull, push, ls, rm, inspect, tag and prune, the docker image subcommands.
 * The list, remove, pull and push actions are shared with their top-level forms.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { BerthError, ImageError } from '../../errors.js';
import { familiarReference, normalizeReference, parseReference } from '../../images/reference.js';
import { ImageStore, imagesInUse, type StoredImage } from '../../images/store/index.js';
import { humanSize, withListOptions } from './images.js';
import { pullWithProgress } from './pull.js';
import { pushWithOutput } from './push.js';
import { removeImages } from './rmi.js';
import { globalOptions } from '../global-options.js';
import { registerImageUsage } from '../../engine/records.js';

/** The docker-like inspect document of an image. */
export function inspectDocument(image: StoredImage): Record<string, unknown> {
  const refs = image.refs.map((ref) => parseReference(ref));
  return {
    Id: image.id,
    RepoTags: refs.filter((ref) => ref.tag !== undefined && ref.digest === undefined).map((ref) => familiarReference(ref)),
    RepoDigests: [...new Set(refs.map((ref) => `${familiarReference({ ...ref, tag: undefined, digest: undefined })}@${image.manifestDigest}`))],
    Created: image.created,
    Architecture: image.config.architecture,
    Os: image.config.os,
    ...(image.config.variant ? { Variant: image.config.variant } : {}),
    Config: image.config.config ?? {},
    RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
    Size: image.size,
    Manifest: { Digest: image.manifestDigest, MediaType: image.manifest.mediaType },
    Layers: image.layers.map((layer) => ({ Digest: layer.digest, DiffID: layer.diffId, MediaType: layer.mediaType, Size: layer.size })),
    History: image.config.history ?? [],
  };
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await Promise.race([rl.question(question), new Promise<string>((resolve) => rl.once('close', () => resolve('')))]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Registers `berth image` and its subcommands. */
export function registerImage(program: Command): void {
  const image = program.command('image').description('manage images');
  image.command('pull <image>').description('pull an image from a registry')
    .option('-q, --quiet', 'suppress verbose output').option('--platform <platform>', 'e.g. linux/arm64')
    .action(async (ref: string, options: { quiet?: boolean; platform?: string }, command: Command) => {
      await pullWithProgress(await ImageStore.open(), [{ title: familiarReference(ref), ref, platform: options.platform }], { quiet: options.quiet, progress: globalOptions(command).progress });
      if (!options.quiet) process.stdout.write(`${normalizeReference(ref)}\n`);
    });
  image.command('push <image> [target]').description('push an image to a registry').option('-q, --quiet', 'suppress verbose output')
    .action(async (ref: string, target: string | undefined, options: { quiet?: boolean }) => pushWithOutput(ref, target, options));
  withListOptions(image.command('ls').alias('list').description('list images'));
  image.command('rm <images...>').description('remove one or more images').option('-f, --force', 'force removal')
    .action(async (names: string[], options: { force?: boolean }) => removeImages(names, options));
  image.command('inspect <images...>').description('show details of images as JSON')
    .action(async (names: string[]) => {
      const store = await ImageStore.open();
      const documents: Record<string, unknown>[] = [];
      const missing: string[] = [];
      for (const name of names) {
        const found = await store.resolve(name);
        if (found) documents.push(inspectDocument(found));
        else missing.push(name);
      }
      process.stdout.write(`${JSON.stringify(documents, null, 4)}\n`);
      if (missing.length > 0) throw new ImageError(`no such image: ${missing.map((name) => `"${name}"`).join(', ')}`, missing[0]);
    });
  image.command('tag <source> <target>').description('create a reference TARGET that refers to the image SOURCE')
    .action(async (source: string, target: string) => {
      const store = await ImageStore.open();
      const found = await store.resolve(source);
      if (!found) throw new ImageError(`no such image "${source}"`, source, { hint: 'list images with "berth images"' });
      await store.setRef(target, found.manifestDigest);
    });
  image.command('prune').description('remove unused images (dangling ones; with -a every image no container uses)')
    .option('-a, --all', 'remove all images not used by containers').option('-f, --force', 'do not prompt for confirmation')
    .action(async (options: { all?: boolean; force?: boolean }) => {
      const warning = options.all ? 'all images without at least one container associated to them' : 'all dangling images';
      if (!options.force && !(await confirm(`WARNING! This will remove ${warning}.\nAre you sure you want to continue? [y/N] `))) {
        throw new BerthError('prune cancelled', { hint: 'use -f to prune without the question' });
      }
      const store = await ImageStore.open();
      const before = new Set((await store.listImages()).map((stored) => stored.id));
      registerImageUsage();
      const inUse = new Set((await imagesInUse()).keys());
      const result = await store.gc({ all: options.all, inUse });
      const after = new Set((await store.listImages()).map((stored) => stored.id));
      const deleted = [...before].filter((id) => !after.has(id));
      if (deleted.length > 0) process.stdout.write(`Deleted Images:\n${deleted.map((id) => `deleted: ${id}\n`).join('')}\n`);
      process.stdout.write(`Total reclaimed space: ${humanSize(result.freedBytes)}\n`);
    });
}
