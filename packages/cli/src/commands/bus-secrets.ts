import { prepareClusterBus } from '@castellan/bus-auth';
import type { ClusterBusSecret } from '@castellan/bus-auth';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { Document } from 'yaml';
import { parsePositiveInteger } from './policy-options.js';

/** Namespaces and Service names are DNS labels (RFC 1123). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

interface BusSecretsFlags {
  namespace: string;
  natsService: string;
  natsReplicas: number;
}

function parseDnsLabel(value: string): string {
  if (!DNS_LABEL.test(value)) {
    throw new InvalidArgumentError('must be a DNS label: lower-case letters, digits and "-", at most 63');
  }
  return value;
}

export function registerBusSecrets(program: Command): void {
  program
    .command('bus-secrets')
    .description(
      "print the Secrets of a cluster's locked NATS bus as YAML: new signing keys, CA and credentials " +
        'every run (castellan bus-secrets | kubectl apply -f -, before helm install or the Kustomize manifests)',
    )
    .option('--namespace <name>', "Castellan's namespace", parseDnsLabel, 'castellan')
    .option('--nats-service <name>', 'the NATS client Service', parseDnsLabel, 'castellan-nats')
    .option('--nats-replicas <count>', 'NATS servers in the StatefulSet', parsePositiveInteger, 3)
    .action(async (flags: BusSecretsFlags) => {
      const secrets = await prepareClusterBus(flags);
      process.stdout.write(secretsYaml(secrets, flags.namespace));
    });
}

/** Multi-document YAML, one Secret each, saying who mounts it. */
function secretsYaml(secrets: readonly ClusterBusSecret[], namespace: string): string {
  const documents = secrets.map((secret) => {
    const document = new Document({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: secret.name,
        namespace,
        labels: { 'app.kubernetes.io/part-of': 'castellan', 'app.kubernetes.io/component': 'nats' },
      },
      type: 'Opaque',
      data: Object.fromEntries(
        Object.entries(secret.data).map(([key, text]) => [key, Buffer.from(text).toString('base64')]),
      ),
    });
    document.commentBefore = ` Mounted by ${secret.mountedBy}.`;
    return document.toString({ lineWidth: 0 });
  });
  const header =
    '# Castellan NATS bus Secrets (castellan bus-secrets). They hold private keys: apply them, never\n' +
    '# commit them. Each run makes new ones: applying them rotates the whole bus.\n';
  return `${header}${documents.join('---\n')}`;
}
