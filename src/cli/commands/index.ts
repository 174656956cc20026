/**
 * Every berth command, in the order `berth --help` lists them. Each entry loads its module on
 * demand, so `berth config` never pays for loading the image or runtime code.
 */
import type { Command } from 'commander';

type Registration = (program: Command) => void;

/** Command name → loader of its registration function. Add one line per command. */
export const commandModules: ReadonlyArray<readonly [string, () => Promise<Registration>]> = [
  ['version', async () => (await import('./version.js')).registerVersion],
  ['config', async () => (await import('./config.js')).registerConfig],
  ['graph', async () => (await import('./graph.js')).registerGraph],
  ['load', async () => (await import('./load.js')).registerLoad],
  ['save', async () => (await import('./save.js')).registerSave],
  ['import', async () => (await import('./import.js')).registerImport],
  ['pull', async () => (await import('./pull.js')).registerPull],
  ['push', async () => (await import('./push.js')).registerPush],
  ['images', async () => (await import('./images.js')).registerImages],
  ['rmi', async () => (await import('./rmi.js')).registerRmi],
  ['image', async () => (await import('./image.js')).registerImage],
  ['login', async () => (await import('./login.js')).registerLogin],
  ['logout', async () => (await import('./logout.js')).registerLogout],
];
