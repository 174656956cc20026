/**
 * `berth build [SERVICE...]`: builds the images of services that have a `build:` section, with
 * berth's own Dockerfile builder. Progress goes to stderr as `<service> #<step> ...` lines
 * (`CACHED` for a step taken from the build cache); `-q` prints only errors.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { buildServices } from '../../build/index.js';
import { loadProject, projectOptionsFromFlags } from '../../project/index.js';
import { RuntimeDriver } from '../../runtime/index.js';
import { globalOptions } from '../global-options.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `--build-arg KEY=VALUE` / `--build-arg KEY` (value from the environment) into a map. */
export function parseBuildArgs(values: readonly string[]): Record<string, string | undefined> {
  const args: Record<string, string | undefined> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    const key = equals === -1 ? value : value.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`invalid --build-arg "${value}"`, { hint: 'write --build-arg NAME=value (or NAME to take it from the environment)' });
    args[key] = equals === -1 ? process.env[key] : value.slice(equals + 1);
  }
  return args;
}

/** Registers `berth build`. */
export function registerBuild(program: Command): void {
  program
    .command('build [services...]')
    .description('build or rebuild service images')
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'always pull newer versions of base images')
    .option('--build-arg <key=value>', 'set a build-time variable (repeatable)', collect)
    .option('-q, --quiet', 'print nothing but errors')
    .option('--progress <type>', 'progress output: auto, tty, plain, json, quiet')
    .option('--with-dependencies', 'also build the services the named ones depend on')
    .option('--allow <entitlement>', 'grant an extra privilege to the Dockerfiles: network.host (lets RUN --network=host use the host network)', collect)
    .action(async (services: string[], options: { cache?: boolean; pull?: boolean; progress?: string; buildArg?: string[]; quiet?: boolean; withDependencies?: boolean; allow?: string[] }, command: Command) => {
      for (const entitlement of options.allow ?? []) {
        if (entitlement !== 'network.host') throw new UsageError(`unknown --allow value "${entitlement}"`, { hint: 'berth knows --allow network.host' });
      }
      const global = globalOptions(command);
      const project = await loadProject(projectOptionsFromFlags(global, { servicesNamed: services }));
      let names = services;
      if (options.withDependencies && services.length > 0) {
        const seen = new Set<string>();
        const visit = (name: string) => {
          if (seen.has(name)) return;
          seen.add(name);
          for (const dependency of Object.keys((project.services.get(name)?.depends_on ?? {}) as Record<string, unknown>)) visit(dependency);
        };
        services.forEach(visit);
        names = [...seen];
      }
      const quiet = options.quiet || (options.progress ?? global.progress) === 'quiet';
      await buildServices(project, names, {
        noCache: options.cache === false,
        allowHostNetwork: options.allow?.includes('network.host'),
        pull: options.pull,
        buildArgs: parseBuildArgs(options.buildArg ?? []),
        driver: global.runtime ? new RuntimeDriver({ binary: global.runtime }) : undefined,
        log: quiet ? () => undefined : (service, line) => process.stderr.write(`${service} ${line}\n`),
      });
    });
}
