/**
 * The CLI entry tests run: the same as bin/berth.js, but compiled next to the tests, so a test
 * always drives the CLI from its own build output (dist/ or another --outDir).
 */
import { main } from '../../src/cli/main.js';

await main(process.argv);
