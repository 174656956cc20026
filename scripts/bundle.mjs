#!/usr/bin/env node
// Bundles the compiled CLI and the supervisor with esbuild into one CommonJS file each, which
// src/boot/cached-bundle.ts loads with a V8 code cache: a command then neither resolves ~170
// modules nor parses two megabytes of JavaScript on every start. Run after tsc (`npm run build`
// does both). The library (dist/src/index.js) stays unbundled for `import { up } from 'berth'`.
//
//   dist/bundle/cli.cjs         the CLI; bin/berth.js runs it
//   dist/bundle/supervisor.cjs  the supervisor
//   dist/bundle/boot.cjs        the code-cache loader (src/boot/cached-bundle.ts)
//   dist/bundle/main.cjs        the supervisor's entry (src/supervisor/index.ts spawns the
//                               main.cjs next to the code that spawns it)
// Entries are CommonJS: an ES module entry costs a start ~30 ms more (the ESM loader, and
// node:fs's ESM facade loading every stream class).
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.resolve(root, process.env.BERTH_DIST ?? 'dist');
const outdir = path.join(dist, 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    cli: path.join(dist, 'src/cli/main.js'),
    supervisor: path.join(dist, 'src/supervisor/run.js'),
    boot: path.join(dist, 'src/boot/cached-bundle.js'),
  },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // The sources are ES modules that find files next to themselves through import.meta.url; in the
  // bundle that is the bundle file itself, which sits two levels below the package root like
  // dist/src/*.js, so the paths computed from it stay right.
  define: { 'import.meta.url': '__berthBundleUrl' },
  banner: { js: "var __berthBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
writeFileSync(path.join(outdir, 'main.cjs'), `'use strict';
// The supervisor's entry in the bundle: \`node main.cjs <project>\`.
const path = require('node:path');
const { loadCachedBundle } = require('./boot.cjs');

loadCachedBundle(path.join(__dirname, 'supervisor.cjs'), 'supervisor').runSupervisor(process.argv[2]);
`);
