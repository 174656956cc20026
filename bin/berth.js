#!/usr/bin/env node
// Entry point installed as `berth`: runs the bundled CLI (dist/bundle/cli.cjs, made by
// `npm run build`) through its code cache, or the compiled modules when there is no bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url));
const loaded = existsSync(bundle)
  ? import('../dist/src/boot/cached-bundle.js').then((boot) => boot.loadCachedBundle(bundle, boot.commandKey(process.argv)))
  : import('../dist/src/cli/main.js');
loaded.then((m) => m.main(process.argv)).catch((err) => {
  console.error(err);
  process.exit(70);
});
