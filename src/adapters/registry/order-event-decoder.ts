// Input record value -> OrderEvent through the registry (Avro, Confluent wire format).
// Three kinds of answer: an event; a record that is not a readable order event (with the
// error class the dead letter will carry); or an unknown writer schema id, which the app
// may wait for (the registry can serve an id a moment after a producer used it). A registry
// that does not answer throws a DependencyError: that says nothing about the record.
import type { OrderEvent } from '../../core/events/order-event.js';
import type { AvroRegistry, DecodeErrorClass, RegisteredValueSchema } from './avro-registry.js';
import { fromOrderEventRecord, type OrderEventRecord } from './order-event-codec.js';

export type DecodedOrderEvent =
  | { readonly kind: 'event'; readonly event: OrderEvent }
  | { readonly kind: 'unreadable'; readonly errorClass: DecodeErrorClass; readonly reason: string }
  | { readonly kind: 'unknown_schema_id'; readonly schemaId: number; readonly reason: string };

export class OrderEventDecoder {
  private readonly registry: AvroRegistry;
  private readonly reader: RegisteredValueSchema;

  constructor(registry: AvroRegistry, reader: RegisteredValueSchema) {
    this.registry = registry;
    this.reader = reader;
  }

  async decode(value: Buffer | null): Promise<DecodedOrderEvent> {
    const decoded = await this.registry.decode<OrderEventRecord>(value, this.reader);
    if (decoded.ok) return { kind: 'event', event: fromOrderEventRecord(decoded.value) };
    if (decoded.errorClass === 'unknown_schema_id')
      return { kind: 'unknown_schema_id', schemaId: decoded.schemaId, reason: decoded.reason };
    return { kind: 'unreadable', errorClass: decoded.errorClass, reason: decoded.reason };
  }
}
