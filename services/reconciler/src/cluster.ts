import { CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { apiFailureOf } from './api-failure.js';

/** The API group and version of Castellan's kinds, split as the custom-objects API wants them. */
const GROUP = 'policies.castellan.dev';
const VERSION = 'v1';

/** REST plurals of Castellan's kinds. */
export const CASTELLAN_PLURALS = {
  PolicyServer: 'policyservers',
  ClusterAdmissionPolicy: 'clusteradmissionpolicies',
  AdmissionPolicy: 'admissionpolicies',
  ClusterAdmissionPolicyGroup: 'clusteradmissionpolicygroups',
  AdmissionPolicyGroup: 'admissionpolicygroups',
} as const;

export type CastellanKind = keyof typeof CASTELLAN_PLURALS;

/** A Castellan custom resource as read from the API (spec and all), at its resourceVersion. */
export interface CastellanObject {
  kind: CastellanKind;
  metadata: { name: string; namespace?: string; resourceVersion?: string; finalizers?: string[] };
  spec: object;
}

/**
 * The reconciler's writes to the Kubernetes API: generic create/replace/delete of the objects it
 * owns, finalizers and status of Castellan's resources. Every update carries the resourceVersion
 * it was computed from, so a concurrent change fails with 409 and the work is redone from the
 * newer state.
 */
export class Cluster {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * Makes `desired` exist as given. `current` is what the informer cache holds (undefined: absent).
   * Writes only when a field the reconciler sets differs; returns whether it wrote.
   */
  async ensure(desired: KubernetesObject, current: KubernetesObject | undefined): Promise<boolean> {
    if (!current) {
      await this.objects.create(desired);
      return true;
    }
    if (ownsSameFields(desired, current)) return false;
    await this.objects.replace({
      ...current,
      ...desired,
      metadata: {
        ...current.metadata,
        ...desired.metadata,
        resourceVersion: current.metadata?.resourceVersion,
      },
    });
    return true;
  }

  /** Deletes an object; one already gone is not an error. */
  async remove(object: KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(object);
    } catch (error) {
      if (apiFailureOf(error)?.code !== 404) throw error;
    }
  }

  /** Replaces the finalizers of a Castellan resource, at the resourceVersion it was read at. */
  async setFinalizers(object: CastellanObject, finalizers: string[]): Promise<void> {
    await this.objects.replace({
      ...object,
      apiVersion: `${GROUP}/${VERSION}`,
      metadata: { ...object.metadata, finalizers },
    });
  }

  /** Writes the status subresource of a Castellan resource, at the resourceVersion it was read at. */
  async setStatus(object: CastellanObject, status: object): Promise<void> {
    const { name, namespace } = object.metadata;
    const plural = CASTELLAN_PLURALS[object.kind];
    const body = { ...object, apiVersion: `${GROUP}/${VERSION}`, status };
    if (namespace) {
      await this.custom.replaceNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
        body,
      });
    } else {
      await this.custom.replaceClusterCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        plural,
        name,
        body,
      });
    }
  }
}

/**
 * Whether every field of `desired` has the same value in `current`, recursively through objects
 * and through arrays element by element: fields the API server adds (defaults such as a
 * container's `terminationMessagePath`, status, uid…) do not count as a difference, so a
 * reconcile after the server's defaulting writes nothing.
 */
function ownsSameFields(desired: unknown, current: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(current) &&
      desired.length === current.length &&
      desired.every((item, index) => ownsSameFields(item, current[index]))
    );
  }
  if (typeof desired !== 'object' || desired === null) return isDeepStrictEqual(desired, current);
  if (typeof current !== 'object' || current === null || Array.isArray(current)) return false;
  return Object.entries(desired).every(
    ([key, value]) => value === undefined || ownsSameFields(value, (current as Record<string, unknown>)[key]),
  );
}
