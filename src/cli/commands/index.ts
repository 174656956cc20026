/** Every berth command, in the order `berth --help` lists them. Add one line per command. */
import type { Command } from 'commander';
import { registerVersion } from './version.js';
import { registerConfig } from './config.js';
import { registerGraph } from './graph.js';
import { registerLoad } from './load.js';
import { registerSave } from './save.js';
import { registerImport } from './import.js';
import { registerPull } from './pull.js';
import { registerPush } from './push.js';
import { registerImages } from './images.js';
import { registerRmi } from './rmi.js';
import { registerImage } from './image.js';
import { registerLogin } from './login.js';
import { registerLogout } from './logout.js';

/** Registration functions of all commands. */
export const commandRegistrations: ReadonlyArray<(program: Command) => void> = [
  registerVersion,
  registerConfig,
  registerGraph,
  registerLoad,
  registerSave,
  registerImport,
  registerPull,
  registerPush,
  registerImages,
  registerRmi,
  registerImage,
  registerLogin,
  registerLogout,
];
