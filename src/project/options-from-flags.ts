/** The global command-line flags (`-f`, `-p`, `--profile`, ...) as loadProject() options. */
import fs from 'node:fs';
import type { ProjectOptions } from './load-project.js';

/** The subset of the CLI's global flags that decide which project is loaded. */
export interface ProjectFlags {
  file?: readonly string[];
  projectName?: string;
  profile?: readonly string[];
  envFile?: readonly string[];
  projectDirectory?: string;
}

/** Maps global flags onto ProjectOptions; `-f -` reads stdin. Commands add their own fields. */
export function projectOptionsFromFlags(flags: ProjectFlags, extra: Partial<ProjectOptions> = {}): ProjectOptions {
  return {
    cwd: process.cwd(),
    files: flags.file && flags.file.length > 0 ? flags.file : undefined,
    projectName: flags.projectName,
    projectDirectory: flags.projectDirectory,
    envFiles: flags.envFile && flags.envFile.length > 0 ? flags.envFile : undefined,
    profiles: flags.profile && flags.profile.length > 0 ? flags.profile : undefined,
    env: process.env,
    readStdin: async () => fs.readFileSync(0, 'utf8'),
    ...extra,
  };
}
