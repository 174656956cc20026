/** Every berth command, in the order `berth --help` lists them. Add one line per command. */
import type { Command } from 'commander';
import { registerVersion } from './version.js';
import { registerConfig } from './config.js';
import { registerGraph } from './graph.js';
import { registerLoad } from './load.js';
import { registerSave } from './save.js';
import { registerImport } from './import.js';

/** Registration functions of all commands. */
export const commandRegistrations: ReadonlyArray<(program: Command) => void> = [
  registerVersion,
  registerConfig,
  registerGraph,
  registerLoad,
  registerSave,
  registerImport,
];
