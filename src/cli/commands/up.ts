/**
 * `berth up [SERVICE...]`: converge the project (create, recreate, start what is needed) and,
 * without -d, stay attached to the containers' output. `--dry-run` prints the plan with the
 * field-level reason of every recreate and changes nothing.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { renderPlan } from '../../engine/plan.js';
import { attachStack } from '../attach.js';
import { globalOptions } from '../global-options.js';
import { loadStackTarget, openEngine, secondsFlag, stackReporter } from '../stack.js';

interface UpFlags {
  detach?: boolean; wait?: boolean; waitTimeout?: string; start: boolean; pull?: string; timeout?: string;
  forceRecreate?: boolean; recreate: boolean; deps: boolean; removeOrphans?: boolean; scale?: string[];
  renewAnonVolumes?: boolean; alwaysRecreateDeps?: boolean; dryRun?: boolean; timeline?: boolean; quietPull?: boolean;
  abortOnContainerExit?: boolean; exitCodeFrom?: string; attach?: string[]; noAttach?: string[]; logPrefix: boolean; color: boolean;
  attachDependencies?: boolean; timestamps?: boolean;
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
    .action(async (services: string[], flags: UpFlags, command: Command) => {
      const global = globalOptions(command);
      if (flags.forceRecreate && !flags.recreate) throw new UsageError('--force-recreate and --no-recreate are incompatible');
      if (flags.alwaysRecreateDeps && !flags.recreate) throw new UsageError('--always-recreate-deps and --no-recreate are incompatible');
      if (flags.detach && (flags.abortOnContainerExit || flags.exitCodeFrom)) throw new UsageError('-d and --abort-on-container-exit/--exit-code-from are incompatible');
      const target = await loadStackTarget(global, { servicesNamed: services, needProject: true });
      const project = target.project!;
      const reporter = stackReporter(flags.dryRun ? { ...global, progress: 'quiet' } : global, project);
      const engine = await openEngine(global, reporter.sink);
      const detach = flags.detach || flags.wait || flags.dryRun || !flags.start;
      let result;
      try {
        result = await engine.up(project, {
          detach, wait: flags.wait, waitTimeout: secondsFlag(flags.waitTimeout, '--wait-timeout'), noStart: !flags.start,
          pull: flags.pull, timeout: secondsFlag(flags.timeout, '--timeout'), forceRecreate: flags.forceRecreate, noRecreate: !flags.recreate,
          noDeps: !flags.deps, removeOrphans: flags.removeOrphans, scale: parseScale(flags.scale), renewAnonVolumes: flags.renewAnonVolumes,
          alwaysRecreateDeps: flags.alwaysRecreateDeps, dryRun: flags.dryRun, services,
        });
      } finally {
        await reporter.finish();
      }
      if (flags.dryRun) {
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
      if (detach) return;
      process.exitCode = await attachStack(engine, project, {
        services: result.services, attach: flags.attach, noAttach: flags.noAttach, abortOnContainerExit: flags.abortOnContainerExit,
        exitCodeFrom: flags.exitCodeFrom, noLogPrefix: !flags.logPrefix, noColor: !flags.color, timeout: secondsFlag(flags.timeout, '--timeout'),
        timestamps: flags.timestamps, ansi: global.ansi,
      });
    });
}
