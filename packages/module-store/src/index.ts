export { ModuleStore, DEFAULT_STALL_TIMEOUT_MS } from './module-store.js';
export type { ModuleStoreOptions, StoredModule } from './module-store.js';
export { ModuleStoreError, ModuleStoreErrorCode } from './errors.js';
