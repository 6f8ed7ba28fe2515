import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readWireHeader, writeWireFormat } from '../../../src/adapters/registry/wire-format.js';

describe('Confluent wire format', () => {
  it('round-trips any schema id and body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 64 }), (id, body) => {
        const header = readWireHeader(writeWireFormat(id, Buffer.from(body)));
        expect(header.ok && header.schemaId).toBe(id);
        expect(header.ok && [...header.body]).toEqual([...body]);
      }),
    );
  });

  it('classifies empty, foreign and truncated values', () => {
    expect(readWireHeader(null)).toMatchObject({ ok: false, errorClass: 'empty_value' });
    expect(readWireHeader(Buffer.alloc(0))).toMatchObject({ ok: false, errorClass: 'empty_value' });
    expect(readWireHeader(Buffer.from('{}'))).toMatchObject({
      ok: false,
      errorClass: 'bad_magic_byte',
      reason: /0x7b/,
    });
    expect(readWireHeader(Buffer.from([0, 0, 1]))).toMatchObject({ ok: false, errorClass: 'truncated_header' });
  });
});
