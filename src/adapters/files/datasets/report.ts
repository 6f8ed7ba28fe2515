// What a dataset loader read, produced and skipped (with why): every input row is
// accounted for in exactly one place.
export interface LoadReport {
  readonly source: string;
  rowsRead: number;
  eventsProduced: number;
  readonly skipped: Record<string, number>;
}

export const newReport = (source: string): LoadReport => ({ source, rowsRead: 0, eventsProduced: 0, skipped: {} });

export function skip(report: LoadReport, reason: string, count = 1): void {
  report.skipped[reason] = (report.skipped[reason] ?? 0) + count;
}

export function formatReport(report: LoadReport): string {
  const skipped = Object.entries(report.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason}=${count}`)
    .join(', ');
  return `${report.source}: ${report.rowsRead} rows read, ${report.eventsProduced} events${skipped ? `; skipped: ${skipped}` : ''}`;
}
