import { readFile } from 'node:fs/promises';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type {
  AdmissionPolicy,
  ClusterAdmissionPolicy,
  ClusterAdmissionPolicyGroup,
  LabelSelectorRequirement,
} from './policy-resources.js';
import { webhookConfigurationOf } from './webhook-configuration.js';
import type { PolicyWebhookConfiguration, WebhookTarget } from './webhook-configuration.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n';
const target: WebhookTarget = {
  namespace: 'castellan',
  gatewayService: 'castellan-gateway',
  caBundlePem: CA_PEM,
};
const NOT_CASTELLAN: LabelSelectorRequirement = {
  key: 'kubernetes.io/metadata.name',
  operator: 'NotIn',
  values: ['castellan'],
};

/** Reads one of deploy/examples/*.yaml as a policy resource. */
async function examplePolicy<P>(file: string): Promise<P> {
  const url = new URL(`../../../deploy/examples/${file}`, import.meta.url);
  return parse(await readFile(url, 'utf8')) as P;
}

/** Validates a built object with its kubernetes-models class (the OpenAPI schema of the kind). */
function validate(configuration: PolicyWebhookConfiguration): void {
  const Model =
    configuration.kind === 'MutatingWebhookConfiguration'
      ? MutatingWebhookConfiguration
      : ValidatingWebhookConfiguration;
  expect(() => new Model(configuration as never).validate()).not.toThrow();
}

function webhookOf(configuration: PolicyWebhookConfiguration) {
  return configuration.webhooks[0];
}

