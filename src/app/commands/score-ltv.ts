// `churnstream score --ltv-model <models/ltv/v> --input <rows.csv>`: the LTV a model
// artifact gives each row of feature values, as `predicted_ltv,low,high` per line (the
// number form of `score`). The trainer checks its own predictions against this.
// Columns are matched by name; a model without a zero part (older artifacts) also needs
// a `churn_probability` column.
import { createReadStream } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parse } from 'csv-parse';
import { FEATURE_NAMES } from '../../core/features/names.js';
import { scoreLtv } from '../../core/models/scoring.js';
import { loadLtvModel } from '../model-artifacts.js';
import { formatNumber, ScoreInputError } from './score.js';

const CHURN = 'churn_probability';

function loadModel(dir: string) {
  try {
    return loadLtvModel(dirname(dirname(dir)), basename(dir));
  } catch (error) {
    throw new ScoreInputError(`${dir}: ${(error as Error).message}`);
  }
}

export async function scoreLtvCsv(options: { ltvModel: string; input: string }, write: (line: string) => void) {
  const model = loadModel(options.ltvModel.replace(/\/+$/, ''));
  const needsChurn = model.config.two_part && model.config.zero_model === undefined;
  const wanted = [...model.config.feature_names, ...(needsChurn ? [CHURN] : [])];
  const parser = createReadStream(options.input).pipe(parse({ trim: true, skip_empty_lines: true }));
  let columns: Map<string, number> | undefined;
  let rows = 0;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (columns === undefined) {
      const missing = wanted.filter((name) => !record.includes(name));
      if (missing.length > 0) throw new ScoreInputError(`input lacks columns: ${missing.join(', ')}`);
      columns = new Map(wanted.map((name) => [name, record.indexOf(name)]));
      continue;
    }
    rows += 1;
    const value = (name: string) => {
      const text = (record[columns?.get(name) ?? -1] ?? '').trim();
      const parsed = text === '' ? Number.NaN : Number(text);
      if (text !== '' && Number.isNaN(parsed) && text !== 'nan')
        throw new ScoreInputError(`row ${rows}, column ${name}: '${text}' is not a number`);
      return parsed;
    };
    const features = FEATURE_NAMES.map((name) => (columns?.has(name) ? value(name) : Number.NaN));
    const score = scoreLtv(model, features, needsChurn ? value(CHURN) : 0, 0);
    write([score.value, score.low, score.high].map(formatNumber).join(','));
  }
  if (columns === undefined) throw new ScoreInputError('input is empty: a header row of feature names is required');
  return rows;
}
