/**
 * What the stack commands (up, down, ps, start, stop, ...) share: loading the project (or only
 * its name with `-p` when there is no compose file), opening the engine with the `--runtime`
 * of the command line, a progress reporter, and choosing containers by service name.
 */
import { BerthError, ComposeFileError } from '../errors.js';
import { Engine } from '../engine/engine.js';
import type { EventSink, ObservedContainer, Project } from '../engine/types.js';
import { loadProject, projectOptionsFromFlags } from '../project/index.js';
import type { Command } from 'commander';
import { globalOptions, type GlobalOptions } from './global-options.js';
import { createReporter, type Reporter } from './progress.js';

/** The project a command works on: loaded from the compose files, or only its name (`-p` without a file). */
export interface StackTarget {
  name: string;
  project?: Project;
}

/** Loads the project; falls back to `-p NAME` alone when there is no compose file (commands on existing containers). */
export async function loadStackTarget(global: GlobalOptions, options: { servicesNamed?: string[]; needProject?: boolean } = {}): Promise<StackTarget> {
  try {
    const project = await loadProject(projectOptionsFromFlags(global, { servicesNamed: options.servicesNamed }));
    return { name: project.name, project };
  } catch (err) {
    if (!options.needProject && global.projectName && err instanceof ComposeFileError && /no compose file/i.test(err.message)) return { name: global.projectName };
    throw err;
  }
}

/** Opens the engine with `--runtime` and an optional event sink. */
export function openEngine(global: GlobalOptions, events?: EventSink): Promise<Engine> {
  return Engine.open({ runtime: global.runtime, events });
}

/** A progress reporter for `--progress` (stderr). */
export function stackReporter(global: GlobalOptions, project?: Project): Reporter {
  return createReporter(global.progress, { project, stream: process.stderr });
}

/** Checks service names against the project (when loaded) or the containers there are. */
export function checkServices(target: StackTarget, services: readonly string[], containers: readonly ObservedContainer[]): void {
  const known = target.project
    ? [...target.project.services.keys(), ...target.project.disabledServices.keys()]
    : [...new Set(containers.map((c) => c.record.service))];
  const unknown = services.filter((s) => !known.includes(s));
  if (unknown.length > 0) {
    throw new BerthError(`no such service: ${unknown.map((s) => `"${s}"`).join(', ')}`, { hint: known.length ? `services are ${known.sort().map((s) => `"${s}"`).join(', ')}` : `project "${target.name}" has no containers` });
  }
}

/** The project's containers of the named services (all when none are named). */
export async function selectContainers(engine: Engine, target: StackTarget, services: readonly string[], options: { all?: boolean; oneoff?: boolean } = {}): Promise<ObservedContainer[]> {
  const containers = await engine.observe(target.name, { oneoff: options.oneoff, all: options.all ?? true });
  checkServices(target, services, containers);
  return containers.filter((c) => services.length === 0 || services.includes(c.record.service));
}

/** Parses a number-of-seconds flag. */
export function secondsFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new BerthError(`invalid value "${value}" for ${flag}`, { hint: 'give a number of seconds' });
  return n;
}

/** What a lifecycle command's body gets from lockedStackCommand(). */
export interface StackCommandContext {
  global: GlobalOptions;
  target: StackTarget;
  engine: Engine;
}

/**
 * The frame of the commands on existing containers (start, stop, restart, kill, rm, pause,
 * unpause): global flags, the project (or `-p NAME` alone), the engine reporting progress on
 * stderr, and `body` run under the project lock; the progress display is finished even when
 * the body fails.
 */
export async function lockedStackCommand(command: Command, body: (context: StackCommandContext) => Promise<void>): Promise<void> {
  const global = globalOptions(command);
  const target = await loadStackTarget(global);
  const reporter = stackReporter(global, target.project);
  const engine = await openEngine(global, reporter.sink);
  try {
    await engine.withProjectLock(target.name, () => body({ global, target, engine }));
  } finally {
    await reporter.finish();
  }
}

/** Milliseconds of a `-t/--timeout` seconds flag (undefined when not given). */
export function timeoutFlagMs(value: string | undefined): number | undefined {
  const seconds = secondsFlag(value, '--timeout');
  return seconds === undefined ? undefined : seconds * 1000;
}
