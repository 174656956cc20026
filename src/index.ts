/** berth as a library: the typed API the CLI is built on. */
export { BerthError, ComposeFileError, ValidationError, GraphError, ApplyError, RuntimeError, RegistryError, ImageError, formatError } from './errors.js';
export type { SourceRef, ValidationIssue } from './errors.js';
export { berthVersion } from './version.js';

// Compose files → Project.
export { loadCompose } from './load/index.js';
export type { LoadOptions, LoadedCompose } from './load/types.js';
export { validateCompose, findIssues } from './validate/index.js';
export { loadProject, loadProjectDetailed, projectOptionsFromFlags } from './project/index.js';
export type { LoadedProject, ProjectOptions } from './project/index.js';
export { normalize, withProfiles, withSelectedServices, withoutUnusedResources, toComposeDocument, serviceConfigHash } from './model/index.js';
export type { Project, Service, Network, Volume, Secret, Config, PortConfig, VolumeMount, ServiceDependency } from './model/index.js';
export { buildGraph, renderGraph } from './graph/index.js';
export type { ProjectGraph } from './graph/index.js';

// Containers.
export { RuntimeDriver, toOciSpec, compileSeccomp, defaultSeccompProfile, resolveUser, readCgroupStats } from './runtime/index.js';
export type { ContainerSpec, OciConfig, OciState, ContainerStats } from './runtime/index.js';

// Images.
export { ImageStore, pullImage, pushImage, parseReference, normalizeReference, unpackLayer, mountRootfs, unmountRootfs, prepareContainerRootfs, removeContainerRootfs, loadArchive, saveImages, importRootfs } from './images/index.js';
export type { StoredImage, ImageReference } from './images/index.js';

// Stacks: the engine behind the CLI, and the API for integration tests.
export { up } from './api.js';
export type { Stack, StackOptions, ExecResult, HostPort } from './api.js';
export { Engine } from './engine/engine.js';
export type { ContainerRecord, ObservedContainer, EngineEvent, PlannedAction } from './engine/types.js';
export { buildServices } from './build/index.js';
export { startWatch } from './watch/index.js';
