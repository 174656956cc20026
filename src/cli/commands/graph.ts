/** `berth graph`: the service dependency graph as a tree, Graphviz dot or Mermaid. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { buildGraph, renderGraph, type GraphFormat } from '../../graph/index.js';
import { loadProjectDetailed, projectOptionsFromFlags } from '../../project/index.js';
import { globalOptions } from '../global-options.js';

const formats: readonly GraphFormat[] = ['tree', 'dot', 'mermaid'];

/** Registers `berth graph`. */
export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('show the dependency graph of the services (tree, dot or mermaid)')
    .option('--format <format>', 'tree, dot or mermaid', 'tree')
    .action(async (flags: { format: string }, command: Command) => {
      if (!formats.includes(flags.format as GraphFormat)) {
        throw new UsageError(`unknown format "${flags.format}"`, { hint: 'use --format tree, dot or mermaid' });
      }
      const { loaded, project, graph } = await loadProjectDetailed(projectOptionsFromFlags(globalOptions(command)));
      for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(renderGraph(project, graph ?? buildGraph(project), flags.format as GraphFormat));
    });
}
