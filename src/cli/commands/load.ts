/** `berth load`: load images from a `docker save` tarball or an OCI image layout (file, directory or stdin). */
import type { Command } from 'commander';
import { ImageError } from '../../errors.js';
import { loadArchive } from '../../images/archive/index.js';
import { familiarReference } from '../../images/reference.js';
import { ImageStore } from '../../images/store/index.js';

/** Registers `berth load`. */
export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('load images from a tar archive (docker save or OCI layout) or STDIN')
    .option('-i, --input <file>', 'read from a tar archive file (or an OCI layout directory) instead of STDIN')
    .option('-q, --quiet', 'suppress the load output')
    .action(async (options: { input?: string; quiet?: boolean }) => {
      if (!options.input && process.stdin.isTTY) {
        throw new ImageError('requested load from stdin, but stdin is a terminal', undefined, { hint: 'use "berth load -i FILE" or pipe an archive in' });
      }
      const store = await ImageStore.open();
      const loaded = await loadArchive(store, options.input ?? process.stdin);
      if (options.quiet) return;
      for (const image of loaded) {
        process.stdout.write(image.ref ? `Loaded image: ${familiarReference(image.ref)}\n` : `Loaded image ID: ${image.id}\n`);
      }
    });
}
