/**
 * @castellan/oci: fetches Kubewarden policy modules from OCI registries, web servers and
 * files, and pushes them as Wasm artifacts (docs/kubewarden-compatibility.md#policy-artifacts).
 */
export {
  ModuleDistributionClient,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_MODULE_BYTES,
} from './module-distribution-client.js';
export type {
  DownloadedModule,
  ModuleDistributionOptions,
  PushedModule,
  PushOptions,
  ResolvedModule,
} from './module-distribution-client.js';
export type { ProgressListener } from './body-reader.js';
export { parseModuleUrl, formatModuleUrl } from './module-url.js';
export type { ModuleUrl } from './module-url.js';
export { parseOciReference, formatOciReference, isLatestTag } from './oci-reference.js';
export type { OciReference } from './oci-reference.js';
export { manifestAnnotations } from './annotations.js';
export { MediaType } from './manifest.js';
export { loadSources, DEFAULT_SOURCES } from './sources.js';
export type { SourcesConfig } from './sources.js';
export { networkProblem } from './network-access.js';
export { proxiesFromEnv } from './proxies.js';
export type { ProxySettings } from './proxies.js';
export { loadDockerCredentials, ANONYMOUS_CREDENTIALS } from './credentials.js';
export type { BasicCredentials, DockerCredentialsOptions, RegistryCredentials } from './credentials.js';
export { DEFAULT_RETRY_POLICY } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { OciError, OciErrorCode } from './errors.js';
