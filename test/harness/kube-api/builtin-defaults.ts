// The few server-side defaults of built-in kinds a reconciler notices: a Namespace's phase, a
// Service's allocated clusterIP (kept across updates that omit it), a Deployment's replicas, a
// Secret's type (Opaque) and its write-only stringData folded into data.
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
  } else if (kind === '/Secret') {
    object.type ??= 'Opaque';
    if (isPlainObject(object.stringData)) {
      const data = isPlainObject(object.data) ? object.data : {};
      for (const [key, value] of Object.entries(object.stringData)) {
        data[key] = Buffer.from(String(value), 'utf8').toString('base64');
      }
      object.data = data;
    }
    delete object.stringData;
  } else if (kind === 'apps/Deployment') {
    const spec = isPlainObject(object.spec) ? object.spec : {};
    spec.replicas ??= 1;
    object.spec = spec;
  }
}
