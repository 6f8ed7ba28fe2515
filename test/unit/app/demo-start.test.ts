// Where `churnstream demo`'s synthetic history starts: 2024-01-01 while the history then
// ends by today (same seed, same events on any day), else it ends today. Kafka (4.x: broker
// log.message.timestamp.after.max.ms = 1 hour) refuses records timestamped in the future,
// and `demo --days 3000` ended in "timestamp of the message is out of acceptable range".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoStart, MAX_DEMO_DAYS } from '../../../src/app/demo.js';
import { DAY_MS } from '../../../src/core/time.js';

const JAN_2024 = Date.UTC(2024, 0, 1);
const now = Date.UTC(2026, 11, 1, 11, 22);

describe('demoStart', () => {
  it('2024-01-01 while that ends by today', () => {
    expect(demoStart(540, now)).toBe(JAN_2024);
    expect(demoStart(1000, now)).toBe(JAN_2024);
  });

  it('ends today (midnight UTC) when 2024-01-01 would reach past it', () => {
    expect(demoStart(3000, now)).toBe(Date.UTC(2026, 11, 1) - 3000 * DAY_MS);
  });

  it('never ends after now, and never starts before 1990 (the event floor)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_DEMO_DAYS }),
        fc.integer({ min: JAN_2024, max: Date.UTC(2040, 0, 1) }),
        (days, at) => {
          const start = demoStart(days, at);
          expect(start + days * DAY_MS).toBeLessThanOrEqual(at);
          expect(start).toBeLessThanOrEqual(JAN_2024);
          expect(start).toBeGreaterThanOrEqual(Date.UTC(1990, 0, 1));
        },
      ),
    );
  });
});
