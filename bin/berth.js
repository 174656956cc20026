#!/usr/bin/env node
// Entry point installed as `berth`: runs the compiled CLI.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err);
  process.exit(70);
});
