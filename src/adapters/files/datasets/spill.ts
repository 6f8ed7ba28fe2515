// Disk spills that keep the dataset builder's memory bounded whatever the input size:
// events partitioned into bucket files by a hash of the customer id (a customer's events
// all in one bucket, a bucket small enough to hold), runs of rows sorted within a bucket
// and merged back in one global order, and per-axis value files for fitting the feature
// spec. Everything lives in one temporary directory that `remove()` deletes.
import { appendFileSync, createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Heap } from 'heap-js';
import type { OrderEvent } from '../../../core/events/order-event.js';

/** Bytes buffered per file before an append (bounds memory at files x this). */
const FLUSH_BYTES = 256 * 1024;

/** FNV-1a over UTF-16 code units: stable across runs and machines, cheap. */
function bucketOf(customerId: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i += 1) {
    hash ^= customerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}

/** Appends text lines to many files with a bounded buffer per file. */
class LineFiles {
  private readonly pending = new Map<string, string[]>();
  private readonly sizes = new Map<string, number>();

  append(path: string, line: string): void {
    let lines = this.pending.get(path);
    if (lines === undefined) {
      lines = [];
      this.pending.set(path, lines);
    }
    lines.push(line);
    const size = (this.sizes.get(path) ?? 0) + line.length + 1;
    this.sizes.set(path, size);
    if (size >= FLUSH_BYTES) this.flushOne(path);
  }

  private flushOne(path: string): void {
    const lines = this.pending.get(path);
    if (lines === undefined || lines.length === 0) return;
    appendFileSync(path, `${lines.join('\n')}\n`);
    this.pending.set(path, []);
    this.sizes.set(path, 0);
  }

  flush(): void {
    for (const path of this.pending.keys()) this.flushOne(path);
  }
}

export class SpillDirectory {
  readonly dir = mkdtempSync(join(tmpdir(), 'churnstream-dataset-'));
  private readonly lines = new LineFiles();
  private readonly axisChunks = new Map<number, Float64Array>();
  private readonly axisFill = new Map<number, number>();

  readonly buckets: number;

  constructor(buckets: number) {
    this.buckets = buckets;
  }

  private eventPath = (bucket: number) => join(this.dir, `events-${bucket}.jsonl`);
  private runPath = (bucket: number) => join(this.dir, `rows-${bucket}.jsonl`);
  private axisPath = (axis: number) => join(this.dir, `axis-${axis}.f64`);

  addEvent(event: OrderEvent): void {
    this.lines.append(this.eventPath(bucketOf(event.customerId, this.buckets)), JSON.stringify(event));
  }

  /** Makes every added event readable by `bucketEvents`. */
  sealEvents(): void {
    this.lines.flush();
  }

  async bucketEvents(bucket: number): Promise<OrderEvent[]> {
    let text: string;
    try {
      text = await readFile(this.eventPath(bucket), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // no customer hashed here
      throw error;
    }
    const events: OrderEvent[] = [];
    for (const line of text.split('\n')) if (line !== '') events.push(JSON.parse(line) as OrderEvent);
    return events;
  }

  /** One bucket's rows, already in the global order: written as one sorted run. */
  writeRun(bucket: number, lines: readonly string[]): void {
    for (const line of lines) this.lines.append(this.runPath(bucket), line);
    this.lines.flush();
  }

  /** Values of one feature-spec axis (for the quantile fit), kept on disk as float64. */
  addAxisValue(axis: number, value: number): void {
    let chunk = this.axisChunks.get(axis);
    if (chunk === undefined) {
      chunk = new Float64Array(FLUSH_BYTES / 8);
      this.axisChunks.set(axis, chunk);
    }
    const fill = this.axisFill.get(axis) ?? 0;
    chunk[fill] = value;
    if (fill + 1 === chunk.length) {
      appendFileSync(this.axisPath(axis), new Uint8Array(chunk.buffer));
      this.axisFill.set(axis, 0);
    } else this.axisFill.set(axis, fill + 1);
  }

  /** Every value added for `axis` (one axis at a time in memory: 8 bytes per row). */
  async axisValues(axis: number): Promise<Float64Array> {
    const chunk = this.axisChunks.get(axis);
    const fill = this.axisFill.get(axis) ?? 0;
    if (chunk !== undefined && fill > 0) {
      appendFileSync(this.axisPath(axis), new Uint8Array(chunk.buffer, 0, fill * 8));
      this.axisFill.set(axis, 0);
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(this.axisPath(axis));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Float64Array(0);
      throw error;
    }
    // A fresh copy: the Buffer may sit at an offset that is not 8-byte aligned.
    return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  /** The lines of every run, merged in `compare` order (each run must already be in it). */
  async *mergedRuns<T>(parse: (line: string) => T, compare: (a: T, b: T) => number): AsyncGenerator<T> {
    const readers: AsyncIterator<string>[] = [];
    for (let bucket = 0; bucket < this.buckets; bucket += 1) {
      const stream = createReadStream(this.runPath(bucket), { encoding: 'utf8' });
      const opened = await new Promise<boolean>((resolve, reject) => {
        stream.once('open', () => resolve(true));
        stream.once('error', (error: NodeJS.ErrnoException) =>
          error.code === 'ENOENT' ? resolve(false) : reject(error),
        );
      });
      if (opened)
        readers.push(createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]());
    }
    const heap = new Heap<{ value: T; reader: number }>((a, b) => compare(a.value, b.value) || a.reader - b.reader);
    const advance = async (reader: number) => {
      const next = await readers[reader]?.next();
      if (next !== undefined && next.done !== true) heap.push({ value: parse(next.value), reader });
    };
    for (let reader = 0; reader < readers.length; reader += 1) await advance(reader);
    for (;;) {
      const head = heap.pop();
      if (head === undefined) return;
      yield head.value;
      await advance(head.reader);
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
