#!/usr/bin/env node
// Bundles the compiled CLI and the supervisor with esbuild into one CommonJS file each, which
// src/boot/cached-bundle.ts loads with a V8 code cache: a command then neither resolves ~170
// modules nor parses two megabytes of JavaScript on every start. Run after tsc (`npm run build`
// does both). The library (dist/src/index.js) stays unbundled for `import { up } from 'berth'`.
//
//   dist/bundle/cli.cjs         the CLI; bin/berth.js runs it
//   dist/bundle/supervisor.cjs  the supervisor
//   dist/bundle/main.js         the supervisor's entry (src/supervisor/index.ts spawns the
//                               main.js next to the code that spawns it)
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.resolve(root, process.env.BERTH_DIST ?? 'dist');
const outdir = path.join(dist, 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { cli: path.join(dist, 'src/cli/main.js'), supervisor: path.join(dist, 'src/supervisor/run.js') },
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
writeFileSync(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
writeFileSync(path.join(outdir, 'main.js'), `// The supervisor's entry in the bundle: \`node main.js <project>\`.
import { loadCachedBundle } from '../src/boot/cached-bundle.js';

const bundle = new URL('./supervisor.cjs', import.meta.url).pathname;
await loadCachedBundle(bundle, 'supervisor').runSupervisor(process.argv[2]);
`);
