/** Images: references, the content store, the registry client, layer unpacking, rootfs mounts and archives. */
export * from './types.js';
export { parseReference, normalizeReference, formatReference, familiarReference, familiarRepository, repositoryName, looksLikeImageId, dockerHubDomain } from './reference.js';
export type { ImageReference } from './reference.js';
export { ImageStore, setImageUsageProvider, imagesInUse } from './store/index.js';
export type { StoredImage, GcResult, ImageUsageProvider } from './store/index.js';
export {
  pullImage, pushImage, pushClient, loginRegistry, logoutRegistry, credentialsFor, loadRegistryConfig, hostPlatform, parsePlatform, formatPlatform,
  RegistryClient, shouldPull, pullPolicyInterval,
} from './registry/index.js';
export type { PullOptions, PullProgress, PushOptions, PushProgress, Credentials, RegistryConfig, Platform } from './registry/index.js';
export { unpackLayer, isLayerMediaType } from './layers/index.js';
export { mountRootfs, unmountRootfs, prepareContainerRootfs, removeContainerRootfs, overlaySupported } from './rootfs/index.js';
export type { ContainerRootfs, OverlayMount, Snapshotter } from './rootfs/index.js';
export { loadArchive, saveImages, importRootfs } from './archive/index.js';
export type { LoadedImage, ImportOptions } from './archive/index.js';
