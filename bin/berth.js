#!/usr/bin/env node
// Entry point installed as `berth`: runs the bundled CLI (dist/bundle, made by `npm run build`),
// or the compiled modules when there is no bundle.
import { existsSync } from 'node:fs';

const bundled = new URL('../dist/bundle/cli.js', import.meta.url);
const entry = existsSync(bundled) ? bundled.href : '../dist/src/cli/main.js';
import(entry).then((m) => m.main(process.argv)).catch((err) => {
  console.error(err);
  process.exit(70);
});
