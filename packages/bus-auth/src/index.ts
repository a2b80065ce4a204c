export {
  busTrust,
  createBusAuthority,
  issueBusCredentials,
  parseBusAuthority,
  serializeBusAuthority,
} from './authority.js';
export type { BusAuthority, BusTrust, CredentialOptions } from './authority.js';
export {
  ClusterBusSecretKey,
  ClusterBusSecretName,
  NATS_CONFIG_DIR,
  credentialsSecretName,
  prepareClusterBus,
} from './cluster-bus.js';
export type { ClusterBusOptions, ClusterBusSecret } from './cluster-bus.js';
export { BusAuthError, BusAuthErrorCode } from './errors.js';
export { credentialsMismatch, inspectBusCredentials } from './issued-credentials.js';
export type { IssuedCredentials } from './issued-credentials.js';
export { prepareLocalBus } from './local-bus.js';
export type { LocalBus } from './local-bus.js';
export { busPermissions } from './permissions.js';
export type { BusPermissions } from './permissions.js';
export { lockedServerConfig, routeTlsConfig } from './server-config.js';
export type { TlsFiles } from './server-config.js';
