// The models the service scores with, swappable at runtime. A new version is read,
// parsed and validated completely before it replaces the active one; if anything is
// wrong the active model stays and the error says why. No model = rules fallback.
import { listVersions, type ModelKind, readArtifact } from '../adapters/files/model-store.js';
import { churnConfigSchema, ltvConfigSchema, parseConfig } from '../core/models/artifacts.js';
import { parseGammaGlm } from '../core/models/glm/model.js';
import { parseLightGbmModel } from '../core/models/lightgbm/parse.js';
import { type ChurnModel, type LtvModel, prepareChurnModel, prepareLtvModel } from '../core/models/scoring.js';

export interface ActiveModels {
  readonly churn: ChurnModel | null;
  readonly ltv: LtvModel | null;
}

export function loadChurnModel(root: string, version: string): ChurnModel {
  const files = readArtifact(root, 'churn', version);
  const config = parseConfig(churnConfigSchema, files.config, `${files.dir}/config.json`);
  if (config.version !== version) throw new Error(`${files.dir}: config.json says version ${config.version}`);
  return prepareChurnModel(config, parseLightGbmModel(files.modelText), files.dir);
}

export function loadLtvModel(root: string, version: string): LtvModel {
  const files = readArtifact(root, 'ltv', version);
  const config = parseConfig(ltvConfigSchema, files.config, `${files.dir}/config.json`);
  if (config.version !== version) throw new Error(`${files.dir}: config.json says version ${config.version}`);
  return prepareLtvModel(config, parseGammaGlm(JSON.parse(files.modelText)), files.dir);
}

export class ModelRegistry {
  private active: ActiveModels = { churn: null, ltv: null };
  private readonly listeners = new Set<(models: ActiveModels) => void>();

  private readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  get current(): ActiveModels {
    return this.active;
  }

  versions(kind: ModelKind): string[] {
    return listVersions(this.root, kind);
  }

  /** Loads the given versions, or the newest of each kind; a kind with none stays on rules. */
  loadDefaults(wanted: { churn?: string | undefined; ltv?: string | undefined } = {}): ActiveModels {
    const churnVersion = wanted.churn ?? this.versions('churn').at(-1);
    const ltvVersion = wanted.ltv ?? this.versions('ltv').at(-1);
    const churn = churnVersion === undefined ? null : loadChurnModel(this.root, churnVersion);
    const ltv = ltvVersion === undefined ? null : loadLtvModel(this.root, ltvVersion);
    return this.swap({ churn, ltv });
  }

  /** Activates another version of one kind; throws (keeping the active one) if it is unusable. */
  activate(kind: ModelKind, version: string): ActiveModels {
    if (kind === 'churn') return this.swap({ ...this.active, churn: loadChurnModel(this.root, version) });
    return this.swap({ ...this.active, ltv: loadLtvModel(this.root, version) });
  }

  /** Called after every swap (e.g. to rescore with trigger model_change, or update metrics). */
  onChange(listener: (models: ActiveModels) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private swap(next: ActiveModels): ActiveModels {
    this.active = next;
    for (const listener of this.listeners) listener(next);
    return next;
  }
}
