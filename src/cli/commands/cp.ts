/**
 * `berth cp SERVICE:SRC DEST` and `berth cp SRC SERVICE:DEST`: copies files between a service's
 * container and the host (DEST `-` writes a tar stream to stdout).
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { copyFromContainer, copyToContainer } from '../../engine/copy.js';
import { Engine } from '../../engine/engine.js';
import type { ObservedContainer } from '../../engine/types.js';
import { globalOptions } from '../global-options.js';
import { resolveProjectName } from '../project-name.js';
import { parseIndex } from './exec.js';

interface CpFlags { index: string; archive?: boolean; followLink?: boolean }

/** Splits `SERVICE:PATH`; a path with a "/" before any ":" (or starting with "." or "/") is a host path. */
export function splitCopyArg(arg: string): { service?: string; path: string } {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.') || arg.slice(0, colon).includes('/')) return { path: arg };
  return { service: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Registers `berth cp`. */
export function registerCp(program: Command): void {
  program
    .command('cp <source> <destination>')
    .description('copy files/folders between a service container and the local filesystem')
    .option('--index <n>', 'index of the container if the service has several replicas', '1')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow a symbolic link given as the source')
    .action(async (source: string, destination: string, flags: CpFlags, cmd: Command) => {
      const from = splitCopyArg(source);
      const to = splitCopyArg(destination);
      if ((from.service === undefined) === (to.service === undefined)) {
        throw new UsageError('copying between services or between two host paths is not supported', { hint: 'one side must be SERVICE:PATH, e.g. berth cp web:/etc/hosts ./hosts' });
      }
      const global = globalOptions(cmd);
      const { name } = await resolveProjectName(global);
      const engine = await Engine.open({ runtime: global.runtime });
      const service = (from.service ?? to.service) as string;
      const index = parseIndex(flags.index);
      const containers = (await engine.observe(name, { all: true })).filter((c) => c.record.service === service && !c.record.oneoff);
      const container: ObservedContainer | undefined = containers.find((c) => c.record.number === index);
      if (!container) throw new UsageError(`service "${service}" has no container with index ${index}`, { hint: `create it with "berth up -d ${service}"` });
      if (from.service !== undefined) await copyFromContainer(container, from.path, to.path, flags);
      else await copyToContainer(container, from.path, to.path, flags);
    });
}
