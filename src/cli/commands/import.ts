/** `berth import`: create a one-layer image from a root filesystem tarball (file or `-` for STDIN). */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { ImageError } from '../../errors.js';
import { importRootfs } from '../../images/archive/index.js';
import { ImageStore } from '../../images/store/index.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `berth import`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import the contents of a tarball to create a filesystem image')
    .argument('<file>', 'tarball (plain, gzip or zstd), or - for STDIN')
    .argument('[reference]', 'repository[:tag] to tag the image with')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the image (repeatable)', collect, [])
    .option('-m, --message <message>', 'commit message for the imported image')
    .action(async (file: string, reference: string | undefined, options: { change: string[]; message?: string }) => {
      if (/^https?:\/\//.test(file)) throw new ImageError(`cannot import "${file}": URLs are not supported`, undefined, { hint: 'download the tarball first, then import the file' });
      if (file === '-' && process.stdin.isTTY) throw new ImageError('import from stdin, but stdin is a terminal', undefined, { hint: 'pipe a tarball in' });
      if (file !== '-' && !(await stat(file).catch(() => undefined))?.isFile()) throw new ImageError(`cannot import "${file}": no such file`);
      const store = await ImageStore.open();
      const input = file === '-' ? process.stdin : createReadStream(file);
      const image = await importRootfs(store, input, { ref: reference, changes: options.change, message: options.message, sourceName: file });
      process.stdout.write(`${image.id}\n`);
    });
}
