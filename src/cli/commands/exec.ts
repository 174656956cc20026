/**
 * `berth exec SERVICE COMMAND [ARGS...]`: runs a command in a running container of a service.
 * A TTY is allocated when berth's own stdin and stdout are terminals (unless -T); the exit code
 * is the command's.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { Engine } from '../../engine/engine.js';
import { execInContainer, pickServiceContainer } from '../../engine/exec.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';
import { reviveSupervisor } from '../../supervisor/index.js';

interface ExecFlags { detach?: boolean; env: string[]; workdir?: string; user?: string; index: string; privileged?: boolean; tty?: boolean; T?: boolean; interactive?: boolean }

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `-e KEY=VAL` as given, `-e KEY` from berth's environment (dropped when unset). */
export function environmentFlags(entries: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const result: string[] = [];
  for (const entry of entries) {
    if (entry.includes('=')) result.push(entry);
    else if (env[entry] !== undefined) result.push(`${entry}=${env[entry]}`);
  }
  return result;
}

/** Parses --index. */
export function parseIndex(text: string): number {
  const index = Number(text);
  if (!Number.isInteger(index) || index < 1) throw new UsageError(`invalid value "${text}" for --index`, { hint: 'replica numbers start at 1' });
  return index;
}

/** Registers `berth exec`. */
export function registerExec(program: Command): void {
  program
    .command('exec <service> <command...>')
    .description('execute a command in a running container')
    .passThroughOptions()
    .option('-d, --detach', 'run the command in the background')
    .option('-e, --env <KEY=VAL>', 'set an environment variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory for the command')
    .option('-u, --user <user>', 'run the command as this user (name or uid[:gid])')
    .option('--index <n>', 'index of the container if the service has several replicas', '1')
    .option('--privileged', 'give the command every capability')
    .option('-T, --no-tty', 'do not allocate a pseudo-TTY (default: allocate one when stdin is a terminal)')
    .option('-t', 'allocate a pseudo-TTY (compatibility; the default on a terminal)')
    .option('-i, --interactive', 'keep stdin attached (always on; accepted for compatibility)')
    .action(async (service: string, command: string[], flags: ExecFlags, cmd: Command) => {
      const global = globalOptions(cmd);
      const { name } = await resolveProjectName(global);
      const engine = await Engine.open({ runtime: global.runtime });
      const observed = await engine.observe(name, { all: true });
      // A killed supervisor comes back (one ping when it runs).
      await reviveSupervisor(name, { env: engine.env, containers: observed });
      const container = pickServiceContainer(observed, service, parseIndex(flags.index));
      const tty = flags.tty !== false && !flags.detach && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY);
      const code = await execInContainer(engine.driverFor(container.record), container.record, {
        command, env: environmentFlags(flags.env), workingDir: flags.workdir, user: flags.user, tty, privileged: flags.privileged, detach: flags.detach,
      });
      process.exitCode = code;
    });
}
