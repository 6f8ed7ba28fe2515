// The models the service scores with, swappable at runtime. A new version is read,
// parsed and validated completely before it replaces the active one; if anything is
// wrong the active model stays and the error says why. No model = rules fallback.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { foldersWithoutConfig, listVersions, type ModelKind } from '../adapters/files/model-store.js';
import { RULES_VERSION } from '../core/decisions/rules.js';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec } from '../core/features/spec.js';
import type { ChurnModel, LtvModel } from '../core/models/scoring.js';
import { recalibrated } from '../core/monitoring/recalibrated-model.js';
import type { StreamCalibration } from '../core/monitoring/recalibration.js';
import type { ChallengerModels } from '../core/step/shadow.js';
import type { Logger } from './logger.js';
import { loadChurnModel, loading, loadLtvModel, ModelFileError } from './model-artifacts.js';

export interface ActiveModels {
  readonly churn: ChurnModel | null;
  readonly ltv: LtvModel | null;
  /** The challenger scored beside the champion (shadow or A/B), or none. */
  readonly challenger?: ChallengerModels | null;
}

/** The versions in force, the rules fallback named as such. */
export const versionsOf = (models: ActiveModels | ChallengerModels): { churn: string; ltv: string } => ({
  churn: models.churn?.config.version ?? RULES_VERSION,
  ltv: models.ltv?.config.version ?? RULES_VERSION,
});

/** The versions wanted: each unset kind is the newest; `challenger` names the challenger's (unset kind: the champion's). */
export interface WantedVersions {
  readonly churn?: string | undefined;
  readonly ltv?: string | undefined;
  readonly challenger?: { readonly churn?: string | undefined; readonly ltv?: string | undefined } | null;
  /** Recalibrations from the stream (the rollout's), by churn version: applied whatever its role. */
  readonly calibrations?: Readonly<Record<string, StreamCalibration>> | undefined;
}

/** The model with the stream's recalibration of its version on top, if there is one. */
const withCalibration = (model: ChurnModel | null, calibrations: WantedVersions['calibrations']): ChurnModel | null => {
  const calibration = model === null ? undefined : calibrations?.[model.config.version];
  return model === null || calibration === undefined ? model : recalibrated(model, calibration);
};

/** The feature spec to compute features with for these models. */
export const activeSpec = (models: ActiveModels): FeatureSpec =>
  models.churn?.spec ?? models.ltv?.spec ?? DEFAULT_FEATURE_SPEC;

export class ModelRegistry {
  private active: ActiveModels = { churn: null, ltv: null };
  private readonly listeners = new Set<(models: ActiveModels) => void>();

  private readonly root: string;
  private readonly log: Pick<Logger, 'warn'> | null;

  /**
   * A models directory that does not exist is a configuration error, not "no models".
   * `log` is told what loads but deserves a look (WARN): see loadDefaults.
   */
  constructor(root: string, log: Pick<Logger, 'warn'> | null = null) {
    if (!existsSync(root)) throw new ModelFileError(`models directory ${root} does not exist (CHURNSTREAM_MODELS_DIR)`);
    this.root = root;
    this.log = log;
  }

  get current(): ActiveModels {
    return this.active;
  }

  versions(kind: ModelKind): string[] {
    return listVersions(this.root, kind);
  }

  /**
   * Loads the given versions, or the newest of each kind; a kind with none stays on rules.
   * WARNs (neither stops the load): a version folder without config.json, which is no
   * version and is skipped (an empty folder, or a copy not finished: the newest complete
   * version wins instead); a churn model without reference.json, which scores but gets no
   * drift (PSI) series.
   */
  loadDefaults(wanted: WantedVersions = {}): ActiveModels {
    for (const kind of ['churn', 'ltv'] as const)
      for (const folder of foldersWithoutConfig(this.root, kind))
        this.log?.warn({ folder }, `model folder ${folder} has no config.json: skipped, it is no ${kind} version`);
    const churnVersion = wanted.churn ?? this.versions('churn').at(-1);
    const ltvVersion = wanted.ltv ?? this.versions('ltv').at(-1);
    const churn = withCalibration(
      churnVersion === undefined
        ? null
        : loading(this.root, 'churn', churnVersion, () => loadChurnModel(this.root, churnVersion)),
      wanted.calibrations,
    );
    const ltv =
      ltvVersion === undefined
        ? null
        : loading(this.root, 'ltv', ltvVersion, () => loadLtvModel(this.root, ltvVersion));
    // The champion against itself compares and shadows nothing; with an unpinned champion (the
    // newest) a challenger named after it is only found here. (An LTV version equal to the
    // champion's is the champion's model, as a promotion leaves it: no LTV challenger.)
    if (churnVersion !== undefined && wanted.challenger?.churn === churnVersion)
      throw new ModelFileError(
        `challenger (CHURNSTREAM_CHALLENGER_CHURN_MODEL / CHURNSTREAM_CHALLENGER_LTV_MODEL or the rollout): ${churnVersion} is the champion's churn version${wanted.churn === undefined ? ' (the newest in the models directory)' : ''}; a challenger is another version`,
      );
    const challenger =
      wanted.challenger == null ? null : this.loadChallenger(wanted.challenger, churn, ltv, wanted.calibrations);
    const next = this.swap({ churn, ltv, challenger });
    if (churn !== null && churn.reference === null) {
      const file = join(this.root, 'churn', churn.config.version, 'reference.json');
      this.log?.warn({ file }, `churn model ${churn.config.version} has no ${file}: no drift (PSI) series for it`);
    }
    return next;
  }

