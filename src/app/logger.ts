// Structured JSON logs on stderr, so stdout stays free for command output (CSV, summaries).
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'churnstream'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
