/** Validation stage: JSON Schema check of the merged compose document, then cross-references. */
// The stage itself: throw every issue at once, or just list them.
export { validateCompose, findIssues } from './validate-compose.js';
// The schema check alone, and where the schema lives (for tools and tests).
export { checkSchema, composeSchemaPath } from './schema-check.js';
// Misspelling suggestions, shared with other stages' hints.
export { didYouMean, editDistance } from './did-you-mean.js';
// Short-syntax parsers reused by the normalizer (src/model), which must not re-implement them.
export { parsePortSpec, parseExposeSpec, parseVolumeSpec, isHostPath, parseDuration, parseByteSize, type PortSpec, type VolumeSpec } from './syntax/index.js';
