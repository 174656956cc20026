/** Project stage: one call from compose files to a validated, normalized, profile-filtered Project. */
export { loadProject, loadProjectDetailed, type LoadedProject, type ProjectOptions } from './load-project.js';
export { projectOptionsFromFlags, type ProjectFlags } from './options-from-flags.js';
export { renderConfig, type ConfigRequest } from './render-config.js';
export { explainService, renderExplanation, type ExplainedValue } from './explain.js';
