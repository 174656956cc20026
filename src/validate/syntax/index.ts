/** Parsers of Compose short syntaxes, shared by validation and the normalizer. Pure functions. */
export { parsePortSpec, parseExposeSpec, type PortSpec } from './ports.js';
export { parseVolumeSpec, isHostPath, type VolumeSpec } from './volumes.js';
export { parseDuration, parseByteSize } from './units.js';
