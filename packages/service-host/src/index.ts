export {
  DEFAULT_JETSTREAM_REPLICAS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_NATS_URL,
  EnvReader,
  LOG_LEVELS,
  natsServers,
} from './env-reader.js';
export type { Environment, LogLevel, ServiceConfig } from './env-reader.js';
export { onParentGone } from './parent-watch.js';
export { runService } from './run-service.js';
export type { ServiceDefinition, StartedService } from './run-service.js';
export { openKvBucket, untilStreamExists } from './kv-bucket.js';
export type { BucketRole } from './kv-bucket.js';
export { watchKv } from './kv-watch.js';
export type { KvWatch } from './kv-watch.js';
export { Backoff } from './backoff.js';
export { NatsLink } from './nats-link.js';
export { untilTurnEnds } from './turn-end.js';
export { untilAnswered } from './until-answered.js';
export { busAccessEnv, busConnectionOptions, connectToBus } from './bus-connection.js';
export type { BusAccess } from './bus-connection.js';
