export {
  CAPABILITY_TREE,
  KNOWN_CAPABILITY_PATHS,
  KUBEWARDEN_BINDING,
  TRACING_NAMESPACE,
  capabilityPath,
  notGrantedMessage,
  parseHostCapabilityGrants,
  unknownBindingMessage,
  unknownNamespaceMessage,
  unknownOperationMessage,
} from './host-capabilities.js';
export type { CapabilityTree, HostCapabilityGrants } from './host-capabilities.js';
