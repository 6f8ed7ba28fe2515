// Event-time units. Times are milliseconds since the Unix epoch (UTC), as in the
// Avro timestamp-millis fields.
export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;

export const days = (count: number): number => count * DAY_MS;
