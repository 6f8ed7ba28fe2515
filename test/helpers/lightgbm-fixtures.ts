// Reads the golden fixtures written by training/golden/make_lightgbm_fixtures.py.
import { readdirSync, readFileSync } from 'node:fs';
import { parseNumber } from '../../src/core/models/lightgbm/parse.js';

export const FIXTURE_DIR = new URL('../fixtures/lightgbm/', import.meta.url);

export interface GoldenCase {
  readonly name: string;
  readonly modelText: string;
  readonly modelPath: string;
  readonly rowsPath: string;
  readonly header: readonly string[];
  readonly rows: readonly Float64Array[];
  readonly raw: readonly number[][];
  readonly prediction: readonly number[][];
  readonly contrib: readonly number[][] | undefined;
}

const numberOf = (value: unknown): number =>
  typeof value === 'number' ? value : parseNumber(String(value), 'expected');
const asRows = (value: unknown): number[][] =>
  (value as unknown[]).map((row) => (Array.isArray(row) ? row.map(numberOf) : [numberOf(row)]));

export function goldenCases(): GoldenCase[] {
  return readdirSync(FIXTURE_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = new URL(`${entry.name}/`, FIXTURE_DIR);
      const [headerLine = '', ...lines] = readFileSync(new URL('rows.csv', dir), 'utf8').trim().split('\n');
      const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, unknown>;
      return {
        name: entry.name,
        modelText: readFileSync(new URL('model.txt', dir), 'utf8'),
        modelPath: new URL('model.txt', dir).pathname,
        rowsPath: new URL('rows.csv', dir).pathname,
        header: headerLine.split(','),
        rows: lines.map((line) =>
          Float64Array.from(line.split(','), (field) => (field === '' ? Number.NaN : parseNumber(field, 'row'))),
        ),
        raw: asRows(expected['raw']),
        prediction: asRows(expected['prediction']),
        contrib: expected['contrib'] === undefined ? undefined : asRows(expected['contrib']),
      };
    });
}
