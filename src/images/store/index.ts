/** The content-addressed image store: blobs, refs, unpacked layers, lock and gc. */
export { ImageStore } from './image-store.js';
export type { StoredImage } from './image-store.js';
export { writeFileAtomic } from './files.js';
export type { GcResult, GcOptions, Lease } from './gc.js';
export { withFileLock } from './lock.js';
export { setImageUsageProvider, imagesInUse } from './in-use.js';
export type { ImageUsageProvider } from './in-use.js';
