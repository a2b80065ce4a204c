export { buildFetcher } from './app.js';
export type { FetcherDeps, FetcherService } from './app.js';
export { loadConfig } from './config.js';
export type { FetcherConfig } from './config.js';
export { FetchErrorCode } from './errors.js';
export type { ModuleSource } from './module-source.js';
