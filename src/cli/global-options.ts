/** The global flags every berth command accepts, as in `docker compose`. */
import type { Command } from 'commander';

/** Global flags after parsing; arrays keep command-line order. */
export interface GlobalOptions {
  file: string[];
  projectName?: string;
  profile: string[];
  envFile: string[];
  projectDirectory?: string;
  ansi: 'never' | 'always' | 'auto';
  progress: 'auto' | 'tty' | 'plain' | 'json' | 'quiet';
  runtime?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Global flags that take a value as the next argument (for finding the command name early). */
export const globalFlagsWithValue: ReadonlySet<string> = new Set([
  '-f', '--file', '-p', '--project-name', '--profile', '--env-file', '--project-directory', '--ansi', '--progress', '--runtime',
]);

/** Adds the global flags to the root command. */
export function addGlobalOptions(program: Command): Command {
  return program
    .option('-f, --file <path>', 'compose configuration file (repeatable, - for stdin)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--profile <name>', 'activate a profile (repeatable)', collect)
    .option('--env-file <path>', 'an alternate environment file (repeatable)', collect)
    .option('--project-directory <dir>', 'working directory of the project (default: directory of the first compose file)')
    .option('--ansi <when>', 'control characters: never, always, auto', 'auto')
    .option('--progress <type>', 'progress output: auto, tty, plain, json, quiet', 'auto')
    .option('--runtime <path>', 'OCI runtime binary to use instead of berth-runtime (e.g. runc, crun); also BERTH_RUNTIME');
}

/** The global flags seen from inside a subcommand's action. */
export function globalOptions(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  const options = root.opts<Partial<GlobalOptions>>();
  // Repeatable flags have no commander default so `--help` stays clean; absent means empty.
  return { ...options, file: options.file ?? [], profile: options.profile ?? [], envFile: options.envFile ?? [] } as GlobalOptions;
}
