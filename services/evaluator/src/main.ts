import { runService } from '@castellan/service-host';
import { buildEvaluator } from './app.js';
import { loadEvaluatorConfig } from './config.js';

await runService({
  name: 'evaluator',
  loadConfig: (env) => loadEvaluatorConfig(env),
  busIdentity: (config) => ({ role: 'evaluator', pool: config.pool }),
  async start({ nc, config, logger }) {
    const evaluator = buildEvaluator({ nc, config, logger });
    await evaluator.ready;
    return evaluator;
  },
});
