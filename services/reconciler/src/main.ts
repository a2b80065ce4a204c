import { KubeConfig } from '@kubernetes/client-node';
import { runService } from '@castellan/service-host';
import { buildReconciler } from './app.js';
import { loadReconcilerConfig } from './config.js';

await runService({
  name: 'reconciler',
  loadConfig: (env) => loadReconcilerConfig(env),
  busIdentity: () => ({ role: 'control' }),
  async start({ nc, config, logger }) {
    // In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    const reconciler = buildReconciler({
      nc,
      kubeConfig,
      config,
      logger,
      onLeadershipLost: () => process.exit(1),
    });
    await reconciler.ready;
    return reconciler;
  },
});
