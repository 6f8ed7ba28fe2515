// The dataset command's options checked and turned into values before any input is read:
// dates, the --columns mapping, the base feature spec of an observation window, the date range.
// Every refusal is a DatasetError (a user error: one line, exit 2).
import { CsvColumnsError, parseColumnMapping } from '../../adapters/files/datasets/csv-columns.js';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec } from '../../core/features/spec.js';
import { DAY_MS } from '../../core/time.js';
import { DatasetError } from './dataset-sources.js';

function parseMapping(text: string) {
  try {
    return parseColumnMapping(text);
  } catch (error) {
    if (error instanceof CsvColumnsError) throw new DatasetError(error.message);
    throw error;
  }
}

function dateOption(name: string, text: string): number {
  const t = Date.parse(`${text}T00:00:00Z`);
  // The round trip refuses days Date.parse rolls over (2023-02-30 would be 2 March).
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== text)
    throw new DatasetError(`${name} '${text}' is not a date (YYYY-MM-DD)`);
  return t;
}

/** The default spec with another observation window (the trend's "recent" half follows it). */
function baseSpec(windowDays: number): FeatureSpec {
  const period = DEFAULT_FEATURE_SPEC.periodDays;
  if (!Number.isInteger(windowDays) || windowDays < 2 * period || windowDays % period !== 0)
    throw new DatasetError(
      `--observation-window ${windowDays}: must be a whole number of ${period}-day periods, at least ${2 * period} days`,
    );
  if (windowDays === DEFAULT_FEATURE_SPEC.retention.windowDays) return DEFAULT_FEATURE_SPEC;
  return {
    ...DEFAULT_FEATURE_SPEC,
    retention: { ...DEFAULT_FEATURE_SPEC.retention, windowDays },
    recentDays: windowDays / 2,
  };
}

export interface DatasetOptionText {
  readonly first?: string | undefined;
  readonly fitUntil?: string | undefined;
  readonly columns?: string | undefined;
  readonly observationDays?: number | undefined;
  readonly startDate?: string | undefined;
  readonly endDate?: string | undefined;
}

export function checkedOptions(options: DatasetOptionText) {
  const from =
    options.startDate === undefined ? Number.NEGATIVE_INFINITY : dateOption('--start-date', options.startDate);
  // --end-date is inclusive: events up to the day's last millisecond.
  const until =
    options.endDate === undefined ? Number.POSITIVE_INFINITY : dateOption('--end-date', options.endDate) + DAY_MS - 1;
  if (from > until) throw new DatasetError(`--start-date ${options.startDate} is after --end-date ${options.endDate}`);
  return {
    first: options.first === undefined ? null : dateOption('--first', options.first),
    fitUntil: options.fitUntil === undefined ? null : dateOption('--fit-until', options.fitUntil),
    columns: options.columns === undefined ? {} : parseMapping(options.columns),
    base: baseSpec(options.observationDays ?? DEFAULT_FEATURE_SPEC.retention.windowDays),
    from,
    until,
  };
}
