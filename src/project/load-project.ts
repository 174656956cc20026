/**
 * loadProject(): the whole way from compose files to a checked Project —
 * load → validate → normalize → profiles → selected services → unused resources dropped → graph check.
 * Every command, the engine and the JS API start here.
 */
import { loadCompose } from '../load/index.js';
import type { LoadedCompose, LoadOptions } from '../load/types.js';
import { validateCompose } from '../validate/index.js';
import { normalize, withoutUnusedResources, withProfiles, withSelectedServices, type Project } from '../model/index.js';
import { buildGraph, type ProjectGraph } from '../graph/index.js';

/** Options of loadProject(): the loader's, plus the services named on the command line. */
export interface ProjectOptions extends LoadOptions {
  /** Services named on the command line: enabled whatever their profiles. */
  servicesNamed?: readonly string[];
  /** false for `--no-consistency`: skip validation and the graph check (print what was written). */
  consistency?: boolean;
}

/** Everything loadProject() computed, for commands that show more than the Project (`config --explain`). */
export interface LoadedProject {
  readonly loaded: LoadedCompose;
  readonly project: Project;
  /** Undefined only when consistency checks were turned off. */
  readonly graph?: ProjectGraph;
}

/** Loads, validates, normalizes and checks a project; keeps the intermediate results. */
export async function loadProjectDetailed(options: ProjectOptions): Promise<LoadedProject> {
  const loaded = await loadCompose(options);
  if (options.consistency !== false) validateCompose(loaded);
  const normalized = normalize(loaded, { resolvePaths: options.resolvePaths ?? true });
  const enabled = withProfiles(normalized, loaded.profiles, { servicesNamed: options.servicesNamed });
  const project = withoutUnusedResources(withSelectedServices(enabled, options.servicesNamed ?? []));
  const graph = options.consistency === false ? undefined : buildGraph(project);
  return { loaded, project, graph };
}

/** Loads a project the way every berth command does; throws a BerthError naming the first problem set. */
export async function loadProject(options: ProjectOptions): Promise<Project> {
  return (await loadProjectDetailed(options)).project;
}
