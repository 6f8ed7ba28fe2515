// The `models` commands' value parsers on the cases an outside tester found and on generated
// garbage: a weight is a plain decimal in [0, 1] (on the command line and in
// CHURNSTREAM_EXPERIMENT_WEIGHT alike), counts are decimal digits in their range, --why and
// --by are one non-empty line, and every refusal is a UserError of one line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  integerArg,
  MAX_FOLDS,
  MAX_LOG_LIMIT,
  MAX_NOTE_LENGTH,
  noteArg,
  printable,
  shareArg,
} from '../../../../src/app/commands/models-options.js';
import { loadConfig } from '../../../../src/app/config.js';
import { UserError } from '../../../../src/app/user-error.js';

const CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]/u;

/** The UserError `parse(value)` throws, checked to be one line (null if it parsed). */
function refusal(parse: (value: string) => unknown, value: string): string | null {
  try {
    parse(value);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).not.toMatch(CONTROL);
    return message;
  }
}

describe('models weight <share>', () => {
  it.each([
    '-0.1',
    '1.5',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x1',
    '0b1',
    '0o1',
    '',
    ' ',
    ' 0.5',
    '0.5 ',
    '0.3abc',
    '0,5',
    '1/2',
    '+0.5',
    '-0',
    '1e999',
    '.',
    'e1',
    '1e',
    '1e-1',
    '5e-1',
    '1e-400',
    '0.50000000000000001',
    '0.0000001',
    '.5',
    '00.5',
    '01',
  ])('refuses %j', (value) => {
    expect(refusal(shareArg, value)).toMatch(/^weight '.*': .*plain decimal from 0 to 1 with at most 6 decimal places/);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['0.25', 0.25],
    ['1.', 1],
    ['1.000', 1],
    ['0.000001', 0.000001],
    ['0.999999', 0.999999],
  ])('takes %j as %d', (value, share) => {
    expect(shareArg(value)).toBe(share);
  });

  it('takes every share of whole millionths in [0, 1], written with up to 6 decimals, as that number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }), (millionths, extra) => {
        const written = (millionths / 1e6)
          .toFixed(6)
          .replace(/0+$/, '')
          .padEnd(8 - extra, '0');
        expect(shareArg(written)).toBe(Number(written));
        expect(Number(written)).toBe(millionths / 1e6);
      }),
    );
  });

  it('on any string: a share in [0, 1] written in decimal digits, or one line of refusal', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[0-9.eE+x-]{0,8}$/)),
        (value) => {
          const message = refusal(shareArg, value);
          if (message !== null) return;
          expect(value).toMatch(/^[01](?:\.\d{0,6})?$/);
          expect(Number(value)).toBeGreaterThanOrEqual(0);
          expect(Number(value)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('CHURNSTREAM_EXPERIMENT_WEIGHT reads the same grammar: one line, exit 2 (ConfigError)', () => {
    const env = { CHURNSTREAM_EXPERIMENT: 'e:s', CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'v2' };
    for (const value of ['0x1', '1.5', 'NaN', 'Infinity', '0,5', '-0.1', '0.3abc', ' 0.5', '1e-1', '0.1234567'])
      expect(() => loadConfig({ ...env, CHURNSTREAM_EXPERIMENT_WEIGHT: value }), value).toThrow(
        /^invalid configuration: CHURNSTREAM_EXPERIMENT_WEIGHT: a plain decimal from 0 to 1 with at most 6 decimal places, e\.g\. 0\.1$/,
      );
    expect(loadConfig({ ...env, CHURNSTREAM_EXPERIMENT_WEIGHT: '0.25' }).rollout.weight).toBe(0.25);
    // Empty is unset, as for every setting: weight 0.
    expect(loadConfig({ ...env, CHURNSTREAM_EXPERIMENT_WEIGHT: '' }).rollout.weight).toBe(0);
    fc.assert(
      fc.property(fc.string(), (value) => {
        let weight: number | null = null;
        try {
          weight = loadConfig({ ...env, CHURNSTREAM_EXPERIMENT_WEIGHT: value }).rollout.weight;
        } catch (error) {
          expect(error).toBeInstanceOf(UserError);
        }
        if (weight !== null && value !== '') expect(weight).toBe(shareArg(value));
      }),
    );
  });
});

describe('whole numbers (--limit, --folds, --seed)', () => {
  const limit = integerArg('--limit', 1, MAX_LOG_LIMIT);
  const folds = integerArg('--folds', 2, MAX_FOLDS);

  it.each(['abc', '1.5', '1x', '0', '-1', '', ' 5', '1e3', '0x10', '10001', '99999999999999999999'])(
    '--limit refuses %j',
    (value) => {
      expect(refusal(limit, value)).toMatch(/^--limit '.*': a whole number from 1 to 10000$/);
    },
  );

  it.each(['1e9', '21', '1', '0', '5.5', 'abc', '-3'])('--folds refuses %j', (value) => {
    expect(refusal(folds, value)).toMatch(/^--folds '.*': a whole number from 2 to 20$/);
  });

  it('takes exactly the integers in range, written in digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 100_000 }), (n) => {
        const message = refusal(limit, String(n));
        expect(message === null).toBe(n >= 1 && n <= MAX_LOG_LIMIT);
        if (message === null) expect(limit(String(n))).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (value) => {
        if (refusal(folds, value) === null) expect(value).toMatch(/^\d+$/);
      }),
    );
  });
});

describe('--why and --by', () => {
  const why = noteArg('--why');

  it.each([
    '',
    '   ',
    '\t',
    'line1\nFAKE 2026-01-01T00:00:00Z  promote    by ceo: approved',
    'x\u001b[31mred',
    'a\rb',
    'a\u2028b',
    'left\u202eright',
    'a\u200eb',
    'a\u200fb',
    'nul\u0000',
  ])('refuses %j in one line', (value) => {
    expect(refusal(why, value)).toMatch(/^--why '.*': /);
  });

  it('keeps a note trimmed; refuses any with a control character', () => {
    expect(why('  ship v3, AUC +0.02 (ticket #12)  ')).toBe('ship v3, AUC +0.02 (ticket #12)');
    expect(why('Zoë: größere Änderung — ok ✓')).toBe('Zoë: größere Änderung — ok ✓');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const message = refusal(why, value);
        expect(message === null).toBe(
          value.trim() !== '' && !CONTROL.test(value.trim()) && [...value.trim()].length <= MAX_NOTE_LENGTH,
        );
      }),
    );
  });

  it(`refuses a note longer than ${MAX_NOTE_LENGTH} characters, saying how long it is`, () => {
    expect(why('✓'.repeat(MAX_NOTE_LENGTH))).toHaveLength(MAX_NOTE_LENGTH);
    expect(refusal(why, 'x'.repeat(120_000))).toBe(
      `--why: 120000 characters; at most ${MAX_NOTE_LENGTH} (it is a line of the rollout log: link a document for more)`,
    );
  });
});

describe('printable (older log entries)', () => {
  it('escapes control characters, leaves the rest', () => {
    expect(printable('line1\nFAKE\u001b[31m')).toBe('line1\\x0aFAKE\\x1b[31m');
    expect(printable('a\u2028b\u202e')).toBe('a\\u2028b\\u202e');
    expect(printable('plain ✓ text')).toBe('plain ✓ text');
  });

  it('never lets one through, and is the identity on what noteArg takes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const shown = printable(value);
        expect(CONTROL.test(shown)).toBe(false);
        if (!CONTROL.test(value)) expect(shown).toBe(value);
      }),
    );
  });
});
