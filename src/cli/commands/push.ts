/** `berth push IMAGE [TARGET]` (and `berth image push`): upload a stored image to its registry. */
import type { Command } from 'commander';
import { familiarReference } from '../../images/reference.js';
import { pushImage } from '../../images/registry/index.js';
import { ImageStore } from '../../images/store/index.js';

/** Pushes `ref` (to `target` if given) and prints per-blob lines unless quiet. */
export async function pushWithOutput(ref: string, target: string | undefined, options: { quiet?: boolean }): Promise<void> {
  const store = await ImageStore.open();
  const say = (text: string) => { if (!options.quiet) process.stderr.write(`${text}\n`); };
  say(`The push refers to repository [${familiarReference(target ?? ref).replace(/[:@].*$/, '')}]`);
  const labels: Record<string, string> = { exists: 'Layer already exists', mounted: 'Mounted from another repository', done: 'Pushed' };
  const pushed = await pushImage(store, ref, target, {
    onProgress: (event) => {
      if (labels[event.phase]) say(`${event.digest.slice(7, 19)}: ${labels[event.phase]}`);
    },
  });
  process.stdout.write(`${familiarReference(pushed.ref)}: digest: ${pushed.digest}\n`);
}

/** Registers `berth push`. */
export function registerPush(program: Command): void {
  program
    .command('push <image> [target]')
    .description('push an image to a registry (optionally under another reference)')
    .option('-q, --quiet', 'suppress verbose output')
    .action(async (image: string, target: string | undefined, options: { quiet?: boolean }) => pushWithOutput(image, target, options));
}
