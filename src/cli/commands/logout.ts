/** `berth logout [SERVER]`: forget stored credentials for a registry. */
import type { Command } from 'commander';
import { loginServer, logoutRegistry } from '../../images/registry/index.js';

/** Registers `berth logout`. */
export function registerLogout(program: Command): void {
  program
    .command('logout [server]')
    .description('log out from a registry (default: Docker Hub)')
    .action(async (server: string | undefined) => {
      const host = loginServer(server);
      if (await logoutRegistry(host)) process.stdout.write(`Removing login credentials for ${host}\n`);
      else process.stderr.write(`Not logged in to ${host}\n`);
    });
}
