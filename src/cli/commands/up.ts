/**
 * `berth up [SERVICE...]`: converge the project (create, recreate, start what is needed) and,
 * without -d, stay attached to the containers' output. `--dry-run` prints the plan with the
 * field-level reason of every recreate and changes nothing. `--build` builds images first (a
 * missing image of a `build:` service is always built); `--watch` applies `develop.watch` rules
 * after the up: with -d in the foreground until Ctrl-C (the containers keep running), attached
 * together with the logs (Ctrl-C stops the stack as without --watch).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { stopContainers, UpInterruptedError } from '../../engine/apply.js';
import { renderPlan } from '../../engine/plan.js';
import type { EngineEvent } from '../../engine/types.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, secondsFlag, stackReporter } from '../stack.js';
import type { Engine } from '../../engine/engine.js';
import type { Project } from '../../model/types.js';

interface UpFlags {
  detach?: boolean; wait?: boolean; waitTimeout?: string; start: boolean; pull?: string; timeout?: string;
  forceRecreate?: boolean; recreate: boolean; deps: boolean; removeOrphans?: boolean; scale?: string[];
  renewAnonVolumes?: boolean; alwaysRecreateDeps?: boolean; dryRun?: boolean; timeline?: boolean; quietPull?: boolean;
  abortOnContainerExit?: boolean; exitCodeFrom?: string; attach?: string[]; noAttach?: string[]; logPrefix: boolean; color: boolean;
  attachDependencies?: boolean; timestamps?: boolean; build?: boolean; watch?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Parses `--scale svc=n` flags. */
export function parseScale(values: readonly string[] | undefined): Record<string, number> {
  const scale: Record<string, number> = {};
  for (const value of values ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(value);
    if (!m) throw new UsageError(`invalid --scale "${value}"`, { hint: 'use SERVICE=NUMBER, e.g. --scale web=3' });
    scale[m[1]] = Number(m[2]);
  }
  return scale;
}

/** A repeatable `--no-x <value>` option (commander would otherwise read it as the negation of `--x`). */
function valueOption(flags: string, description: string): Option {
  const option = new Option(flags, description).argParser(collect);
  option.negate = false;
  return option;
}

