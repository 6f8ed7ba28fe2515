// `churnstream score --model <model.txt> --input <rows.csv> [--raw] [--contrib]`
// Scores a CSV of feature rows with a LightGBM text model, one output line per input
// row, no header. Columns are matched by name to the model's feature names (extra
// columns are ignored, a missing one is an error); an empty field is missing (NaN);
// inf, -inf and nan are accepted. Numbers are printed in JavaScript's shortest
// round-trip form (inf, -inf, nan for non-finite values). Output format is a contract
// other tools rely on: keep it stable.
import { createReadStream, readFileSync } from 'node:fs';
import { parse } from 'csv-parse';
import { predict, predictRaw } from '../../core/models/lightgbm/evaluate.js';
import { ModelParseError, parseLightGbmModel, parseNumber } from '../../core/models/lightgbm/parse.js';
import { createShapExplainer } from '../../core/models/lightgbm/shap.js';
import { UserError } from '../user-error.js';

export class ScoreInputError extends UserError {
  override readonly name = 'ScoreInputError';
}

export interface ScoreOptions {
  readonly model: string;
  readonly input: string;
  readonly raw: boolean;
  readonly contrib: boolean;
}

export const formatNumber = (value: number): string =>
  Number.isNaN(value)
    ? 'nan'
    : value === Number.POSITIVE_INFINITY
      ? 'inf'
      : value === Number.NEGATIVE_INFINITY
        ? '-inf'
        : String(value);

function parseField(field: string, row: number, column: string): number {
  const text = field.trim();
  if (text === '') return Number.NaN;
  try {
    return parseNumber(text, '');
  } catch {
    throw new ScoreInputError(`row ${row}, column ${column}: '${field}' is not a number`);
  }
}

/** A model file that cannot be read or parsed is the user's to fix: the error names the file. */
function readModel(path: string) {
  try {
    return parseLightGbmModel(readFileSync(path, 'utf8'));
  } catch (error) {
    if (error instanceof ModelParseError || (error as NodeJS.ErrnoException).code !== undefined)
      throw new ScoreInputError(`${path}: ${(error as Error).message}`);
    throw error;
  }
}

/** Streams scores for every row to `write`; returns the number of rows scored. */
export async function scoreCsv(options: ScoreOptions, write: (line: string) => void): Promise<number> {
  if (options.raw && options.contrib) throw new ScoreInputError('--raw and --contrib are exclusive');
  const model = readModel(options.model);
  const explainer = options.contrib ? createShapExplainer(model) : undefined;
  const parser = createReadStream(options.input).pipe(parse({ trim: true, skip_empty_lines: true }));
  let columns: number[] | undefined;
  let header: string[] = [];
  let rows = 0;
  const x = new Float64Array(model.numFeatures);
  for await (const record of parser as AsyncIterable<string[]>) {
    if (columns === undefined) {
      header = record;
      const missing = model.featureNames.filter((name) => !record.includes(name));
      if (missing.length > 0) throw new ScoreInputError(`input lacks feature columns: ${missing.join(', ')}`);
      columns = model.featureNames.map((name) => record.indexOf(name));
      continue;
    }
    rows += 1;
    if (record.length !== header.length) {
      throw new ScoreInputError(`row ${rows} has ${record.length} fields, the header has ${header.length}`);
    }
    columns.forEach((column, feature) => {
      x[feature] = parseField(record[column] ?? '', rows, header[column] ?? String(column));
    });
    const out = explainer ? explainer.contributions(x) : options.raw ? predictRaw(model, x) : predict(model, x);
    write(Array.from(out, formatNumber).join(','));
  }
  if (columns === undefined) throw new ScoreInputError('input is empty: a header row of feature names is required');
  return rows;
}
