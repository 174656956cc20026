/** Builds the commander program: global flags plus every registered command. */
import { Command } from 'commander';
import { berthVersion } from '../version.js';
import { addGlobalOptions } from './global-options.js';
import { commandRegistrations } from './commands/index.js';

/** A fresh program; tests build one per run so state never leaks between them. */
export function buildProgram(): Command {
  const program = new Command('berth')
    .description('daemonless, docker-compose-compatible multi-container stacks')
    .version(berthVersion, '-v, --version', 'show the berth version')
    .showHelpAfterError('(run "berth --help" for usage)')
    .enablePositionalOptions(); // global flags go before the command, as in docker compose; a command's own -f stays its own
  addGlobalOptions(program);
  for (const register of commandRegistrations) register(program);
  return program;
}
