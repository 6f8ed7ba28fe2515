// Dead letters that fit the dead-letter topic's record size limit, checked by decoding them
// with the real schemas/dead-letter.avsc.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDeadLetterFactory, fitDeadLetter } from '../../../../src/app/scorer/dead-letters.js';
import type { DeadLetterValue, InputBatch, InputRecord } from '../../../../src/app/scorer/ports.js';
import { decodeDeadLetter, encodeDeadLetter, sha256 } from '../../../helpers/fakes.js';

/** What Kafka adds around one record (KAFKA_RECORD_OVERHEAD in dead-letters.ts). */
const OVERHEAD = 128;
const KiB = 1024;
const MiB = 1024 * KiB;

/** Random bytes to take keys, values and headers from (a prefix check needs varied bytes). */
const POOL = randomBytes(6 * MiB + 64);
const bytes = (size: number, from: number) => POOL.subarray(from % 64, (from % 64) + size);

const batch: InputBatch = { topic: 'orders', partition: 3, records: [], highWatermark: '0' };

interface Sizes {
  readonly limit: number;
  readonly key: number | null;
  readonly value: number | null;
  readonly header: number;
  readonly reason: number;
  readonly reasonChar: string;
  readonly seed: number;
}

/** A limit spread evenly on a log scale (as many runs near 2 KiB as near 2 MiB), the bounds included. */
const limitArb = (min: number, max: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(min, max),
    fc.double({ min: Math.log2(min), max: Math.log2(max), noNaN: true }).map((e) => Math.round(2 ** e)),
  );

/** Sizes from 0 to 3x the limit, with the small sizes (and the limit's neighbourhood) well covered. */
const sizesArb = (minLimit: number, maxLimit: number): fc.Arbitrary<Sizes> =>
  limitArb(minLimit, maxLimit).chain((limit) => {
    const size = fc.oneof(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 3 * limit }),
      fc.integer({ min: Math.max(0, limit - 300), max: limit + 50 }),
    );
    return fc.record({
      limit: fc.constant(limit),
      key: fc.option(size, { freq: 5 }),
      value: fc.option(size, { freq: 5 }),
      header: size,
      reason: size,
      // ASCII, 2-byte, 3-byte UTF-8 and a surrogate pair (4 bytes, 2 UTF-16 units).
      reasonChar: fc.constantFrom('r', 'é', '€', '😀'),
      seed: fc.nat(),
    });
  });

/** The dead letter of a record of these sizes, whole, as the factory builds it (no limit). */
function wholeLetter(s: Sizes): { whole: DeadLetterValue; value: Buffer | null } {
  const value = s.value === null ? null : bytes(s.value, s.seed);
  const record: InputRecord = {
    key: s.key === null ? null : bytes(s.key, s.seed + 7),
    value,
    offset: '12345',
    timestamp: '1700000000000',
    headers: s.header === 0 ? {} : { trace: bytes(s.header, s.seed + 3) },
  };
  const reason = s.reasonChar.repeat(Math.ceil(s.reason / s.reasonChar.length)).slice(0, s.reason);
  const factory = createDeadLetterFactory({
    topic: 'dead-letters',
    groupId: 'g',
    version: '1.0.0',
    maxRecordBytes: Number.POSITIVE_INFINITY,
    encode: encodeDeadLetter,
    now: () => 1_700_000_000_000,
  });
  const whole = decodeDeadLetter(factory(batch, record, 'undecodable_avro', reason).value);
  return { whole, value };
}

