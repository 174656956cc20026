/** berth as a library: the typed API the CLI is built on. */
export { BerthError, ComposeFileError, ValidationError, GraphError, ApplyError, RuntimeError, RegistryError, ImageError } from './errors.js';
export type { SourceRef, ValidationIssue } from './errors.js';
export { berthVersion } from './version.js';
