// Reading one model artifact (models/<kind>/<version>/) into a model the core scores with:
// files from the model store, configs and model files parsed and validated by the core.
// Every failure is a ModelFileError naming the folder or file (a user error: exit 2 at start).
import { type ModelKind, readArtifact } from '../adapters/files/model-store.js';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec, parseFeatureSpec } from '../core/features/spec.js';
import { churnConfigSchema, ltvConfigSchema, parseConfig, referenceSchema } from '../core/models/artifacts.js';
import { parseGammaGlm } from '../core/models/glm/model.js';
import { parseLightGbmModel } from '../core/models/lightgbm/parse.js';
import { type ChurnModel, type LtvModel, prepareChurnModel, prepareLtvModel } from '../core/models/scoring.js';
import { baseVersion } from '../core/monitoring/recalibration.js';
import { UserError } from './user-error.js';

/** A model artifact that cannot be used; the message names the folder or file. */
export class ModelFileError extends UserError {
  override readonly name = 'ModelFileError';
}

/** Loads one artifact; any failure becomes a ModelFileError naming its folder. */
export function loading<T>(root: string, kind: ModelKind, version: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const where = `${root}/${kind}/${version}`;
    // No `cause`: the message carries it already (a logged cause would repeat it).
    throw new ModelFileError(message.includes(where) ? message : `${where}: ${message}`);
  }
}

/** The shipped feature spec, or the default one when the artifact ships none. */
const specOf = (document: unknown): FeatureSpec =>
  document === null ? DEFAULT_FEATURE_SPEC : parseFeatureSpec(document);

/** Parses a model file; a failure names the file. */
function inFile<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ModelFileError(`${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function loadChurnModel(root: string, version: string): ChurnModel {
  // The stream serves a recalibrated version as <version>+cal<revision>: a folder named so would
  // share that name (its labels, its pairs, its risk changes) with another scoring function.
  if (baseVersion(version) !== version)
    throw new ModelFileError(
      `${root}/churn/${version}: a version name ending in +cal<number> is reserved for the stream's recalibrations; rename the folder (and the version in its config.json)`,
    );
  const files = readArtifact(root, 'churn', version);
  const config = parseConfig(churnConfigSchema, files.config, `${files.dir}/config.json`);
  if (config.version !== version) throw new Error(`${files.dir}: config.json says version ${config.version}`);
  const reference =
    files.reference === null ? null : parseConfig(referenceSchema, files.reference, `${files.dir}/reference.json`);
  return prepareChurnModel(
    config,
    inFile(files.modelPath, () => parseLightGbmModel(files.modelText)),
    specOf(files.featureSpec),
    files.dir,
    reference,
  );
}

export function loadLtvModel(root: string, version: string): LtvModel {
  const files = readArtifact(root, 'ltv', version);
  const config = parseConfig(ltvConfigSchema, files.config, `${files.dir}/config.json`);
  if (config.version !== version) throw new Error(`${files.dir}: config.json says version ${config.version}`);
  const glm = inFile(files.modelPath, () => parseGammaGlm(JSON.parse(files.modelText)));
  return prepareLtvModel(config, glm, specOf(files.featureSpec), files.dir);
}
