export { PROTO_VERSION, FieldReader } from './codec.js';
export type { MessageFields } from './codec.js';
export { ProtoError, ProtoErrorCode } from './errors.js';
export type { WireError } from './errors.js';
export { Bucket, QueueGroup, Subject, moduleIndexKey, subjectToken } from './names.js';
export type { RegistrySources } from './registry-sources.js';
export { decodeFetchReply, decodeFetchRequest, encodeFetchReply, encodeFetchRequest } from './fetch.js';
export type { FetchReply, FetchRequest, FetchedModule } from './fetch.js';
