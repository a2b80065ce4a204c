// The few server-side defaults of built-in kinds a reconciler notices: a Namespace's phase, a
// Service's allocated clusterIP (kept across updates that omit it), a Deployment's replicas.
import { createHash } from 'node:crypto';
import type { KubeObject, ResourceType } from './types.js';
import { isPlainObject } from './types.js';

function clusterIpFor(uid: string): string {
  const digest = createHash('sha256').update(uid).digest();
  return `10.96.${digest[0] ?? 0}.${Math.max(1, digest[1] ?? 1)}`;
}

export function applyBuiltinDefaults(type: ResourceType, object: KubeObject, stored?: KubeObject): void {
  if (type.custom) return;
  const kind = `${type.group}/${type.kind}`;
  if (kind === '/Namespace') {
    object.status = { ...(isPlainObject(object.status) ? object.status : {}), phase: 'Active' };
  } else if (kind === '/Service') {
    const spec = isPlainObject(object.spec) ? object.spec : {};
    const storedSpec = isPlainObject(stored?.spec) ? stored.spec : {};
    spec.type ??= 'ClusterIP';
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      spec.clusterIP = storedSpec.clusterIP ?? clusterIpFor(object.metadata.uid ?? '');
    }
    spec.clusterIPs ??= storedSpec.clusterIPs ?? [spec.clusterIP];
    object.spec = spec;
  } else if (kind === 'apps/Deployment') {
    const spec = isPlainObject(object.spec) ? object.spec : {};
    spec.replicas ??= 1;
    object.spec = spec;
  }
}
