/**
 * `berth rm [SERVICE...]`: remove stopped containers (`-s` stops them first, `-v` also removes
 * their anonymous volumes). Asks for confirmation on a terminal unless -f.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { stopContainers } from '../../engine/apply.js';
import { lockedStackCommand, selectContainers } from '../stack.js';

/** Registers `berth rm`. */
export function registerRm(program: Command): void {
  program
    .command('rm [services...]')
    .description('removes stopped service containers')
    .option('-f, --force', "don't ask to confirm removal")
    .option('-s, --stop', 'stop the containers, if required, before removing')
    .option('-v, --volumes', 'remove any anonymous volumes attached to containers')
    .action((services: string[], flags: { force?: boolean; stop?: boolean; volumes?: boolean }, command: Command) => lockedStackCommand(command, async ({ engine, target }) => {
      let containers = await selectContainers(engine, target, services, { oneoff: services.length === 0 });
      if (flags.stop) {
        await stopContainers(engine, containers.filter((c) => c.status !== 'exited' && c.status !== 'created'));
        containers = await selectContainers(engine, target, services, { oneoff: services.length === 0 });
      }
      const removable = containers.filter((c) => c.status === 'exited' || c.status === 'created' || c.status === 'dead');
      if (removable.length === 0) {
        process.stderr.write('No stopped containers\n');
        return;
      }
      if (!flags.force && process.stdin.isTTY) {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`Going to remove ${removable.map((c) => c.record.name).join(', ')}\n? Are you sure? [yN] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) return;
      }
      await Promise.all(removable.map((c) => engine.removeContainer(c.record, { volumes: flags.volumes })));
    }));
}
