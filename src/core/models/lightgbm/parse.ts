// Parser for LightGBM's text model format: text in, validated typed model out, or an
// error naming the line and the problem. Never a half-built model.
import type { LightGbmModel, LinearLeaves, OutputTransform, Tree } from './model.js';

export class ModelParseError extends Error {
  override readonly name = 'ModelParseError';
}

/** LightGBM writes doubles with %.17g, plus the tokens inf, -inf and nan (which JS's Number() rejects). */
export function parseNumber(token: string, where: string): number {
  switch (token.toLowerCase()) {
    case 'inf':
    case '+inf':
    case 'infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    case 'nan':
    case '-nan':
      return Number.NaN;
  }
  const value = Number(token);
  if (token === '' || Number.isNaN(value)) throw new ModelParseError(`${where}: '${token}' is not a number`);
  return value;
}

const tokens = (text: string | undefined): string[] =>
  (text ?? '')
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);

function numbers(fields: Map<string, string>, key: string, length: number, where: string): Float64Array {
  const list = tokens(fields.get(key));
  if (list.length !== length) {
    throw new ModelParseError(`${where}: ${key} has ${list.length} values, expected ${length}`);
  }
  return Float64Array.from(list, (token) => parseNumber(token, `${where} ${key}`));
}

function integers(fields: Map<string, string>, key: string, length: number, where: string): Int32Array {
  const values = numbers(fields, key, length, where);
  if (values.some((v) => !Number.isInteger(v))) throw new ModelParseError(`${where}: ${key} must hold integers`);
  return Int32Array.from(values);
}

/** Output transform from the objective line, as LightGBM's objectives convert outputs. */
export function outputTransform(objective: string): OutputTransform {
  const [name = '', ...options] = tokens(objective);
  const option = (key: string, fallback: number): number => {
    const found = options.find((o) => o.startsWith(`${key}:`));
    return found === undefined ? fallback : parseNumber(found.slice(key.length + 1), `objective ${key}`);
  };
  switch (name) {
    case '':
      return { kind: 'identity' }; // custom objective: LightGBM predicts raw scores
    case 'binary':
      return { kind: 'sigmoid', sigmoid: option('sigmoid', 1) };
    case 'multiclass':
    case 'softmax':
      return { kind: 'softmax' };
    case 'multiclassova':
    case 'multiclass_ova':
    case 'ova':
    case 'ovr':
      return { kind: 'sigmoid_per_class', sigmoid: option('sigmoid', 1) };
    case 'cross_entropy':
    case 'xentropy':
      return { kind: 'sigmoid', sigmoid: 1 };
    case 'cross_entropy_lambda':
    case 'xentlambda':
      return { kind: 'log1p_exp' };
    case 'poisson':
    case 'gamma':
    case 'tweedie':
      return { kind: 'exp' };
    case 'regression':
    case 'regression_l2':
    case 'l2':
    case 'mean_squared_error':
    case 'mse':
    case 'regression_l1':
    case 'l1':
    case 'mean_absolute_error':
    case 'mae':
    case 'huber':
    case 'fair':
    case 'quantile':
    case 'mape':
    case 'mean_absolute_percentage_error':
      return options.includes('sqrt') ? { kind: 'signed_square' } : { kind: 'identity' };
    case 'lambdarank':
    case 'rank_xendcg':
      return { kind: 'identity' };
    default:
      throw new ModelParseError(`objective '${name}' is not supported`);
  }
}

