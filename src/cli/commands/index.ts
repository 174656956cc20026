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
  ['build', async () => (await import('./build.js')).registerBuild],
  ['watch', async () => (await import('./watch.js')).registerWatch],
  ['logs', async () => (await import('./logs.js')).registerLogs],
  ['port', async () => (await import('./port.js')).registerPort],
  ['up', async () => (await import('./up.js')).registerUp],
  ['down', async () => (await import('./down.js')).registerDown],
  ['ps', async () => (await import('./ps.js')).registerPs],
  ['create', async () => (await import('./create.js')).registerCreate],
  ['start', async () => (await import('./start.js')).registerStart],
  ['stop', async () => (await import('./stop.js')).registerStop],
  ['restart', async () => (await import('./restart.js')).registerRestart],
  ['kill', async () => (await import('./kill.js')).registerKill],
  ['rm', async () => (await import('./rm.js')).registerRm],
  ['pause', async () => (await import('./pause.js')).registerPause],
  ['unpause', async () => (await import('./pause.js')).registerUnpause],
  ['exec', async () => (await import('./exec.js')).registerExec],
  ['run', async () => (await import('./run.js')).registerRun],
  ['cp', async () => (await import('./cp.js')).registerCp],
  ['top', async () => (await import('./top.js')).registerTop],
  ['stats', async () => (await import('./stats.js')).registerStats],
  ['wait', async () => (await import('./wait.js')).registerWait],
  ['events', async () => (await import('./events.js')).registerEvents],
  ['ls', async () => (await import('./ls.js')).registerLs],
];
