/** `berth version`: prints the berth version (and `--format json`). */
import type { Command } from 'commander';
import { berthVersion } from '../../version.js';

/** Registers `berth version`. */
export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('show the berth version information')
    .option('--format <format>', 'pretty or json', 'pretty')
    .option('--short', 'show only the version number')
    .action((options: { format: string; short?: boolean }) => {
      if (options.short) process.stdout.write(`${berthVersion}\n`);
      else if (options.format === 'json') process.stdout.write(`${JSON.stringify({ version: berthVersion })}\n`);
      else process.stdout.write(`berth version ${berthVersion}\n`);
    });
}
