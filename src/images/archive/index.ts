/** Image archives: `docker save`/OCI layout load, save, and rootfs tarball import. */
export { loadArchive } from './load.js';
export { saveImages, saveEntries } from './save.js';
export { importRootfs } from './import.js';
export type { ImportOptions } from './import.js';
export { applyChanges } from './changes.js';
export type { LoadedImage } from './register.js';
