// Remembers recent results keyed by a row's routing: the decision (left or right) at every
// internal node of the forest. Tree contributions depend on the row only through those
// decisions, so two rows that fall on the same side of every split share their
// contributions exactly, whatever their values. Streams repeat routings often: a
// customer's first order, say, leaves most features at the same defaults, so only the few
// that vary can move the row across a threshold.
//
// Bounded by two generations: entries go into the current map; when it is full it becomes
// the previous one (the one before is dropped), and a hit in the previous generation moves
// back into the current one. Recently used routings stay; the memory stays bounded.

/**
 * Decisions packed per key character: 15, so no code unit is a surrogate (0xD800 and up)
 * and decoding the packed words as UTF-16 is one-to-one.
 */
const BITS_PER_CHAR = 15;
const utf16 = new TextDecoder('utf-16le');

export interface MemoStats {
  hits: number;
  misses: number;
}

export class RoutingMemo {
  private readonly packed: Uint16Array;
  private readonly perGeneration: number;
  private current = new Map<string, Float64Array>();
  private previous = new Map<string, Float64Array>();
  readonly stats: MemoStats = { hits: 0, misses: 0 };

  /** `capacity` results in all (two generations of half each). */
  constructor(nodes: number, capacity: number) {
    this.packed = new Uint16Array(Math.ceil(nodes / BITS_PER_CHAR));
    this.perGeneration = Math.max(1, Math.floor(capacity / 2));
  }

  /** The key of a routing (1 = left, 0 = right per node), exact: one bit per decision. */
  keyOf(goesLeft: Uint8Array): string {
    const { packed } = this;
    const nodes = goesLeft.length;
    for (let word = 0, node = 0; word < packed.length; word += 1) {
      let bits = 0;
      for (let bit = 0; bit < BITS_PER_CHAR && node < nodes; bit += 1, node += 1) {
        bits |= (goesLeft[node] as number) << bit;
      }
      packed[word] = bits;
    }
    return utf16.decode(packed);
  }

  get(key: string): Float64Array | undefined {
    let found = this.current.get(key);
    if (found === undefined) {
      found = this.previous.get(key);
      if (found !== undefined) {
        this.previous.delete(key);
        this.remember(key, found);
      }
    }
    if (found === undefined) this.stats.misses += 1;
    else this.stats.hits += 1;
    return found;
  }

  /** Keeps `value` (owned by the memo from now on) for `key`. */
  remember(key: string, value: Float64Array): void {
    if (this.current.size >= this.perGeneration) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}
