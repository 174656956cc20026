/**
 * `berth rmi` (and `berth image rm`): untag or remove images. An image that containers use is
 * refused unless -f (the engine tells which are used, see setImageUsageProvider); blobs and
 * layers nothing needs any more are deleted right away.
 */
import type { Command } from 'commander';
import { BerthError, ImageError } from '../../errors.js';
import { formatReference, looksLikeImageId, parseReference } from '../../images/reference.js';
import { ImageStore, imagesInUse } from '../../images/store/index.js';
import { registerImageUsage } from '../../engine/records.js';

/** Removes each of `names`; reports every failure and fails at the end if any. */
export async function removeImages(names: string[], options: { force?: boolean }): Promise<void> {
  const store = await ImageStore.open();
  registerImageUsage();
  const inUse = await imagesInUse();
  const failures: string[] = [];
  for (const name of names) {
    try {
      const image = await store.resolve(name);
      if (!image) throw new ImageError(`no such image "${name}"`, name, { hint: 'list images with "berth images"' });
      let asRef: string | undefined;
      try {
        asRef = formatReference(parseReference(name));
      } catch {
        asRef = undefined;
      }
      const byRef = asRef !== undefined && image.refs.includes(asRef);
      if (byRef && image.refs.length > 1) {
        await store.removeRef(asRef!);
        process.stdout.write(`Untagged: ${name}\n`);
        continue;
      }
      if (!byRef && looksLikeImageId(name) && image.refs.length > 1 && !options.force) {
        throw new ImageError(`image "${name}" is referenced by ${image.refs.length} references`, name, { hint: `remove them one by one (${image.refs.join(', ')}) or use -f` });
      }
      const users = inUse.get(image.id) ?? [];
      if (users.length > 0 && !options.force) {
        throw new ImageError(`image "${name}" is used by container ${users.map((user) => `"${user}"`).join(', ')}`, name, { hint: 'remove the container first (berth down / berth rm) or use -f' });
      }
      for (const ref of await store.removeImage(image.manifestDigest)) process.stdout.write(`Untagged: ${ref}\n`);
      process.stdout.write(`Deleted: ${image.id}\n`);
    } catch (err) {
      if (!(err instanceof BerthError) || names.length === 1) throw err;
      failures.push(err.message);
      process.stderr.write(`error: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}\n`);
    }
  }
  // Free what the removed images alone used; images in use keep their layers.
  await store.gc({ inUse: new Set(inUse.keys()), keepDangling: true });
  if (failures.length > 0) throw new BerthError(`${failures.length} of ${names.length} images could not be removed`);
}

/** Registers `berth rmi`. */
export function registerRmi(program: Command): void {
  program
    .command('rmi <images...>')
    .description('remove one or more images')
    .option('-f, --force', 'remove the image even if containers use it or several references name it')
    .action(async (images: string[], options: { force?: boolean }) => removeImages(images, options));
}
