// The column mapping option and finding fields in a shop's header: what is accepted, and
// that every refusal is a CsvColumnsError saying what to fix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CSV_FIELDS,
  CsvColumnsError,
  parseColumnMapping,
  resolveColumns,
} from '../../../../src/adapters/files/datasets/csv-columns.js';

/** The error parseColumnMapping or resolveColumns threw, failing the test if none or another kind. */
function refusal(run: () => unknown): CsvColumnsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CsvColumnsError);
    return error as CsvColumnsError;
  }
  throw new Error('expected a CsvColumnsError, nothing was thrown');
}

describe('parseColumnMapping', () => {
  it('reads source=field pairs, trimming, fields in any case, source kept as written', () => {
    expect(parseColumnMapping('items=item_count,ts=event_time')).toEqual({ item_count: 'items', event_time: 'ts' });
    expect(parseColumnMapping(' Order Total = AMOUNT , Kunde=customer_id')).toEqual({
      amount: 'Order Total',
      customer_id: 'Kunde',
    });
  });

  it('refuses an unknown target field, naming it and the valid fields', () => {
    const error = refusal(() => parseColumnMapping('items=items_count'));
    expect(error.message).toContain('"items_count" is not a field');
    for (const field of CSV_FIELDS) expect(error.message).toContain(field);
  });

  it('refuses two columns mapped to one field, naming both', () => {
    const error = refusal(() => parseColumnMapping('items=item_count,qty=ITEM_COUNT'));
    expect(error.message).toContain('two columns map to item_count ("items" and "qty")');
  });

  it('refuses one column mapped to two fields', () => {
    const error = refusal(() => parseColumnMapping('id=order_id,ID=original_order_id'));
    expect(error.message).toContain('column "ID" maps to two fields (order_id and original_order_id)');
  });

  it.each([
    ['', 'empty; expected source=field'],
    ['   ', 'empty; expected source=field'],
    ['items=item_count,', 'an empty entry'],
    ['items=item_count,,ts=event_time', 'an empty entry'],
    ['items', 'entry "items" is not source=field'],
    ['a=b=item_count', 'entry "a=b=item_count" is not source=field'],
    ['=item_count', 'entry "=item_count" has no source column'],
    ['items=', 'entry "items=" has no field'],
    [' items = ', 'entry "items =" has no field'],
  ])('refuses %j: %s', (text, why) => {
    const error = refusal(() => parseColumnMapping(text));
    expect(error.message).toContain(why);
    expect(error.message).toContain(`column mapping ${JSON.stringify(text)}`);
  });

  it('reads back any valid mapping it is given as text', () => {
    const sourceName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _]{0,12}$/).map((s) => s.trim());
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...CSV_FIELDS), { minLength: 1 }),
        fc.uniqueArray(sourceName, { minLength: CSV_FIELDS.length, selector: (s) => s.toLowerCase() }),
        (fields, sources) => {
          const expected = Object.fromEntries(fields.map((field, i) => [field, sources[i]]));
          const text = fields.map((field, i) => `${sources[i]}=${field.toUpperCase()}`).join(',');
          expect(parseColumnMapping(text)).toEqual(expected);
        },
      ),
    );
  });
});

describe('resolveColumns', () => {
  const canonical = ['customer_id', 'order_id', 'event_time', 'amount'];

  it('matches header names ignoring case and surrounding spaces, in any order', () => {
    const resolved = resolveColumns([' AMOUNT', 'Event_Time ', 'order_ID', 'Customer_ID', ' Type '], {}, 'f.csv');
    expect(resolved.indexOf).toEqual({ amount: 0, event_time: 1, order_id: 2, customer_id: 3, type: 4 });
    expect(resolved.ignored).toEqual([]);
    expect(resolved.width).toBe(5);
  });

  it('lists columns that feed no field as ignored, in header order, leaving out blank names', () => {
    const resolved = resolveColumns(['notes', ...canonical, '', 'items', 'sku'], {}, 'f.csv');
    expect(resolved.ignored).toEqual(['notes', 'items', 'sku']);
  });

  it('refuses missing required columns before any row, naming them and the columns found', () => {
    const error = refusal(() => resolveColumns(['Customer', 'order_id', 'When', 'items'], {}, 'shop.csv'));
    expect(error.message).toContain('shop.csv: required columns missing: customer_id, event_time, amount');
    expect(error.message).toContain('columns found: "Customer", "order_id", "When", "items"');
    expect(error.message).toContain('--columns');
  });

  it('refuses a header that names a field twice', () => {
    const error = refusal(() => resolveColumns([...canonical, 'type', 'TYPE '], {}, 'f.csv'));
    expect(error.message).toContain('columns "type" and "TYPE " both name type');
  });

  it('reads a mapped field from its column, and that column for no other field', () => {
    const header = ['customer_id', 'id', 'order_id', 'event_time', 'amount', 'item_count', 'Items'];
    const resolved = resolveColumns(
      header,
      { order_id: 'ID', original_order_id: 'order_id', item_count: 'items' },
      'f',
    );
    expect(resolved.indexOf).toEqual({
      customer_id: 0,
      order_id: 1,
      original_order_id: 2,
      event_time: 3,
      amount: 4,
      item_count: 6,
    });
    // The column named like a mapped field is not read for it: the mapping said where that field is.
    expect(resolved.ignored).toEqual(['item_count']);
  });

  it('does not also read a mapped column as the field it is named after', () => {
    // order_id is mapped away to original_order_id and nothing else is mapped to order_id.
    const error = refusal(() => resolveColumns(canonical, { original_order_id: 'order_id' }, 'f.csv'));
    expect(error.message).toContain('required column missing: order_id');
  });

  it('refuses a mapping whose column is not in the header, or is in it twice', () => {
    expect(refusal(() => resolveColumns(canonical, { item_count: 'items' }, 'f.csv')).message).toContain(
      'the column mapping reads item_count from "items", which is not in the header',
    );
    expect(refusal(() => resolveColumns([...canonical, 'x', 'X'], { item_count: 'x' }, 'f.csv')).message).toContain(
      'which the header has twice',
    );
  });

  it('refuses a mapping given as an object that reads two fields from one column or names no column', () => {
    expect(
      refusal(() => resolveColumns([...canonical, 'n'], { item_count: 'n', currency: 'N' }, 'f.csv')).message,
    ).toContain('reads both item_count and currency from "N"');
    expect(refusal(() => resolveColumns(canonical, { currency: ' ' }, 'f.csv')).message).toContain(
      'names an empty column for currency',
    );
  });
});
