/**
 * The project a command about existing containers (logs, ...) works on: from the compose file
 * when there is one, else from -p alone, so `berth -p demo logs` works from any directory.
 */
import { ComposeFileError } from '../errors.js';
import { loadProject, projectOptionsFromFlags } from '../project/index.js';
import type { GlobalOptions } from './global-options.js';

/** The project's name and, when a compose file was loaded, its service names (enabled and disabled). */
export async function resolveProjectName(global: GlobalOptions): Promise<{ name: string; serviceNames?: string[] }> {
  try {
    const project = await loadProject(projectOptionsFromFlags(global));
    return { name: project.name, serviceNames: [...project.services.keys(), ...project.disabledServices.keys()] };
  } catch (err) {
    if (global.projectName && err instanceof ComposeFileError && /no compose file/i.test(err.message)) return { name: global.projectName };
    throw err;
  }
}
