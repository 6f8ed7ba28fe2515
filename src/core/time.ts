// Event-time units. Times are milliseconds since the Unix epoch (UTC), as in the
// Avro timestamp-millis fields.
export const DAY_MS = 86_400_000;
