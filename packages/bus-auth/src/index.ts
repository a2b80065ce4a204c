export {
  busTrust,
  createBusAuthority,
  issueBusCredentials,
  parseBusAuthority,
  serializeBusAuthority,
} from './authority.js';
export type { BusAuthority, BusTrust, CredentialOptions } from './authority.js';
export { BusAuthError, BusAuthErrorCode } from './errors.js';
export { prepareLocalBus } from './local-bus.js';
export type { LocalBus } from './local-bus.js';
export { busPermissions } from './permissions.js';
export type { BusPermissions } from './permissions.js';
export { lockedServerConfig, routeTlsConfig } from './server-config.js';
export type { TlsFiles } from './server-config.js';
