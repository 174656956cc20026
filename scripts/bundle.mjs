#!/usr/bin/env node
// Bundles the compiled CLI and the supervisor into dist/bundle/ with esbuild: one file per entry
// plus shared chunks, so a berth command loads a handful of files instead of ~170 modules
// (`berth ps` starts in about a third of the time). Run after tsc (`npm run build` does both).
// The library (dist/src/index.js) stays unbundled for `import { up } from 'berth'`.
//
//   dist/bundle/cli.js   what bin/berth.js runs
//   dist/bundle/main.js  the supervisor (src/supervisor/index.ts spawns main.js next to itself)
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.resolve(root, process.env.BERTH_DIST ?? 'dist');
const outdir = path.join(dist, 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { cli: path.join(dist, 'src/cli/main.js'), main: path.join(dist, 'src/supervisor/main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Dependencies written as CommonJS call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
});
// The bundle sits two levels below the package root, like dist/src/*.js, so paths computed
// from import.meta.url (the package root, the supervisor's entry) stay right.
writeFileSync(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
