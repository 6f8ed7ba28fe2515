// Model runtime benchmark: µs per row for prediction and for TreeSHAP contributions
// with our TypeScript LightGBM runtime, side by side in one run with LightGBM's own
// fastest single-row path (C API SingleRowFast, one thread) on the same 400-tree model
// and the same rows. Also re-checks that raw scores are bit-identical.
//
//   npx tsx bench/model-runtime.ts [--write]     (needs training/.venv, see training/requirements.txt)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predict, predictRaw } from '../src/core/models/lightgbm/evaluate.js';
import { parseLightGbmModel, parseNumber } from '../src/core/models/lightgbm/parse.js';
import { createShapExplainer } from '../src/core/models/lightgbm/shap.js';
import { benchArgs } from './args.js';
import { machineSummary } from './machine.js';

const args = benchArgs({ write: { type: 'boolean', default: false } }, 'npx tsx bench/model-runtime.ts [--write]');

const python = 'training/.venv/bin/python';
const dir = mkdtempSync(join(tmpdir(), 'lgb-bench-'));
const reference = JSON.parse(execFileSync(python, ['bench/lightgbm_reference.py', dir], { encoding: 'utf8' })) as {
  lightgbm_version: string;
  trees: number;
  rows: number;
  single_row_fast_predict_us: number;
  single_row_fast_contrib_us: number;
  python_predict_one_row_us: number;
};
const parseStart = performance.now();
const model = parseLightGbmModel(readFileSync(join(dir, 'model.txt'), 'utf8'));
const parseMs = performance.now() - parseStart;
const rows = readFileSync(join(dir, 'rows.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => Float64Array.from(line.split(','), (field) => parseNumber(field, 'row')));

/** A numpy .npy float64 array's values (C order). */
function readNpy(file: string): Float64Array {
  const npy = readFileSync(join(dir, file));
  const headerLength = npy.readUInt16LE(8) + 10;
  return new Float64Array(npy.buffer.slice(npy.byteOffset + headerLength, npy.byteOffset + npy.length));
}

// Parity on the benchmark rows: raw scores bit for bit, contributions within 1e-12.
const expectedRaw = readNpy('raw.npy');
const mismatches = rows.filter((row, i) => !Object.is(predictRaw(model, row)[0], expectedRaw[i])).length;
const expectedContrib = readNpy('contrib.npy');
const checkExplainer = createShapExplainer(model);
let worstContribError = 0;
rows.forEach((row, i) => {
  checkExplainer.contributions(row).forEach((value, j) => {
    const want = expectedContrib[i * checkExplainer.width + j] ?? Number.NaN;
    worstContribError = Math.max(worstContribError, Math.abs(value - want));
  });
});

/** µs per row of the best pass, and of the median pass (the spread on a noisy machine). */
function perRow(repeats: number, run: (row: Float64Array) => void): { best: number; median: number } {
  const passes: number[] = [];
  for (let r = 0; r < repeats; r += 1) {
    const start = performance.now();
    for (const row of rows) run(row);
    passes.push(((performance.now() - start) * 1000) / rows.length);
  }
  passes.sort((a, b) => a - b);
  return { best: passes[0] ?? Number.NaN, median: passes[Math.floor(passes.length / 2)] ?? Number.NaN };
}

const out = new Float64Array(1);
let sink = 0;
const predictUs = perRow(15, (row) => {
  sink += predict(model, row, out)[0] ?? 0;
});
// The computation itself: the routing memo off (the passes repeat the rows).
const explainer = createShapExplainer(model, { memoEntries: 0 });
const phi = new Float64Array(explainer.width);
const contribUs = perRow(5, (row) => {
  sink += explainer.contributions(row, phi)[0] ?? 0;
});
// What the memo costs when it never helps (room for one routing: every row misses) and
// what a reuse costs (the same row again and again).
const missing = createShapExplainer(model, { memoEntries: 1 });
const missUs = perRow(5, (row) => {
  sink += missing.contributions(row, phi)[0] ?? 0;
});
const reusing = createShapExplainer(model);
const hitUs = perRow(5, () => {
  sink += reusing.contributions(rows[0] as Float64Array, phi)[0] ?? 0;
});
if (sink === Number.MIN_VALUE) console.log(sink);

const report = `# Model runtime benchmark

Command: \`npx tsx bench/model-runtime.ts --write\` (Python side: \`bench/lightgbm_reference.py\`, run by it).

Binary LightGBM model, ${reference.trees} trees x 31 leaves, 6 features (NaNs, zeros, a categorical),
trained by LightGBM ${reference.lightgbm_version}; ${rows.length} rows, best of 15 (prediction) or 5 (contributions)
passes, one thread each, same machine, same run.

| | churnstream (TypeScript) | LightGBM C API SingleRowFast | ratio (ours / LightGBM) |
|---|---|---|---|
| prediction, µs/row | ${predictUs.best.toFixed(2)} | ${reference.single_row_fast_predict_us.toFixed(2)} | ${(predictUs.best / reference.single_row_fast_predict_us).toFixed(2)} |
| contributions (TreeSHAP), µs/row | ${contribUs.best.toFixed(1)} | ${reference.single_row_fast_contrib_us.toFixed(1)} | ${(contribUs.best / reference.single_row_fast_contrib_us).toFixed(2)} |

Median pass (ours): prediction ${predictUs.median.toFixed(2)} µs, contributions ${contribUs.median.toFixed(1)} µs.
Contributions are timed with the routing memo off (src/core/models/lightgbm/routing-memo.ts; the passes repeat
the rows). With it on: a row whose routing was not seen recently costs ${missUs.best.toFixed(1)} µs
(${(missUs.best / contribUs.best).toFixed(2)}x the computation: keying the routing and keeping the result); a row
whose routing was seen costs ${hitUs.best.toFixed(1)} µs (${(missing.memo?.misses ?? 0) > 0 ? 'routing plus lookup' : 'unexpected: no misses counted'}).
Largest difference from LightGBM's \`pred_contrib\` over all rows and columns: ${worstContribError.toExponential(2)}.

For reference, LightGBM's Python \`Booster.predict\` on one row costs ${reference.python_predict_one_row_us.toFixed(1)} µs.
Parsing the model text took ${parseMs.toFixed(1)} ms. Raw scores differing from LightGBM's on these rows: ${mismatches} of ${rows.length}.

Machine:
\`\`\`
${machineSummary()}
\`\`\`
`;
console.log(report);
if (args.write) writeFileSync(new URL('./results/model-runtime.md', import.meta.url), report);
