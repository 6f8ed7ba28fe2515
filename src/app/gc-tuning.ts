// V8 garbage-collector settings for the long-running scorer process.
//
// V8 allocates objects from an allocation site straight into the old generation once it has
// seen many of that site's objects survive ("pretenuring"). The scorer's per-event objects
// (decoded events, states, scores) live for one unit, a few milliseconds, but the units
// during start-up and backlogs are large enough for V8 to pretenure those sites; after that
// every event's objects went to the old generation and a full mark-compact ran about every
// two seconds at 5,000 events/s, each one a latency spike. Without pretenuring they die young
// in the scavenger (bench/results/pipeline.md has the A/B).
import { setFlagsFromString } from 'node:v8';

export function tuneGarbageCollection(): void {
  // Read by V8 at each garbage collection, so setting it after start-up takes effect.
  setFlagsFromString('--no-allocation-site-pretenuring');
}
