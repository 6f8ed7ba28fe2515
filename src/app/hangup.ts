// SIGHUP: re-read the API's tokens and certificate, and reload the models in force. Once a
// rollout in Redis names the versions, the reload loads the same ones again; the log says so,
// since an operator who copied a newer folder and sent SIGHUP expects it to go out.
import type { Logger } from './logger.js';
import type { ModelRegistry } from './model-registry.js';
import { modelsLabel } from './model-reload.js';
import type { createRolloutWiring } from './rollout-wiring.js';

export function hangupHandler(deps: {
  readonly reloadListeners: () => void;
  readonly rolloutWiring: Pick<ReturnType<typeof createRolloutWiring>, 'reloadModels' | 'applied'>;
  readonly models: ModelRegistry;
  readonly log: Logger;
}): () => void {
  const { rolloutWiring, models, log } = deps;
  return () => {
    deps.reloadListeners();
    rolloutWiring.reloadModels().then(
      () => {
        const revision = rolloutWiring.applied();
        if (revision !== null)
          log.info(
            { revision, models: modelsLabel(models) },
            'SIGHUP: the rollout in Redis names the versions, so the same ones were reloaded; a new version goes out with churnstream models challenger, then promote',
          );
      },
      (error: unknown) => log.error({ err: error }, 'model reload failed; keeping the active models'),
    );
  };
}