describe('webhookConfigurationOf', () => {
  it('builds a MutatingWebhookConfiguration for the psp-capabilities example', async () => {
    const policy = await examplePolicy<ClusterAdmissionPolicy>(
      'clusteradmissionpolicy-psp-capabilities.yaml',
    );
    const configuration = webhookConfigurationOf(policy, target);
    expect(configuration).toEqual<PolicyWebhookConfiguration>({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: {
        name: 'clusterwide-psp-capabilities',
        labels: { 'app.kubernetes.io/part-of': 'castellan' },
        annotations: {
          'castellan.dev/policy-name': 'psp-capabilities',
          'castellan.dev/policy-namespace': '',
        },
      },
      webhooks: [
        {
          name: 'clusterwide-psp-capabilities.castellan.dev',
          clientConfig: {
            service: {
              namespace: 'castellan',
              name: 'castellan-gateway',
              path: '/validate/clusterwide-psp-capabilities',
              port: 443,
            },
            caBundle: Buffer.from(CA_PEM).toString('base64'),
          },
          rules: [
            { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE', 'UPDATE'] },
          ],
          namespaceSelector: { matchExpressions: [NOT_CASTELLAN] },
          sideEffects: 'None',
          timeoutSeconds: 10,
          admissionReviewVersions: ['v1'],
        },
      ],
    });
    validate(configuration);
  });

  it('validates with a schema that does catch a broken webhook', () => {
    const configuration = webhookConfigurationOf(
      {
        kind: 'ClusterAdmissionPolicy',
        metadata: { name: 'p' },
        spec: { module: 'm', mutating: false, rules: [] },
      },
      target,
    );
    const broken = {
      ...configuration,
      webhooks: [{ ...webhookOf(configuration), admissionReviewVersions: 'v1' }],
    };
    expect(() => new ValidatingWebhookConfiguration(broken as never).validate()).toThrow();
  });

  it('encodes the whole CA bundle (old CA included) as base64', () => {
    const bundle = `${CA_PEM}${CA_PEM.replace('dummy', 'oldca')}`;
    const configuration = webhookConfigurationOf(
      {
        kind: 'ClusterAdmissionPolicy',
        metadata: { name: 'p' },
        spec: { module: 'm', mutating: false, rules: [] },
      },
      { ...target, caBundlePem: bundle },
    );
    expect(Buffer.from(webhookOf(configuration).clientConfig.caBundle, 'base64').toString('utf8')).toBe(
      bundle,
    );
  });

  it('points at the gateway URL with the policy path when one is configured, trusting the same CA', () => {
    const configuration = webhookConfigurationOf(
      {
        kind: 'ClusterAdmissionPolicy',
        metadata: { name: 'p' },
        spec: { module: 'm', mutating: false, rules: [] },
      },
      { ...target, gatewayUrl: new URL('https://127.0.0.1:8443') },
    );
    expect(webhookOf(configuration).clientConfig).toEqual({
      url: 'https://127.0.0.1:8443/validate/clusterwide-p',
      caBundle: Buffer.from(CA_PEM).toString('base64'),
    });
    validate(configuration);
  });

  it('carries every optional field of the safe-labels example, ANDing the namespace exclusion', async () => {
    const policy = await examplePolicy<ClusterAdmissionPolicy>('clusteradmissionpolicy-safe-labels.yaml');
    const configuration = webhookConfigurationOf(policy, target);
    expect(configuration.kind).toBe('ValidatingWebhookConfiguration');
    const webhook = webhookOf(configuration);
    expect(webhook.failurePolicy).toBe('Ignore');
    expect(webhook.matchPolicy).toBe('Equivalent');
    expect(webhook.sideEffects).toBe('None');
    expect(webhook.timeoutSeconds).toBe(5);
    expect(webhook.objectSelector).toEqual({ matchLabels: { 'castellan.dev/checked': 'true' } });
    expect(webhook.matchConditions?.map((condition) => condition.name)).toEqual([
      'exclude-leases',
      'example.com/not-dry-run',
    ]);
    expect(webhook.rules[0]?.scope).toBe('Namespaced');
    expect(webhook.namespaceSelector).toEqual({
      matchExpressions: [
        NOT_CASTELLAN,
        { key: 'environment', operator: 'In', values: ['production', 'staging'] },
      ],
    });
    validate(configuration);
  });

  it('drops the user matchLabels of a cluster-wide policy, as Kubewarden does', () => {
    const policy: ClusterAdmissionPolicy = {
      kind: 'ClusterAdmissionPolicy',
      metadata: { name: 'p' },
      spec: {
        module: 'm',
        mutating: false,
        rules: [],
        namespaceSelector: {
          matchLabels: { team: 'a' },
          matchExpressions: [{ key: 'tier', operator: 'Exists' }],
        },
      },
    };
    const { namespaceSelector } = webhookOf(webhookConfigurationOf(policy, target));
    expect(namespaceSelector).toEqual({
      matchExpressions: [NOT_CASTELLAN, { key: 'tier', operator: 'Exists' }],
    });
  });

  it.each([
    ['with a user selector', { matchLabels: { team: 'a' } }, { matchLabels: { team: 'a' } }],
    ['without one', undefined, undefined],
  ])(
    'keeps the namespaceSelector verbatim with allowInsideAdmissionControllerNamespace, %s',
    (_w, user, expected) => {
      const policy: ClusterAdmissionPolicy = {
        kind: 'ClusterAdmissionPolicy',
        metadata: { name: 'p' },
        spec: {
          module: 'm',
          mutating: false,
          rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
          allowInsideAdmissionControllerNamespace: true,
          ...(user !== undefined ? { namespaceSelector: user } : {}),
        },
      };
      const configuration = webhookConfigurationOf(policy, target);
      expect(webhookOf(configuration).namespaceSelector).toEqual(expected);
      validate(configuration);
    },
  );

  it('confines an AdmissionPolicy to its own namespace and forces scope Namespaced', async () => {
    const policy = await examplePolicy<AdmissionPolicy>('admissionpolicy-privileged-pods.yaml');
    policy.spec.rules[0] = { ...policy.spec.rules[0]!, scope: '*' };
    const configuration = webhookConfigurationOf(policy, target);
    expect(configuration.kind).toBe('ValidatingWebhookConfiguration');
    expect(configuration.metadata.name).toBe('namespaced-default-privileged-pods');
    expect(configuration.metadata.annotations).toEqual({
      'castellan.dev/policy-name': 'privileged-pods',
      'castellan.dev/policy-namespace': 'default',
    });
    const webhook = webhookOf(configuration);
    expect(webhook.name).toBe('namespaced-default-privileged-pods.castellan.dev');
    expect(webhook.clientConfig).toMatchObject({
      service: { path: '/validate/namespaced-default-privileged-pods' },
    });
    expect(webhook.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': 'default' } });
    expect(webhook.rules.map((rule) => rule.scope)).toEqual(['Namespaced']);
    expect(policy.spec.rules[0]?.scope).toBe('*'); // the resource itself is left alone
    validate(configuration);
  });

  it('builds a mutating AdmissionPolicy as a MutatingWebhookConfiguration, still on /validate/', () => {
    const policy: AdmissionPolicy = {
      kind: 'AdmissionPolicy',
      metadata: { name: 'm', namespace: 'team-a' },
      spec: {
        module: 'm',
        mutating: true,
        sideEffects: 'NoneOnDryRun',
        rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      },
    };
    const configuration = webhookConfigurationOf(policy, target);
    expect(configuration.kind).toBe('MutatingWebhookConfiguration');
    expect(webhookOf(configuration).clientConfig).toMatchObject({
      service: { path: '/validate/namespaced-team-a-m' },
    });
    expect(webhookOf(configuration).sideEffects).toBe('NoneOnDryRun');
    validate(configuration);
  });

  it('builds a policy group as a ValidatingWebhookConfiguration', () => {
    const policy: ClusterAdmissionPolicyGroup = {
      kind: 'ClusterAdmissionPolicyGroup',
      metadata: { name: 'signed' },
      spec: {
        expression: 'a()',
        message: 'not signed',
        policies: { a: { module: 'm' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      },
    };
    const configuration = webhookConfigurationOf(policy, target);
    expect(configuration.kind).toBe('ValidatingWebhookConfiguration');
    expect(configuration.metadata.name).toBe('clusterwide-group-signed');
    expect(webhookOf(configuration).namespaceSelector).toEqual({ matchExpressions: [NOT_CASTELLAN] });
    validate(configuration);
  });
});
