// Which column of a generic order CSV feeds which event field. A shop's export rarely uses
// our names: header names are matched trimmed and case-insensitively, and a column mapping
// (`items=item_count,ts=event_time`: source column=field) names the column for a field
// outright. A bad mapping or a header without a required field is for the user to fix, not
// a bug: both raise CsvColumnsError, and before any row is read, so nothing is half-loaded.

export const CSV_FIELDS = [
  'customer_id',
  'order_id',
  'event_time',
  'amount',
  'type',
  'original_order_id',
  'item_count',
  'currency',
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];

export const REQUIRED_CSV_FIELDS: readonly CsvField[] = ['customer_id', 'order_id', 'event_time', 'amount'];

/** Field → the source column that feeds it (matched trimmed and case-insensitively). */
export type ColumnMapping = Readonly<Partial<Record<CsvField, string>>>;

/** The user's column mapping or file header cannot be used. The adapter cannot import the app's UserError. */
export class CsvColumnsError extends Error {
  override readonly name: string = 'CsvColumnsError';
}

export interface ResolvedColumns {
  /** Field → index of its column in each row; absent: the file has no column for it. */
  readonly indexOf: Readonly<Partial<Record<CsvField, number>>>;
  /** Header names (trimmed, blank ones left out) that feed no field, in header order. */
  readonly ignored: readonly string[];
  /** Fields per row, the header's. */
  readonly width: number;
}

const normalize = (name: string) => name.trim().toLowerCase();
const isField = (name: string): name is CsvField => (CSV_FIELDS as readonly string[]).includes(name);
const quoted = (name: string) => JSON.stringify(name);
/** Header names for a message; a header can be long, the message stays readable. */
const MAX_NAMED_COLUMNS = 30;
const listColumns = (header: readonly string[]) =>
  header.length === 0
    ? '(none)'
    : header.slice(0, MAX_NAMED_COLUMNS).map(quoted).join(', ') +
      (header.length > MAX_NAMED_COLUMNS ? ` (+${header.length - MAX_NAMED_COLUMNS} more)` : '');

/** Reads `source=field,source=field` (the --columns option); throws CsvColumnsError saying what is wrong. */
export function parseColumnMapping(text: string): ColumnMapping {
  function fail(why: string): never {
    throw new CsvColumnsError(`column mapping ${quoted(text)}: ${why}`);
  }
  if (text.trim() === '') fail('empty; expected source=field[,source=field...], e.g. items=item_count');
  const mapping: Partial<Record<CsvField, string>> = {};
  const fieldOfSource = new Map<string, CsvField>();
  for (const part of text.split(',')) {
    if (part.trim() === '') fail('an empty entry (a stray comma?)');
    const halves = part.split('=');
    if (halves.length !== 2) fail(`entry ${quoted(part.trim())} is not source=field`);
    const source = (halves[0] ?? '').trim();
    const field = normalize(halves[1] ?? '');
    if (source === '') fail(`entry ${quoted(part.trim())} has no source column before '='`);
    if (field === '') fail(`entry ${quoted(part.trim())} has no field after '='`);
    if (!isField(field)) fail(`${quoted(field)} is not a field; fields: ${CSV_FIELDS.join(', ')}`);
    const earlier = mapping[field];
    if (earlier !== undefined) fail(`two columns map to ${field} (${quoted(earlier)} and ${quoted(source)})`);
    const otherField = fieldOfSource.get(normalize(source));
    if (otherField !== undefined) fail(`column ${quoted(source)} maps to two fields (${otherField} and ${field})`);
    mapping[field] = source;
    fieldOfSource.set(normalize(source), field);
  }
  return mapping;
}

/**
 * Finds each field's column in the header. A mapped column feeds only the field it is mapped
 * to (so `order_id=original_order_id` does not also read it as order_id); an unmapped field
 * reads the column named like it. Throws CsvColumnsError for a mapped column that is not in
 * the header, two columns naming one field, or missing required fields.
 */
export function resolveColumns(header: readonly string[], mapping: ColumnMapping, source: string): ResolvedColumns {
  function fail(why: string): never {
    throw new CsvColumnsError(`${source}: ${why}; columns found: ${listColumns(header)}`);
  }
  const names = header.map(normalize);
  const columnsNamed = (name: string) => names.flatMap((n, i) => (n === name ? [i] : []));
  const indexOf: Partial<Record<CsvField, number>> = {};
  const fieldOfColumn = new Map<number, CsvField>();
  const take = (field: CsvField, at: number) => {
    indexOf[field] = at;
    fieldOfColumn.set(at, field);
  };
  for (const field of CSV_FIELDS) {
    const wanted = mapping[field];
    if (wanted === undefined) continue;
    if (normalize(wanted) === '') fail(`the column mapping names an empty column for ${field}`);
    const at = columnsNamed(normalize(wanted));
    if (at.length === 0) fail(`the column mapping reads ${field} from ${quoted(wanted)}, which is not in the header`);
    if (at.length > 1) fail(`the column mapping reads ${field} from ${quoted(wanted)}, which the header has twice`);
    const column = at[0] as number;
    const other = fieldOfColumn.get(column);
    if (other !== undefined) fail(`the column mapping reads both ${other} and ${field} from ${quoted(wanted)}`);
    take(field, column);
  }
  for (const field of CSV_FIELDS) {
    if (mapping[field] !== undefined) continue;
    const at = columnsNamed(field).filter((i) => !fieldOfColumn.has(i));
    if (at.length > 1) fail(`columns ${at.map((i) => quoted(header[i] ?? '')).join(' and ')} both name ${field}`);
    if (at.length === 1) take(field, at[0] as number);
  }
  const missing = REQUIRED_CSV_FIELDS.filter((field) => indexOf[field] === undefined);
  if (missing.length > 0) {
    fail(
      `required column${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')} ` +
        '(header names are matched ignoring case and surrounding spaces; name the column for a field with --columns <column>=<field>)',
    );
  }
  const ignored = header.flatMap((name, i) => (fieldOfColumn.has(i) || name.trim() === '' ? [] : [name.trim()]));
  return { indexOf, ignored, width: header.length };
}
