const POLICY_SOURCE = 'io.kubewarden.policy.source';
const IMAGE_SOURCE = 'org.opencontainers.image.source';

/**
 * Manifest annotations from a policy's metadata annotations, as `kwctl push` writes them
 * (docs/kubewarden-compatibility.md#oci-artifact-layout): values trimmed, multi-line values dropped
 * (registries and UIs handle them badly), and `org.opencontainers.image.source` copied from
 * `io.kubewarden.policy.source` when absent.
 */
export function manifestAnnotations(
  metadataAnnotations: Record<string, string> | undefined,
): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadataAnnotations ?? {})) {
    const trimmed = value.trim();
    if (!trimmed.includes('\n')) annotations[key] = trimmed;
  }
  const source = annotations[POLICY_SOURCE];
  if (source !== undefined && annotations[IMAGE_SOURCE] === undefined) annotations[IMAGE_SOURCE] = source;
  return annotations;
}
