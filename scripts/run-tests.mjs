#!/usr/bin/env node
// Runs the compiled tests with node's test runner: every dist/test/**/*.test.js, or only those
// whose path contains one of the arguments (`npm test -- load/ runtime/`).
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// BERTH_DIST names another build output (e.g. `tsc --outDir dist-net`) for parallel work.
const root = path.resolve(process.env.BERTH_DIST ?? 'dist', 'test');
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.test.js')) files.push(full);
  }
})(root);
const selected = files.filter((file) => filters.length === 0 || filters.some((f) => path.relative(root, file).includes(f)));
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// One file at a time: e2e tests start real containers and registries, and the machine has 2 cores.
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...selected], { stdio: 'inherit' });
process.exit(result.status ?? 1);
