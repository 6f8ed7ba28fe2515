// The records the Kafka adapters hand to the app and take from it: plain data, no kafkajs
// types, so the app (and its unit tests) never depend on the client library.

export interface InputRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Kafka offset as text (int64). */
  readonly offset: string;
  /** Record timestamp (ms since the epoch) as text, as Kafka carries it. */
  readonly timestamp: string;
  readonly headers: Readonly<Record<string, Buffer | string | null | (Buffer | string | null)[] | undefined>>;
}

/** The records fetched from one partition at once. */
export interface InputBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly InputRecord[];
  readonly highWatermark: string;
}

export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string | Buffer | null;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
  /** Record timestamp (ms since the epoch, as text); the broker's time when absent. */
  readonly timestamp?: string;
}
