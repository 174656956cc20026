/**
 * `berth watch [SERVICE...]`: brings the project up (building images of services with `build:`),
 * then applies `develop.watch` rules as files change, and re-plans the project when a compose
 * file, `.env` or an `env_file` changes. Runs until Ctrl-C; the containers keep running.
 * `--no-up` with a watched service that has no running container is an error naming it.
 */
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { buildServices, hasBuild } from '../../build/index.js';
import type { Engine } from '../../engine/engine.js';
import type { Project } from '../../model/types.js';
import { loadProject, projectOptionsFromFlags } from '../../project/index.js';
import { startWatch } from '../../watch/index.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { openEngine, stackReporter } from '../stack.js';

/** Options of runWatch (also what `up --watch` passes). */
export interface RunWatchOptions {
  services?: string[];
  /** Do not build and start the services first. */
  noUp?: boolean;
  /**
   * With `noUp`: fail (naming them) when watched services have no running container, instead
   * of watching containers that are not there (`berth watch --no-up`).
   */
  requireRunning?: boolean;
  prune?: boolean;
  quiet?: boolean;
}

/**
 * Builds (when needed) and starts the services unless `noUp`, then watches until SIGINT/SIGTERM.
 * `up --watch` calls this after its own `up` with `noUp: true`.
 */
export async function runWatch(engine: Engine, project: Project, global: GlobalOptions, options: RunWatchOptions = {}): Promise<void> {
  const services = options.services ?? [];
  const watched = [...project.services.values()].filter((service) => (services.length ? services.includes(service.name) : true) && (service.develop as { watch?: unknown[] } | undefined)?.watch?.length);
  if (watched.length === 0) {
    throw new BerthError('none of the selected services has develop.watch rules', { hint: 'add a develop: watch: section to a service (see docs/build.md)' });
  }
  const buildLog = options.quiet ? () => undefined : (service: string, line: string) => process.stderr.write(`${service} ${line}\n`);
  if (!options.noUp) {
    const toBuild = [...project.services.values()].filter((service) => hasBuild(service) && (services.length === 0 || services.includes(service.name))).map((service) => service.name);
    if (toBuild.length) await buildServices(project, toBuild, { env: engine.env, store: engine.store, driver: engine.driver, log: buildLog });
    await engine.up(project, { detach: true, services: services.length ? services : undefined });
  }
  if (options.noUp && options.requireRunning) {
    const running = new Set((await engine.observe(project.name)).filter((container) => container.status === 'running' && !container.record.oneoff).map((container) => container.record.service));
    const missing = watched.map((service) => service.name).filter((name) => !running.has(name));
    if (missing.length) {
      const names = missing.map((name) => `"${name}"`).join(', ');
      throw new BerthError(`watch --no-up: service${missing.length === 1 ? '' : 's'} ${names} of project "${project.name}" ${missing.length === 1 ? 'has' : 'have'} no running container to update`, {
        hint: `start ${missing.length === 1 ? 'it' : 'them'} first with "berth up -d ${missing.join(' ')}", or run "berth watch" without --no-up (it builds and starts them)`,
      });
    }
  }
  const handle = startWatch(engine, project, {
    services,
    prune: options.prune,
    build: { log: buildLog },
    reload: () => loadProject(projectOptionsFromFlags(global, { servicesNamed: services })),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  await handle.ready;
  // Ctrl-C stops watching and leaves the containers running (Docker Compose's `watch` does the
  // same, so the next `watch` starts from running, up-to-date services). A second Ctrl-C while
  // an action is still finishing exits at once.
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      const force = () => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await handle.close();
  process.stderr.write('watch: stopped (the containers keep running; "berth down" stops them)\n');
}

/** Registers `berth watch`. */
export function registerWatch(program: Command): void {
  program
    .command('watch [services...]')
    .description('watch build contexts and update running services as files change (develop.watch)')
    .option('--no-up', 'do not build and start the services before watching')
    .option('--prune', 'remove dangling images after rebuilds')
    .option('--quiet', 'hide build output')
    .action(async (services: string[], flags: { up: boolean; prune?: boolean; quiet?: boolean }, command: Command) => {
      const global = globalOptions(command);
      const project = await loadProject(projectOptionsFromFlags(global, { servicesNamed: services }));
      const reporter = stackReporter(flags.quiet ? { ...global, progress: 'quiet' } : global, project);
      const engine = await openEngine(global, reporter.sink);
      try {
        await runWatch(engine, project, global, { services, noUp: !flags.up, requireRunning: true, prune: flags.prune, quiet: flags.quiet });
      } finally {
        await reporter.finish();
      }
    });
}
