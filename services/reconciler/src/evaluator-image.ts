/**
 * Which image the evaluators of a PolicyServer run. Whoever may create a PolicyServer chooses its
 * `spec.image`, and that image runs in Castellan's namespace with an evaluator's NATS credentials:
 * so it is taken only from the repositories the reconciler's operator allows, matched exactly
 * (host, port and path), never by a prefix or suffix of the name.
 */
import { messageOf } from '@castellan/proto';
import { parseImageReference, repositoryOf } from './image-reference.js';

/**
 * Kubewarden's policy-server, named by PolicyServers copied from a Kubewarden installation: those
 * run the reconciler's own evaluator image instead.
 */
export const KUBEWARDEN_POLICY_SERVER_REPOSITORY = 'ghcr.io/kubewarden/policy-server';

/** The reconciler's settings that decide it (see config.ts). */
export interface EvaluatorImagePolicy {
  /** Normalised repositories (`host[:port]/path`) whose images a PolicyServer may name. */
  readonly allowedImageRepositories: readonly string[];
  /** `CASTELLAN_EVALUATOR_IMAGE`, run in place of Kubewarden's policy-server. */
  readonly evaluatorImage: string | undefined;
}

export type EvaluatorImage =
  | { kind: 'allowed'; image: string }
  /** Kubewarden's policy-server replaced; `message` says so in the PolicyServer's status. */
  | { kind: 'substituted'; image: string; message: string }
  /** No Deployment may run it; `message` says why and what to configure. */
  | { kind: 'refused'; message: string };

export function evaluatorImageOf(image: string, policy: EvaluatorImagePolicy): EvaluatorImage {
  const { allowedImageRepositories: allowed, evaluatorImage } = policy;
  const allowList =
    allowed.length > 0
      ? allowed.join(', ')
      : 'empty: neither CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES nor CASTELLAN_EVALUATOR_IMAGE is set';
  const refused = (why: string, what: string): EvaluatorImage => ({
    kind: 'refused',
    message:
      `spec.image "${image}" is refused: ${why}. ${what}. ` +
      'Until then the evaluator Deployment is neither created nor changed.',
  });
  let repository: string;
  try {
    repository = repositoryOf(parseImageReference(image));
  } catch (error) {
    return refused(messageOf(error), `Name an image of an allowed repository (${allowList})`);
  }
  if (allowed.includes(repository)) return { kind: 'allowed', image };
  if (repository === KUBEWARDEN_POLICY_SERVER_REPOSITORY && evaluatorImage !== undefined) {
    return {
      kind: 'substituted',
      image: evaluatorImage,
      message:
        `spec.image "${image}" is Kubewarden's policy-server, so the evaluators run "${evaluatorImage}" ` +
        `(CASTELLAN_EVALUATOR_IMAGE) instead; set spec.image to a Castellan image such as "${evaluatorImage}".`,
    };
  }
  return refused(
    `its repository ${repository} is not in the reconciler's allow-list (${allowList})`,
    `Name an image of an allowed repository, or add ${repository} to ` +
      'CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES on the reconciler',
  );
}
