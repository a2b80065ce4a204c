import { describe, expect, it } from 'vitest';
import { evaluatorImageOf } from './evaluator-image.js';
import type { EvaluatorImagePolicy } from './evaluator-image.js';

const OWN = 'ghcr.io/castellan-dev/castellan:0.1.0';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const KUBEWARDEN = 'ghcr.io/kubewarden/policy-server:v1.20.0';
const policy: EvaluatorImagePolicy = {
  allowedImageRepositories: ['ghcr.io/castellan-dev/castellan', 'docker.io/library/nginx'],
  evaluatorImage: OWN,
};

describe('evaluatorImageOf', () => {
  it.each([
    'ghcr.io/castellan-dev/castellan:v1',
    `ghcr.io/castellan-dev/castellan@${DIGEST}`,
    `ghcr.io/castellan-dev/castellan:v1@${DIGEST}`,
    'ghcr.io/castellan-dev/castellan',
    'GHCR.IO/castellan-dev/castellan:v1',
    'nginx:1.27',
    'docker.io/nginx',
    'index.docker.io/library/nginx:1.27',
  ])('runs %s: its repository is allowed', (image) => {
    expect(evaluatorImageOf(image, policy)).toStrictEqual({ kind: 'allowed', image });
  });

  it.each([
    ['evil.io/ghcr.io/castellan-dev/castellan:v1', 'evil.io/ghcr.io/castellan-dev/castellan'],
    ['ghcr.io/castellan-dev/castellan-evil:v1', 'ghcr.io/castellan-dev/castellan-evil'],
    ['ghcr.io/castellan-dev/castellan/sub:v1', 'ghcr.io/castellan-dev/castellan/sub'],
    ['ghcr.io/castellan-dev:v1', 'ghcr.io/castellan-dev'],
    ['ghcr.io:443/castellan-dev/castellan:v1', 'ghcr.io:443/castellan-dev/castellan'],
    ['castellan:dev', 'docker.io/library/castellan'],
    ['acme/nginx', 'docker.io/acme/nginx'],
    ['localhost:5000/castellan-dev/castellan', 'localhost:5000/castellan-dev/castellan'],
  ])('refuses %s: repository %s is not allowed', (image, repository) => {
    const decision = evaluatorImageOf(image, policy);
    expect(decision).toStrictEqual({
      kind: 'refused',
      message:
        `spec.image "${image}" is refused: its repository ${repository} is not in the reconciler's ` +
        `allow-list (ghcr.io/castellan-dev/castellan, docker.io/library/nginx). Name an image of an ` +
        `allowed repository, or add ${repository} to CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES ` +
        'on the reconciler. Until then the evaluator Deployment is neither created nor changed.',
    });
  });

  it('refuses a reference that does not parse, saying why', () => {
    expect(evaluatorImageOf('ghcr.io/Castellan-Dev/castellan', policy)).toStrictEqual({
      kind: 'refused',
      message:
        'spec.image "ghcr.io/Castellan-Dev/castellan" is refused: "ghcr.io/Castellan-Dev/castellan" is ' +
        'not an image reference: the path component "Castellan-Dev" is not lower-case letters and digits ' +
        'joined by ".", "_", "__" or "-". Name an image of an allowed repository ' +
        '(ghcr.io/castellan-dev/castellan, docker.io/library/nginx). Until then the evaluator Deployment ' +
        'is neither created nor changed.',
    });
  });

  it("runs the evaluator image in place of Kubewarden's policy-server, and says so", () => {
    expect(evaluatorImageOf(KUBEWARDEN, policy)).toStrictEqual({
      kind: 'substituted',
      image: OWN,
      message:
        `spec.image "${KUBEWARDEN}" is Kubewarden's policy-server, so the evaluators run "${OWN}" ` +
        `(CASTELLAN_EVALUATOR_IMAGE) instead; set spec.image to a Castellan image such as "${OWN}".`,
    });
  });

  it("refuses Kubewarden's policy-server when no evaluator image is configured", () => {
    const decision = evaluatorImageOf(KUBEWARDEN, { ...policy, evaluatorImage: undefined });
    expect(decision.kind).toBe('refused');
  });

  it('refuses every image when nothing is allowed, naming what to set', () => {
    const decision = evaluatorImageOf(OWN, { allowedImageRepositories: [], evaluatorImage: undefined });
    expect(decision).toMatchObject({ kind: 'refused' });
    expect(decision.kind === 'refused' && decision.message).toContain(
      "is not in the reconciler's allow-list (empty: neither " +
        'CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES nor CASTELLAN_EVALUATOR_IMAGE is set)',
    );
  });
});
