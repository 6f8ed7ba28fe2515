// Reads model artifacts from disk: models/<kind>/<version>/ with config.json, the
// model file it names, and optional metadata.json and reference.json. Parsing and
// validation are the core's; this module only finds and reads files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ModelKind = 'churn' | 'ltv';

export interface ArtifactFiles {
  readonly dir: string;
  readonly config: unknown;
  readonly modelText: string;
  /** Path of the model file (config.json's model_file), for messages. */
  readonly modelPath: string;
  readonly metadata: unknown;
  readonly reference: unknown;
  /** feature-spec.json: the fitted feature spec the model was trained with, when shipped. */
  readonly featureSpec: unknown;
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const optionalJson = (path: string): unknown => (existsSync(path) ? readJson(path) : null);

/** Versions present for a kind, newest last (natural order: v2 < v10). */
export function listVersions(root: string, kind: ModelKind): string[] {
  const dir = join(root, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'config.json')))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Folders of a kind that are no version because they hold no config.json (empty ones, say). */
export function foldersWithoutConfig(root: string, kind: ModelKind): string[] {
  const dir = join(root, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !existsSync(join(dir, entry.name, 'config.json')))
    .map((entry) => join(dir, entry.name))
    .sort();
}

export function readArtifact(root: string, kind: ModelKind, version: string): ArtifactFiles {
  const dir = join(root, kind, version);
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`no model artifact at ${dir} (config.json missing)`);
  const config = readJson(join(dir, 'config.json'));
  const modelFile = (config as { model_file?: unknown }).model_file;
  const name = typeof modelFile === 'string' ? modelFile : kind === 'churn' ? 'model.txt' : 'model.json';
  if (name.includes('/') || name.includes('..'))
    throw new Error(`${dir}: model_file must be a file name in the artifact folder`);
  return {
    dir,
    config,
    modelText: readFileSync(join(dir, name), 'utf8'),
    modelPath: join(dir, name),
    metadata: optionalJson(join(dir, 'metadata.json')),
    reference: optionalJson(join(dir, 'reference.json')),
    featureSpec: optionalJson(join(dir, 'feature-spec.json')),
  };
}
