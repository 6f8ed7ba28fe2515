// Machine facts printed with every benchmark result: results mean little without them.
import { cpus, loadavg, totalmem } from 'node:os';

export function machineSummary(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  const [one, five] = loadavg();
  return [
    `date: ${new Date().toISOString()}`,
    `node: ${process.version}`,
    `cpu: ${cpu} x ${cpus().length}`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `load average (1m, 5m) at start: ${one?.toFixed(2)}, ${five?.toFixed(2)}`,
  ].join('\n');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}
