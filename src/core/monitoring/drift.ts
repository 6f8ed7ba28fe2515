// Drift of the features and the score against the training reference, over a sliding
// window of the most recent scorings: each feature's value is binned on the reference's
// fixed edges when it arrives, a ring buffer remembers the bins of the last `window`
// scorings, and the PSI is computed from the window's counts on demand.
import { binOf, psi, type ReferenceDistribution } from './psi.js';

export interface DriftReference {
  readonly features: Readonly<Record<string, ReferenceDistribution>>;
  readonly score: ReferenceDistribution;
}

interface Tracked {
  readonly name: string;
  readonly index: number;
  readonly reference: ReferenceDistribution;
  readonly bins: Uint8Array;
  readonly counts: number[];
}

export class DriftMonitor {
  private readonly tracked: Tracked[];
  private readonly score: Tracked;
  private readonly window: number;
  private next = 0;
  private filled = 0;

  /** `featureNames` gives the vector order; features without a reference are not tracked. */
  constructor(reference: DriftReference, featureNames: readonly string[], window = 10_000) {
    this.window = window;
    const track = (name: string, index: number, ref: ReferenceDistribution): Tracked => ({
      name,
      index,
      reference: ref,
      bins: new Uint8Array(window),
      counts: new Array(ref.edges.length + 2).fill(0),
    });
    this.tracked = featureNames.flatMap((name, index) => {
      const ref = reference.features[name];
      return ref === undefined ? [] : [track(name, index, ref)];
    });
    this.score = track('score', -1, reference.score);
  }

  add(features: ArrayLike<number>, score: number): void {
    // Runs for every scoring: no per-call arrays.
    for (const t of this.tracked) this.count(t, features[t.index] ?? Number.NaN);
    this.count(this.score, score);
    this.next = (this.next + 1) % this.window;
    this.filled = Math.min(this.filled + 1, this.window);
  }

  /** Moves the current slot of one tracked value to `value`'s bin. */
  private count(t: Tracked, value: number): void {
    const slot = this.next;
    if (this.filled === this.window) {
      const old = t.bins[slot] ?? 0;
      t.counts[old] = (t.counts[old] ?? 0) - 1;
    }
    const bin = binOf(t.reference.edges, value);
    t.bins[slot] = bin;
    t.counts[bin] = (t.counts[bin] ?? 0) + 1;
  }

  get size(): number {
    return this.filled;
  }

  featurePsi(): { feature: string; psi: number }[] {
    return this.tracked.map((t) => ({ feature: t.name, psi: psi(t.reference, t.counts) }));
  }

  scorePsi(): number {
    return psi(this.score.reference, this.score.counts);
  }
}
