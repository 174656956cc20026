/** `develop.watch`: hot reload of running services (sync, rebuild, sync+restart, sync+exec). */
export { startWatch, watchRules } from './watcher.js';
export type { WatchRule, WatchOptions, WatchHandle } from './watcher.js';
export { syncInto, removeFrom } from './sync.js';
