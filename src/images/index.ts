/** Images: references, the content store, the registry client, layer unpacking. */
export * from './types.js';
export { parseReference, normalizeReference, formatReference, familiarReference, familiarRepository, repositoryName, looksLikeImageId, dockerHubDomain } from './reference.js';
export type { ImageReference } from './reference.js';
export { ImageStore } from './store/index.js';
export type { StoredImage, GcResult } from './store/index.js';
export {
  pullImage, pushImage, pushClient, loginRegistry, logoutRegistry, credentialsFor, loadRegistryConfig, hostPlatform, parsePlatform, formatPlatform, RegistryClient,
} from './registry/index.js';
export type { PullOptions, PullProgress, PushOptions, PushProgress, Credentials, RegistryConfig, Platform } from './registry/index.js';
export { unpackLayer } from './layers/index.js';
