/** `berth config`: the resolved project exactly as the engine gets it, as `docker compose config` prints it. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { explainService, loadProjectDetailed, projectOptionsFromFlags, renderConfig, renderExplanation } from '../../project/index.js';
import { globalOptions } from '../global-options.js';

interface ConfigFlags {
  format: string; quiet?: boolean; services?: boolean; volumes?: boolean; networks?: boolean; profiles?: boolean;
  images?: boolean; hash?: string; interpolate: boolean; normalize: boolean; pathResolution: boolean;
  consistency: boolean; environment?: boolean; output?: string; explain?: string;
}

/** Registers `berth config`. */
export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('parse, resolve and render the compose file in canonical format')
    .argument('[services...]', 'only these services (and what they need)')
    .option('--format <format>', 'yaml or json', 'yaml')
    .option('-q, --quiet', 'only validate the configuration, print nothing')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('--networks', 'print the network names, one per line')
    .option('--profiles', 'print the profile names, one per line')
    .option('--images', 'print the image names, one per line')
    .option('--hash <services>', 'print the config hash of the services ("*" for all)')
    .option('--no-interpolate', 'do not interpolate environment variables')
    .option('--no-normalize', 'do not normalize the compose model')
    .option('--no-path-resolution', 'do not resolve file paths')
    .option('--no-consistency', 'do not check consistency (validation, references, cycles)')
    .option('--environment', 'print the environment used for interpolation')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--explain <service[.path]>', 'show where each value of a service came from')
    .action(async (serviceNames: string[], flags: ConfigFlags, command: Command) => {
      if (flags.format !== 'yaml' && flags.format !== 'json') {
        throw new UsageError(`unknown format "${flags.format}"`, { hint: 'use --format yaml or --format json' });
      }
      const options = projectOptionsFromFlags(globalOptions(command), {
        interpolate: flags.interpolate,
        resolvePaths: flags.pathResolution,
        consistency: flags.consistency,
        servicesNamed: serviceNames,
      });
      const result = await loadProjectDetailed(options);
      for (const warning of result.loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (flags.quiet) return;
      let text: string;
      if (flags.explain !== undefined) {
        const explained = explainService(result.loaded, result.project, flags.explain);
        text = flags.format === 'json' ? `${JSON.stringify(explained, null, 2)}\n` : renderExplanation(explained);
      } else {
        text = renderConfig(result, { ...flags, format: flags.format });
      }
      if (flags.output) fs.writeFileSync(flags.output, text);
      else process.stdout.write(text);
    });
}
