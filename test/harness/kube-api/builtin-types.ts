// The built-in kinds the reconciler reads or writes. Add a line here to serve another one.
import type { ResourceType } from './types.js';

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  scope: { namespaced: boolean; status: boolean; shortNames?: string[] },
): ResourceType {
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced: scope.namespaced,
    statusSubresource: scope.status,
    shortNames: scope.shortNames ?? [],
    custom: false,
  };
}

export const BUILTIN_TYPES: readonly ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', { namespaced: false, status: true, shortNames: ['ns'] }),
  builtin('', 'v1', 'Secret', 'secrets', { namespaced: true, status: false }),
  builtin('', 'v1', 'ConfigMap', 'configmaps', { namespaced: true, status: false, shortNames: ['cm'] }),
  builtin('', 'v1', 'Service', 'services', { namespaced: true, status: true, shortNames: ['svc'] }),
  builtin('', 'v1', 'Event', 'events', { namespaced: true, status: false, shortNames: ['ev'] }),
  builtin('events.k8s.io', 'v1', 'Event', 'events', { namespaced: true, status: false, shortNames: ['ev'] }),
  builtin('apps', 'v1', 'Deployment', 'deployments', {
    namespaced: true,
    status: true,
    shortNames: ['deploy'],
  }),
  builtin('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', {
    namespaced: true,
    status: true,
    shortNames: ['pdb'],
  }),
  builtin(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    {
      namespaced: false,
      status: false,
    },
  ),
  builtin(
    'admissionregistration.k8s.io',
    'v1',
    'MutatingWebhookConfiguration',
    'mutatingwebhookconfigurations',
    {
      namespaced: false,
      status: false,
    },
  ),
  builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', { namespaced: true, status: false }),
];

/** Namespaces every cluster starts with. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public'] as const;
