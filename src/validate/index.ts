/** Validation stage: JSON Schema check of the merged compose document, then cross-references. */
export { validateCompose, findIssues } from './validate-compose.js';
export { checkSchema, composeSchemaPath } from './schema-check.js';
export { didYouMean, editDistance } from './did-you-mean.js';
export { parsePortSpec, parseExposeSpec, parseVolumeSpec, isHostPath, parseDuration, parseByteSize, type PortSpec, type VolumeSpec } from './syntax/index.js';
