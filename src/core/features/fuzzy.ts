// Fuzzy memberships on one axis: a Ruspini partition (low + medium + high = 1)
// of piecewise-linear functions over breakpoints a <= b <= c. Missing stays missing.
import type { Breakpoints } from './spec.js';

/** Writes [low, medium, high] of x into out at offset. */
export function writeMemberships(x: number, breakpoints: Breakpoints, out: Float64Array, offset: number): void {
  // Indexed, not destructured: this runs 13 times per scoring, and destructuring an array
  // parameter allocated an iterator per call (a large share of the scorer's garbage).
  const a = breakpoints[0];
  const b = breakpoints[1];
  const c = breakpoints[2];
  if (Number.isNaN(x)) {
    out[offset] = Number.NaN;
    out[offset + 1] = Number.NaN;
    out[offset + 2] = Number.NaN;
    return;
  }
  let low = 0;
  let medium = 0;
  let high = 0;
  if (x <= a) low = 1;
  else if (x < b) {
    low = (b - x) / (b - a);
    medium = 1 - low;
  } else if (x === b) medium = 1;
  else if (x < c) {
    high = (x - b) / (c - b);
    medium = 1 - high;
  } else high = 1;
  // Degenerate breakpoints (a == b or b == c) fall through to steps above.
  out[offset] = low;
  out[offset + 1] = medium;
  out[offset + 2] = high;
}
