/** `berth save`: write images to a tar archive that is both a `docker save` tarball and an OCI layout. */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { ImageError } from '../../errors.js';
import { saveImages } from '../../images/archive/index.js';
import { ImageStore } from '../../images/store/index.js';

/** Registers `berth save`. */
export function registerSave(program: Command): void {
  program
    .command('save')
    .description('save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>', 'image references or ids')
    .option('-o, --output <file>', 'write to a file instead of STDOUT')
    .action(async (images: string[], options: { output?: string }) => {
      if (!options.output && process.stdout.isTTY) {
        throw new ImageError('cowardly refusing to save to a terminal', undefined, { hint: 'use "-o FILE" or redirect STDOUT' });
      }
      const store = await ImageStore.open();
      const archive = await saveImages(store, images);
      if (!options.output) {
        await pipeline(archive, process.stdout);
        return;
      }
      // Write beside the target and rename, so a failed save never leaves a truncated archive.
      const temp = `${options.output}.tmp-${process.pid}`;
      try {
        await pipeline(archive, createWriteStream(temp));
        await rename(temp, options.output);
      } finally {
        await rm(temp, { force: true });
      }
    });
}
