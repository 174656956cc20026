/** Builds a LoadedCompose from a plain document, so normalizers are tested without the loader. */
import type { LoadedCompose } from '../../src/load/types.js';

/** A LoadedCompose for `document` with project "demo" in /srv/demo; positions are line 1 of compose.yaml. */
export function loadedFrom(
  document: Record<string, unknown>,
  options: { projectName?: string; projectDirectory?: string; environment?: Record<string, string>; profiles?: string[] } = {},
): LoadedCompose {
  const projectDirectory = options.projectDirectory ?? '/srv/demo';
  return {
    projectName: options.projectName ?? 'demo',
    projectDirectory,
    configFiles: [`${projectDirectory}/compose.yaml`],
    envFiles: [],
    environment: options.environment ?? {},
    profiles: options.profiles ?? [],
    document,
    warnings: [],
    sources: {
      lookup: (path) => ({ file: `${projectDirectory}/compose.yaml`, line: 1, column: 1, path: path.join('.') }),
      origin: () => undefined,
    },
  };
}
