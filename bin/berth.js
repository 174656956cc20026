#!/usr/bin/env node
// Entry point installed as `berth`: runs the bundled CLI (dist/bundle/cli.cjs, made by
// `npm run build`) through its code cache, or the compiled modules when there is no bundle.
// CommonJS on purpose (bin/package.json): an ES module entry costs every command ~30 ms more.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'cli.cjs');
let loaded;
if (existsSync(bundle)) {
  const boot = require('../dist/bundle/boot.cjs');
  loaded = Promise.resolve().then(() => boot.loadCachedBundle(bundle, boot.commandKey(process.argv)));
} else {
  loaded = import('../dist/src/cli/main.js');
}
loaded.then((m) => m.main(process.argv)).catch((err) => {
  console.error(err);
  process.exit(70);
});
