// The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the
// Avro binary body. Parsing it is pure; the failure kinds become dead-letter reasons.

export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

export type WireHeader =
  | { readonly ok: true; readonly schemaId: number; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly errorClass: 'empty_value' | 'bad_magic_byte' | 'truncated_header';
      readonly reason: string;
    };

export function readWireHeader(value: Buffer | null): WireHeader {
  if (value === null || value.length === 0) {
    return { ok: false, errorClass: 'empty_value', reason: 'record value is empty or null (tombstone)' };
  }
  if (value[0] !== MAGIC_BYTE) {
    return {
      ok: false,
      errorClass: 'bad_magic_byte',
      reason: `first byte is 0x${value[0]?.toString(16).padStart(2, '0')}, expected 0x00 (Confluent wire format)`,
    };
  }
  if (value.length < HEADER_LENGTH) {
    return {
      ok: false,
      errorClass: 'truncated_header',
      reason: `value has ${value.length} bytes, shorter than the 5-byte header`,
    };
  }
  return { ok: true, schemaId: value.readUInt32BE(1), body: value.subarray(HEADER_LENGTH) };
}

export function writeWireFormat(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}
