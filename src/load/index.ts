/** The compose loader: files, environment, interpolation, merging, include and extends. */
export { loadCompose } from './load-compose.js';
export { parseDotenv, readEnvFile, type DotenvOptions } from './dotenv.js';
export { recordLookup } from './environment.js';
export { interpolateString, TemplateError, type VariableLookup, type Interpolated } from './interpolate.js';
export { parsePortIdentity, portKey, volumeTarget, volumeSource, mountTarget, splitKeyValue, envFilePath, type PortIdentity } from './merge-identity.js';
export { normalizeProjectName, isValidProjectName } from './project-name.js';
export { DEFAULT_FILE_NAMES } from './discover-files.js';
export { MAX_COMPOSE_FILE_BYTES, MAX_ALIAS_EXPANSION } from './parse-yaml.js';
export { rebasePath } from './rebase-paths.js';
export { formatPath, type KeyPath } from './key-path.js';
export type { LoadOptions, LoadedCompose, SourceIndex, ValueOrigin, VariableUse } from './types.js';
