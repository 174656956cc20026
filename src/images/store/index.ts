/** The content-addressed image store: blobs, refs, unpacked layers, lock and gc. */
export { ImageStore, writeFileAtomic } from './image-store.js';
export type { StoredImage, GcResult } from './image-store.js';
export { withFileLock } from './lock.js';
export { setImageUsageProvider, imagesInUse } from './in-use.js';
export type { ImageUsageProvider } from './in-use.js';
