/** Model stage: the typed Project and how it is built from the loader's merged document. */
export type {
  BuildConfig, Config, DependencyCondition, FileReference, HealthCheck, IdMapping, IdMappings, Network, PortConfig, Project,
  Secret, Service, ServiceDependency, ServiceNetwork, ServiceSpec, SourceRef, Volume, VolumeMount,
} from './types.js';
export { normalize, type NormalizeOptions } from './normalize.js';
export { withProfiles, withSelectedServices, type ProfileOptions } from './profiles.js';
export { withoutUnusedResources } from './resources.js';
export { toComposeDocument, serviceDocument, sortedData, type ComposeDocumentOptions } from './compose-document.js';
export { serviceConfigHash } from './config-hash.js';
export { splitShellWords } from './shell-words.js';
export { closestName, namesHint } from './did-you-mean.js';
