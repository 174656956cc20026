/** Container root filesystems: overlayfs mounts of unpacked layers, with a copying fallback. */
export { mountRootfs, unmountRootfs, isMountPoint, overlaySupported, maxOverlayLayers } from './overlay.js';
export type { OverlayMount } from './overlay.js';
export { copyLayers } from './copy.js';
export { prepareContainerRootfs, removeContainerRootfs, containerDir, requestedSnapshotter } from './container-rootfs.js';
export type { ContainerRootfs, Snapshotter } from './container-rootfs.js';