describe('fitDeadLetter', { timeout: 30_000 }, () => {
  it('is not truncated iff the whole fits, keeps the original size and hash, and keeps a prefix of the value', () => {
    fc.assert(
      fc.property(sizesArb(2 * KiB, 2 * MiB), (s) => {
        const { whole, value } = wholeLetter(s);
        const wholeFits = encodeDeadLetter(whole).length + (whole.key?.length ?? 0) + OVERHEAD <= s.limit;
        const fitted = fitDeadLetter(whole, encodeDeadLetter, s.limit);
        const letter = decodeDeadLetter(fitted.value);
        expect(fitted.truncated).toBe(!wholeFits);
        expect(letter.truncated).toBe(!wholeFits);
        if (wholeFits) expect(fitted.value.equals(encodeDeadLetter(whole))).toBe(true);
        expect(letter.original_value_size).toBe(value === null ? -1 : value.length);
        expect(letter.original_value_sha256).toBe(value === null ? '' : sha256(value));
        if (value === null) expect(letter.value).toBeNull();
        else {
          expect(letter.value).not.toBeNull();
          expect(value.subarray(0, letter.value?.length ?? 0).equals(letter.value as Buffer)).toBe(true);
        }
        // The returned key is the one in the record, a prefix of the original key.
        expect(fitted.key === null ? null : Buffer.compare(fitted.key, letter.key as Buffer)).toBe(
          whole.key === null ? null : 0,
        );
        if (whole.key !== null)
          expect(whole.key.subarray(0, fitted.key?.length ?? 0).equals(fitted.key as Buffer)).toBe(true);
        // What identifies the original is never cut.
        expect([letter.dead_letter_id, letter.source_partition, letter.source_offset, letter.error_class]).toEqual([
          'orders/3/12345',
          3,
          12345,
          'undecodable_avro',
        ]);
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('always fits the limit when the limit leaves room for the cut key and reason (16 KiB to 2 MiB)', () => {
    fc.assert(
      fc.property(sizesArb(16 * KiB, 2 * MiB), (s) => {
        const { whole } = wholeLetter(s);
        const fitted = fitDeadLetter(whole, encodeDeadLetter, s.limit);
        expect(fitted.value.length + (fitted.key?.length ?? 0) + OVERHEAD).toBeLessThanOrEqual(s.limit);
      }),
      { numRuns: 60 },
    );
  }, 30_000);

  it('a value cut to fit uses the limit up to a few bytes', () => {
    fc.assert(
      fc.property(limitArb(2 * KiB, 2 * MiB), fc.nat(), (limit, seed) => {
        const sizes = { limit, key: 16, value: 3 * limit, header: 0, reason: 40, reasonChar: 'r', seed };
        const { whole } = wholeLetter(sizes);
        const fitted = fitDeadLetter(whole, encodeDeadLetter, limit);
        const used = fitted.value.length + (fitted.key?.length ?? 0) + OVERHEAD;
        expect(fitted.truncated).toBe(true);
        expect(used).toBeLessThanOrEqual(limit);
        expect(used).toBeGreaterThan(limit - 16);
      }),
      { numRuns: 30 },
    );
  });

  // Below ~16 KiB only a budget-based cut of the reason and key fits (a fixed cut did not,
  // and the broker's refusal then stalled the partition on one record).
  it('always fits the limit, for limits from 2 KiB to 2 MiB', () => {
    fc.assert(
      fc.property(sizesArb(2 * KiB, 2 * MiB), (s) => {
        const { whole } = wholeLetter(s);
        const fitted = fitDeadLetter(whole, encodeDeadLetter, s.limit);
        expect(fitted.value.length + (fitted.key?.length ?? 0) + OVERHEAD).toBeLessThanOrEqual(s.limit);
      }),
      { numRuns: 100, seed: 42 },
    );
  }, 30_000);

  it('a 2 KiB limit and a 3,000-character reason: the dead letter fits', () => {
    const sizes = { limit: 2 * KiB, key: 10, value: 10, header: 0, reason: 3000, reasonChar: 'r', seed: 1 };
    const fitted = fitDeadLetter(wholeLetter(sizes).whole, encodeDeadLetter, 2 * KiB);
    expect(fitted.value.length + (fitted.key?.length ?? 0) + OVERHEAD).toBeLessThanOrEqual(2 * KiB);
  });
});
