// A parsed LightGBM text model, held in flat typed arrays for fast evaluation.
// Field meanings follow LightGBM's text format (model.txt, versions v3 and v4).

/** How raw scores become predictions (LightGBM's ConvertOutput per objective). */
export type OutputTransform =
  | { readonly kind: 'identity' }
  | { readonly kind: 'sigmoid'; readonly sigmoid: number }
  | { readonly kind: 'softmax' }
  | { readonly kind: 'sigmoid_per_class'; readonly sigmoid: number }
  | { readonly kind: 'signed_square' }
  | { readonly kind: 'exp' }
  | { readonly kind: 'log1p_exp' };

export interface Tree {
  readonly numLeaves: number;
  readonly splitFeature: Int32Array;
  readonly threshold: Float64Array;
  readonly decisionType: Uint8Array;
  readonly leftChild: Int32Array;
  readonly rightChild: Int32Array;
  readonly leafValue: Float64Array;
  /** Training rows per leaf and per internal node: TreeSHAP's cover. */
  readonly leafCount: Float64Array;
  readonly internalCount: Float64Array;
  readonly catBoundaries: Int32Array;
  readonly catThreshold: Uint32Array;
  readonly linear: LinearLeaves | null;
  /** Longest root-to-leaf path (edges); sizes the TreeSHAP path buffer. */
  readonly maxDepth: number;
}

/** Linear trees: leaf output = const + sum(coeff * x[feature]), or leafValue if any x is NaN. */
export interface LinearLeaves {
  readonly leafConst: Float64Array;
  readonly leafFeatures: readonly Int32Array[];
  readonly leafCoeff: readonly Float64Array[];
}

export interface LightGbmModel {
  readonly version: string;
  readonly numClass: number;
  readonly numTreePerIteration: number;
  readonly numFeatures: number;
  readonly featureNames: readonly string[];
  /** The objective line as written (empty when the model has none: custom objective). */
  readonly objective: string;
  readonly transform: OutputTransform;
  /** Random forest: predictions average the trees instead of summing them. */
  readonly averageOutput: boolean;
  readonly trees: readonly Tree[];
}
