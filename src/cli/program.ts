/** Builds the commander program: global flags plus every registered command. */
import { Command } from 'commander';
import { berthVersion } from '../version.js';
import { addGlobalOptions, globalFlagsWithValue } from './global-options.js';
import { commandModules } from './commands/index.js';

/**
 * A fresh program for `argv` (as process.argv). Only the command being run is loaded; help,
 * an unknown command or no command at all loads every one so the listing stays complete.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('berth')
    .description('daemonless, docker-compose-compatible multi-container stacks')
    .version(berthVersion, '-v, --version', 'show the berth version')
    .showHelpAfterError('(run "berth --help" for usage)')
    .enablePositionalOptions(); // global flags go before the command, as in docker compose; a command's own -f stays its own
  addGlobalOptions(program);
  const commandName = findCommandName(argv.slice(2));
  const selected = commandModules.filter(([name]) => name === commandName);
  for (const [, load] of selected.length ? selected : commandModules) (await load())(program);
  return program;
}

/** The first argument that is not a global flag or a global flag's value. */
function findCommandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || arg === '-') return arg;
    if (globalFlagsWithValue.has(arg)) i++;
  }
  return undefined;
}
