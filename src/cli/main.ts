/** The CLI's top level: run the program, print user errors without stacks, bugs with them. */
import { CommanderError } from 'commander';
import { BerthError, formatError } from '../errors.js';
import { buildProgram } from './program.js';

/** Runs berth with `argv` (as process.argv) and sets the process exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help text when asked for it).
    return err.exitCode;
  }
  if (err instanceof BerthError) {
    process.stderr.write(`${formatError(err)}\n`);
    return err.exitCode;
  }
  process.stderr.write(`berth: internal error (this is a bug; please report it with the text below)\n`);
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}