/** Registers `berth up`. */
export function registerUp(program: Command): void {
  program
    .command('up [services...]')
    .description('create and start containers')
    .option('-d, --detach', 'run containers in the background')
    .option('--wait', 'wait for services to be running|healthy (or one-shots to exit 0); implies detached mode')
    .option('--wait-timeout <seconds>', 'maximum duration in seconds to wait for the project to be running|healthy')
    .option('--no-start', "don't start the services after creating them")
    .option('--pull <policy>', 'pull image before running ("always"|"missing"|"never"|"policy")', 'policy')
    .option('-t, --timeout <seconds>', 'shutdown timeout in seconds when attached or when containers are already running')
    .option('--force-recreate', "recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "if containers already exist, don't recreate them")
    .option('--no-deps', "don't start linked services")
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('--scale <service=n>', 'scale SERVICE to NUM instances (repeatable); overrides `scale` in the compose file', collect)
    .option('-V, --renew-anon-volumes', 'recreate anonymous volumes instead of retrieving data from the previous containers')
    .option('--always-recreate-deps', 'recreate dependent containers')
    .option('--dry-run', 'print the plan with the reason for every change, change nothing')
    .option('--timeline', 'print the startup timeline (time to created, started, healthy; critical path)')
    .option('--quiet-pull', 'pull without printing progress information')
    .option('--abort-on-container-exit', 'stops all containers if any container was stopped')
    .option('--exit-code-from <service>', 'return the exit code of the selected service container')
    .option('--attach <service>', 'restrict attaching to the specified services (repeatable)', collect)
    .addOption(valueOption('--no-attach <service>', 'do not attach (stream logs) to the specified services (repeatable)'))
    .option('--attach-dependencies', 'automatically attach to log output of dependent services')
    .option('--no-log-prefix', "don't print prefix in logs")
    .option('--no-color', 'produce monochrome output')
    .option('--timestamps', 'show timestamps')
    .option('--build', 'build images before starting containers')
    .option('--no-build', "don't build an image, even if it's missing")
    .option('-w, --watch', 'watch source code and rebuild/refresh containers when files are updated (develop.watch)')
    .action(async (services: string[], flags: UpFlags, command: Command) => {
      const global = globalOptions(command);
      if (flags.forceRecreate && !flags.recreate) throw new UsageError('--force-recreate and --no-recreate are incompatible');
      if (flags.alwaysRecreateDeps && !flags.recreate) throw new UsageError('--always-recreate-deps and --no-recreate are incompatible');
      if (flags.detach && (flags.abortOnContainerExit || flags.exitCodeFrom)) throw new UsageError('-d and --abort-on-container-exit/--exit-code-from are incompatible');
      if (flags.watch && (flags.dryRun || !flags.start)) throw new UsageError('--watch cannot be combined with --dry-run or --no-start');
      const target = await loadStackTarget(global, { servicesNamed: services, needProject: true });
      const project = target.project!;
      if (flags.watch && ![...project.services.values()].some((service) => (services.length === 0 || services.includes(service.name)) && (service.develop as { watch?: unknown[] } | undefined)?.watch?.length)) {
        throw new UsageError('--watch: none of the selected services has develop.watch rules', { hint: 'add a develop: watch: section to a service (see docs/build.md)' });
      }
      const reporter = stackReporter(flags.dryRun ? { ...global, progress: 'quiet' } : global, project);
      // Containers this up started: Ctrl-C before the logs are attached stops exactly these.
      const started = new Set<string>();
      const engine = await openEngine(global, (event: EngineEvent) => {
        if (event.type === 'container' && event.action === 'started') started.add(event.name);
        reporter.sink(event);
      });
      const interrupt = catchInterrupts(engine, project.name, started);
      const detach = flags.detach || flags.wait || flags.dryRun || !flags.start;
      let result;
      try {
        result = await engine.up(project, {
          detach, wait: flags.wait, waitTimeout: secondsFlag(flags.waitTimeout, '--wait-timeout'), noStart: !flags.start,
          pull: flags.pull, timeout: secondsFlag(flags.timeout, '--timeout'), forceRecreate: flags.forceRecreate, noRecreate: !flags.recreate,
          noDeps: !flags.deps, removeOrphans: flags.removeOrphans, scale: parseScale(flags.scale), renewAnonVolumes: flags.renewAnonVolumes,
          alwaysRecreateDeps: flags.alwaysRecreateDeps, dryRun: flags.dryRun, services,
          build: flags.build === true, noBuild: flags.build === false,
          buildLog: global.progress === 'quiet' || global.progress === 'json' ? () => undefined : undefined,
          signal: interrupt.signal,
        });
      } catch (err) {
        await reporter.finish();
        if (err instanceof UpInterruptedError) return interrupt.stopStarted(secondsFlag(flags.timeout, '--timeout'));
        interrupt.release();
        throw err;
      }
      await reporter.finish();
      if (interrupt.signal.aborted) return interrupt.stopStarted(secondsFlag(flags.timeout, '--timeout'));
      if (flags.dryRun) {
        interrupt.release();
        const text = renderPlan(result.plan);
        process.stdout.write(text ? `${text}\n` : 'nothing to do\n');
        return;
      }
      if (result.plan.orphans.length && !flags.removeOrphans) {
        process.stderr.write(`warning: found orphan containers (${result.plan.orphans.join(', ')}) for this project; remove them with --remove-orphans\n`);
      }
      if (flags.timeline) {
        const text = reporter.timeline();
        if (text) process.stderr.write(`${text}\n`);
      }
      if (detach && flags.watch) {
        const { runWatch } = await import('./watch.js');
        if (interrupt.signal.aborted) return interrupt.stopStarted(secondsFlag(flags.timeout, '--timeout'));
        interrupt.release();
        await runWatch(engine, project, global, { services, noUp: true });
        return;
      }
      if (detach) {
        interrupt.release();
        return;
      }
      const [stopWatch, { attachStack }] = await Promise.all([
        flags.watch ? startWatching(engine, project, global, services) : undefined,
        import('../attach.js'),
      ]);
      if (interrupt.signal.aborted) {
        await stopWatch?.();
        return interrupt.stopStarted(secondsFlag(flags.timeout, '--timeout'));
      }
      // attachStack takes Ctrl-C over synchronously, before its first await.
      interrupt.release();
      try {
        process.exitCode = await attachStack(engine, project, {
          services: result.services, attach: flags.attach, noAttach: flags.noAttach, abortOnContainerExit: flags.abortOnContainerExit,
          // `up web` shows web's logs; its dependencies' only with --attach-dependencies.
          attachServices: services.length && !flags.attachDependencies ? services : result.services,
          exitCodeFrom: flags.exitCodeFrom, noLogPrefix: !flags.logPrefix, noColor: !flags.color, timeout: secondsFlag(flags.timeout, '--timeout'),
          timestamps: flags.timestamps, ansi: global.ansi,
        });
      } finally {
        await stopWatch?.();
      }
    });
}

/** Ctrl-C handling of `up` before attachStack takes over. */
interface UpInterrupts {
  /** Aborted at the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Stops the containers this up started (a second Ctrl-C kills them) and sets exit status 130. */
  stopStarted(timeoutSeconds: number | undefined): Promise<void>;
  /** Gives SIGINT/SIGTERM back (to attachStack, watch, or the default). */
  release(): void;
}

/**
 * Ctrl-C during the create/start phase of `up` (attached or -d): the engine stops making new
 * containers (one under way is finished or undone), then the containers this up started are
 * stopped, dependents first; a second Ctrl-C kills them. Exit status 130.
 */
function catchInterrupts(engine: Engine, projectName: string, started: ReadonlySet<string>): UpInterrupts {
  const controller = new AbortController();
  let stopping = false;
  let killing = false;
  const kill = async (): Promise<void> => {
    const running = (await engine.observe(projectName, { all: false })).filter((c) => started.has(c.record.name));
    await Promise.all(running.map((c) => engine.killContainer(c.record, 'SIGKILL').catch(() => undefined)));
  };
  const onSignal = (): void => {
    if (!controller.signal.aborted) {
      process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      controller.abort();
    } else if (stopping && !killing) {
      killing = true;
      process.stderr.write('Killing...\n');
      void kill();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const release = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return {
    signal: controller.signal,
    release,
    async stopStarted(timeoutSeconds) {
      stopping = true;
      try {
        const { createReporter } = await import('../progress.js');
        const reporter = createReporter('plain', { stream: process.stderr });
        engine.events = reporter.sink;
        await engine.withProjectLock(projectName, async () => {
          const targets = (await engine.observe(projectName, { all: false })).filter((c) => started.has(c.record.name));
          await stopContainers(engine, targets, { timeoutMs: killing ? 0 : timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000 });
        });
        await reporter.finish();
        process.exitCode = 130;
      } finally {
        release();
      }
    },
  };
}

/** Attached `up --watch`: develop.watch runs beside the logs until the attached session ends. */
async function startWatching(engine: Engine, project: Project, global: GlobalOptions, services: string[]): Promise<() => Promise<void>> {
  const [{ startWatch }, { loadProject, projectOptionsFromFlags }] = await Promise.all([import('../../watch/index.js'), import('../../project/index.js')]);
  const handle = startWatch(engine, project, {
    services,
    build: { log: (service, line) => process.stderr.write(`${service} ${line}\n`) },
    reload: () => loadProject(projectOptionsFromFlags(global, { servicesNamed: services })),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  await handle.ready;
  return () => handle.close();
}