  /**
   * The challenger's models; a kind not named is the champion's. A challenger must read the
   * features the champion reads and resolve labels over the same windows, else the two
   * could not be compared on the same labels (and one feature vector could not serve both).
   */
  private loadChallenger(
    wanted: NonNullable<WantedVersions['challenger']>,
    churn: ChurnModel | null,
    ltv: LtvModel | null,
    calibrations: WantedVersions['calibrations'],
  ): ChallengerModels {
    try {
      const challenger = this.challengerOf(wanted, churn, ltv);
      return wanted.churn === undefined
        ? challenger
        : { ...challenger, churn: withCalibration(challenger.churn, calibrations) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // One line naming the settings (or the rollout, which overrides them) to change.
      // No `cause`: the message carries it already (a logged cause would repeat it).
      throw new ModelFileError(
        `challenger (CHURNSTREAM_CHALLENGER_CHURN_MODEL / CHURNSTREAM_CHALLENGER_LTV_MODEL or the rollout): ${message}`,
      );
    }
  }

  private challengerOf(
    wanted: NonNullable<WantedVersions['challenger']>,
    churn: ChurnModel | null,
    ltv: LtvModel | null,
  ): ChallengerModels {
    const { root } = this;
    const challenger = {
      churn:
        wanted.churn === undefined
          ? churn
          : loading(root, 'churn', wanted.churn, () => loadChurnModel(root, wanted.churn as string)),
      ltv:
        wanted.ltv === undefined
          ? ltv
          : loading(root, 'ltv', wanted.ltv, () => loadLtvModel(root, wanted.ltv as string)),
    };
    const spec = activeSpec({ churn, ltv });
    for (const model of [challenger.churn, challenger.ltv]) {
      if (model !== null && model.spec.version !== spec.version)
        throw new ModelFileError(
          `challenger ${model.config.kind} model ${model.config.version} uses feature spec ${model.spec.version}, the champion uses ${spec.version}`,
        );
      // One feature vector serves both: the same version name with other content is another spec.
      if (model !== null && !isDeepStrictEqual(model.spec, spec))
        throw new ModelFileError(
          `challenger ${model.config.kind} model ${model.config.version} ships a feature spec named ${spec.version} whose content differs from the champion's`,
        );
    }
    const window = (m: ChurnModel | null) => m?.config.prediction_window_days ?? 90;
    if (window(challenger.churn) !== window(churn))
      throw new ModelFileError(
        `challenger churn model ${challenger.churn?.config.version} predicts ${window(challenger.churn)} days, the champion ${window(churn)}: labels would not compare`,
      );
    const months = (m: LtvModel | null) => m?.config.window_months ?? 12;
    if (months(challenger.ltv) !== months(ltv))
      throw new ModelFileError(
        `challenger ltv model ${challenger.ltv?.config.version} predicts ${months(challenger.ltv)} months, the champion ${months(ltv)}: labels would not compare`,
      );
    return challenger;
  }

  /** Called after every swap (e.g. to rescore with trigger model_change, or update metrics). */
  onChange(listener: (models: ActiveModels) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private swap(next: ActiveModels): ActiveModels {
    // Both models must read the same features: one feature spec for the whole service.
    if (next.churn !== null && next.ltv !== null && next.churn.spec.version !== next.ltv.spec.version) {
      throw new ModelFileError(
        `churn model ${next.churn.config.version} uses feature spec ${next.churn.spec.version}, ltv model ${next.ltv.config.version} uses ${next.ltv.spec.version}`,
      );
    }
    this.active = next;
    for (const listener of this.listeners) listener(next);
    return next;
  }
}
