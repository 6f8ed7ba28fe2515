// What a dataset loader read, produced and skipped (with why): every input row is
// accounted for in exactly one place (an event or one skip reason). Besides the rows, what
// the loader had to guess or leave out, so a file that "loaded" but was misread shows it:
// columns it ignored, values it filled in, values it did not understand.
export interface LoadReport {
  readonly source: string;
  rowsRead: number;
  eventsProduced: number;
  readonly skipped: Record<string, number>;
  /** Header columns that feed no field and were ignored, in header order. */
  readonly ignoredColumns: string[];
  /** Per field: produced events whose value was empty or absent and took the default. */
  readonly defaulted: Record<string, number>;
  /** Per field: values that were not understood (their rows are skipped). */
  readonly unknownValues: Record<string, ValueTally>;
}

/**
 * The distinct values seen, bounded: a file can hold millions of distinct bad values and
 * the report is one line, so only the first few are kept by name and the rest are counted.
 */
export interface ValueTally {
  /** The first MAX_DISTINCT_VALUES distinct values seen (cut to MAX_VALUE_CHARS), with their row counts. */
  readonly counts: Map<string, number>;
  /** Rows whose value is not among them. */
  otherRows: number;
}

export const MAX_DISTINCT_VALUES = 10;
export const MAX_VALUE_CHARS = 40;
/** Ignored columns named on the report line; the rest are counted. */
const MAX_LISTED_COLUMNS = 10;

export const newReport = (source: string): LoadReport => ({
  source,
  rowsRead: 0,
  eventsProduced: 0,
  skipped: {},
  ignoredColumns: [],
  defaulted: {},
  unknownValues: {},
});

export function skip(report: LoadReport, reason: string, count = 1): void {
  report.skipped[reason] = (report.skipped[reason] ?? 0) + count;
}

export function countDefaulted(report: LoadReport, field: string): void {
  report.defaulted[field] = (report.defaulted[field] ?? 0) + 1;
}

export function noteUnknownValue(report: LoadReport, field: string, value: string): void {
  let tally = report.unknownValues[field];
  if (tally === undefined) {
    tally = { counts: new Map(), otherRows: 0 };
    report.unknownValues[field] = tally;
  }
  // Cut by code points so a long value cannot split a surrogate pair.
  const points = [...value];
  const key = points.length > MAX_VALUE_CHARS ? `${points.slice(0, MAX_VALUE_CHARS - 1).join('')}…` : value;
  const seen = tally.counts.get(key);
  if (seen !== undefined) tally.counts.set(key, seen + 1);
  else if (tally.counts.size < MAX_DISTINCT_VALUES) tally.counts.set(key, 1);
  else tally.otherRows += 1;
}

const byCountDescending = (entries: [string, number][]) => entries.sort((a, b) => b[1] - a[1]);
const counts = (entries: [string, number][]) => entries.map(([name, count]) => `${name}=${count}`).join(', ');

/** One line: rows and events, then only the sections that have something to say. */
export function formatReport(report: LoadReport): string {
  const parts = [`${report.source}: ${report.rowsRead} rows read, ${report.eventsProduced} events`];
  const skipped = byCountDescending(Object.entries(report.skipped));
  if (skipped.length > 0) parts.push(`skipped: ${counts(skipped)}`);
  for (const [field, tally] of Object.entries(report.unknownValues)) {
    // JSON quoting: a value may hold commas, '=', spaces or control characters.
    const values = byCountDescending([...tally.counts].map(([value, n]) => [JSON.stringify(value), n]));
    const other = tally.otherRows > 0 ? ` (+${tally.otherRows} rows with other values)` : '';
    parts.push(`unknown ${field} values: ${counts(values)}${other}`);
  }
  const defaulted = byCountDescending(Object.entries(report.defaulted));
  if (defaulted.length > 0) parts.push(`defaulted: ${counts(defaulted)}`);
  const ignored = report.ignoredColumns;
  if (ignored.length > 0) {
    const listed = ignored.slice(0, MAX_LISTED_COLUMNS).map((name) => JSON.stringify(name));
    const more = ignored.length > MAX_LISTED_COLUMNS ? ` (+${ignored.length - MAX_LISTED_COLUMNS} more)` : '';
    parts.push(`ignored columns: ${listed.join(', ')}${more}`);
  }
  return parts.join('; ');
}