function treeDepth(left: Int32Array, right: Int32Array, numLeaves: number): number {
  if (numLeaves <= 1) return 0;
  let deepest = 0;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() ?? [0, 0];
    for (const child of [left[node] ?? -1, right[node] ?? -1]) {
      if (child < 0) deepest = Math.max(deepest, depth + 1);
      else stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

function parseLinear(fields: Map<string, string>, numLeaves: number, where: string): LinearLeaves {
  const leafConst = numbers(fields, 'leaf_const', numLeaves, where);
  const counts = integers(fields, 'num_features', numLeaves, where);
  const total = counts.reduce((sum, c) => sum + c, 0);
  const features = integers(fields, 'leaf_features', total, where);
  const coeffs = numbers(fields, 'leaf_coeff', total, where);
  const leafFeatures: Int32Array[] = [];
  const leafCoeff: Float64Array[] = [];
  let offset = 0;
  for (const count of counts) {
    leafFeatures.push(features.slice(offset, offset + count));
    leafCoeff.push(coeffs.slice(offset, offset + count));
    offset += count;
  }
  return { leafConst, leafFeatures, leafCoeff };
}

function parseTree(block: string, index: number, numFeatures: number): Tree {
  const where = `Tree=${index}`;
  const fields = new Map<string, string>();
  for (const line of block.split('\n').slice(1)) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  const numLeaves = Number(fields.get('num_leaves'));
  if (!Number.isInteger(numLeaves) || numLeaves < 1) throw new ModelParseError(`${where}: bad num_leaves`);
  const numCat = Number(fields.get('num_cat') ?? '0');
  const inner = numLeaves - 1;
  const splitFeature = integers(fields, 'split_feature', inner, where);
  const threshold = numbers(fields, 'threshold', inner, where);
  const decisionType = Uint8Array.from(integers(fields, 'decision_type', inner, where));
  const leftChild = integers(fields, 'left_child', inner, where);
  const rightChild = integers(fields, 'right_child', inner, where);
  const leafValue = numbers(fields, 'leaf_value', numLeaves, where);
  const leafCount = fields.has('leaf_count')
    ? numbers(fields, 'leaf_count', numLeaves, where)
    : new Float64Array(numLeaves);
  const internalCount = fields.has('internal_count')
    ? numbers(fields, 'internal_count', inner, where)
    : new Float64Array(inner);
  // A non-finite leaf makes every row routed to it score NaN or ±1 (a broken export, not a model).
  leafValue.forEach((value, leaf) => {
    if (!Number.isFinite(value)) throw new ModelParseError(`${where}: leaf_value of leaf ${leaf} is ${value}`);
  });
  for (const f of splitFeature) {
    if (f < 0 || f >= numFeatures)
      throw new ModelParseError(`${where}: split on feature ${f} outside 0..${numFeatures - 1}`);
  }
  for (const child of [...leftChild, ...rightChild]) {
    if (child >= inner || ~child >= numLeaves) throw new ModelParseError(`${where}: child ${child} out of range`);
  }
  let catBoundaries: Int32Array = new Int32Array(0);
  let catThreshold: Uint32Array = new Uint32Array(0);
  if (numCat > 0) {
    catBoundaries = integers(fields, 'cat_boundaries', numCat + 1, where);
    const words = catBoundaries[numCat] ?? 0;
    catThreshold = Uint32Array.from(numbers(fields, 'cat_threshold', words, where));
  }
  const linear = fields.get('is_linear')?.trim() === '1' ? parseLinear(fields, numLeaves, where) : null;
  return {
    numLeaves,
    splitFeature,
    threshold,
    decisionType,
    leftChild,
    rightChild,
    leafValue,
    leafCount,
    internalCount,
    catBoundaries,
    catThreshold,
    linear,
    maxDepth: treeDepth(leftChild, rightChild, numLeaves),
  };
}

export function parseLightGbmModel(text: string): LightGbmModel {
  const normalized = text.replace(/\r\n/g, '\n');
  const firstTree = normalized.indexOf('\nTree=');
  if (firstTree < 0) throw new ModelParseError('no Tree= block: not a LightGBM text model');
  const header = new Map<string, string>();
  const flags = new Set<string>();
  for (const line of normalized.slice(0, firstTree).split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) flags.add(trimmed);
    else header.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const version = header.get('version') ?? '';
  if (!/^v[234]$/.test(version))
    throw new ModelParseError(`model version '${version}' is not supported (v2, v3, v4 are)`);
  const required = (key: string): number => {
    const value = Number(header.get(key));
    if (!Number.isInteger(value)) throw new ModelParseError(`header ${key} is missing or not an integer`);
    return value;
  };
  const numClass = required('num_class');
  const numTreePerIteration = header.has('num_tree_per_iteration') ? required('num_tree_per_iteration') : numClass;
  const numFeatures = required('max_feature_idx') + 1;
  const featureNames = tokens(header.get('feature_names'));
  if (featureNames.length !== numFeatures) {
    throw new ModelParseError(`feature_names has ${featureNames.length} names, max_feature_idx says ${numFeatures}`);
  }
  const objective = header.get('objective') ?? '';
  const transform = outputTransform(objective);
  if ((transform.kind === 'softmax' || transform.kind === 'sigmoid_per_class') !== numClass > 1) {
    throw new ModelParseError(`objective '${objective}' does not fit num_class=${numClass}`);
  }
  if (numClass > 1 && numTreePerIteration !== numClass) {
    throw new ModelParseError(`num_tree_per_iteration=${numTreePerIteration} differs from num_class=${numClass}`);
  }
  const endOfTrees = normalized.indexOf('\nend of trees');
  const body = normalized.slice(firstTree + 1, endOfTrees < 0 ? undefined : endOfTrees);
  const blocks = body.split(/\n(?=Tree=)/).filter((block) => block.startsWith('Tree='));
  const trees = blocks.map((block, index) => parseTree(block, index, numFeatures));
  if (trees.length === 0 || trees.length % numTreePerIteration !== 0) {
    throw new ModelParseError(
      `${trees.length} trees is not a multiple of num_tree_per_iteration=${numTreePerIteration}`,
    );
  }
  const sizes = tokens(header.get('tree_sizes'));
  if (sizes.length > 0 && sizes.length !== trees.length) {
    throw new ModelParseError(`tree_sizes lists ${sizes.length} trees, file has ${trees.length}: truncated?`);
  }
  return {
    version,
    numClass,
    numTreePerIteration,
    numFeatures,
    featureNames,
    objective,
    transform,
    averageOutput: flags.has('average_output'),
    trees,
  };
}
