/** Every berth command, in the order `berth --help` lists them. Add one line per command. */
import type { Command } from 'commander';
import { registerVersion } from './version.js';

/** Registration functions of all commands. */
export const commandRegistrations: ReadonlyArray<(program: Command) => void> = [
  registerVersion,
];
