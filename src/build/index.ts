/** The Dockerfile builder and the compose `build:` integration. */
export { buildImage, pruneBuildCache, readDockerfile } from './builder.js';
export type { BuildOptions, BuildResult, StepReport, AdditionalContext } from './builder.js';
export { buildServices, serviceImageName, hasBuild, parseByteSize } from './compose.js';
export type { BuildServicesOptions } from './compose.js';
export { parseDockerfile, execForm } from './dockerfile.js';
export type { Dockerfile, Instruction, Heredoc } from './dockerfile.js';
export { ignoreRules, loadIgnore } from './context.js';
export type { IgnoreRules } from './context.js';
export { BuildError } from './errors.js';
