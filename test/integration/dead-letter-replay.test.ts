// `churnstream dead-letters list|replay` against the real stack: dead letters are encoded
// with the dead-letter schema into an isolated topic; list must select exactly what the
// filter says, replay must write exactly the selected originals back (byte-equal key,
// value and headers) and skip what cannot be written back unchanged.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSchemaText } from '../../src/adapters/files/schemas.js';
import { createIdempotentProducer, createKafka, ensureTopics } from '../../src/adapters/kafka/client.js';
import { readTopic, type TopicRecord } from '../../src/adapters/kafka/topic-reader.js';
import { AvroRegistry, type RegisteredValueSchema } from '../../src/adapters/registry/avro-registry.js';
import { collectReasons, type DeadLetterFilter } from '../../src/app/commands/dead-letter-filter.js';
import {
  deadLettersCommand,
  filterFrom,
  listDeadLetters,
  type Printer,
  replayDeadLetters,
} from '../../src/app/commands/dead-letters.js';
import type { Config } from '../../src/app/config.js';
import { UserError } from '../../src/app/user-error.js';
import { testConfig } from '../helpers/stack.js';

const T0 = Date.UTC(2025, 0, 1);
const at = (second: number) => T0 + second * 1000;
const CLASSES = ['invalid_amount', 'bad_magic_byte', 'unknown_schema_id', 'event_too_late'] as const;

interface Header {
  readonly key: string;
  readonly value: Buffer | null;
}

/** What a test says about one dead letter; its offset in the topic is its index. */
interface Spec {
  readonly errorClass: string;
  readonly second: number;
  readonly source: 'a' | 'b';
  readonly sourcePartition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly Header[];
  readonly truncated: boolean;
}

/** One isolated set of topics: the dead-letter topic and the sources (a: 3 partitions, b: 1). */
interface Stage {
  readonly config: Config;
  readonly topics: { readonly a: string; readonly b: string; readonly target: string };
}

let kafka: Kafka;
let registry: AvroRegistry;

beforeAll(() => {
  kafka = createKafka(testConfig('dlr').kafka);
  registry = new AvroRegistry({ url: testConfig('dlr').schemaRegistryUrl });
});

async function stage(label: string, specs: readonly Spec[], garbage: readonly Buffer[] = []): Promise<Stage> {
  const config = testConfig(label);
  const topics = {
    a: config.topics.orders,
    b: `${config.topics.orders}.b`,
    target: `${config.topics.orders}.target`,
  };
  await ensureTopics(kafka, [
    { topic: config.topics.deadLetters, partitions: 1 },
    { topic: topics.a, partitions: 3 },
    { topic: topics.b, partitions: 1 },
    { topic: topics.target, partitions: 2 },
  ]);
  const schema = await registry.registerValueSchema(config.topics.deadLetters, readSchemaText('deadLetter'));
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: config.topics.deadLetters,
    acks: -1,
    messages: [
      ...specs.map((spec, i) => ({ key: spec.key, value: encode(schema, spec, topics[spec.source], i) })),
      ...garbage.map((value) => ({ key: null, value })),
    ],
  });
  await producer.disconnect();
  return { config, topics };
}

function encode(schema: RegisteredValueSchema, spec: Spec, sourceTopic: string, index: number): Buffer {
  const sourceOffset = 1000 + index;
  return registry.encode(schema, {
    dead_letter_id: `${sourceTopic}/${spec.sourcePartition}/${sourceOffset}`,
    source_topic: sourceTopic,
    source_partition: spec.sourcePartition,
    source_offset: sourceOffset,
    source_timestamp: T0 - 60_000,
    key: spec.key,
    value: spec.value,
    headers: spec.headers,
    error_class: spec.errorClass,
    reason: `${spec.errorClass} in record ${index}: ${'x'.repeat(index * 7)}`,
    failed_at: at(spec.second),
    consumer_group: 'test',
    churnstream_version: 'test',
    truncated: spec.truncated,
    // A truncated dead letter keeps a prefix of a (here: made-up) larger original.
    original_value_size: spec.value === null ? -1 : spec.value.length * (spec.truncated ? 100 : 1),
    original_value_sha256: spec.value === null ? '' : createHash('sha256').update(spec.value).digest('hex'),
  });
}

function capture(): Printer & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line) };
}

async function listedOffsets(config: Config, filter: DeadLetterFilter): Promise<number[]> {
  const printer = capture();
  await listDeadLetters(config, filter, { json: true }, printer);
  return printer.lines.map((line) => (JSON.parse(line) as { offset: number }).offset);
}

async function readAll(topic: string): Promise<TopicRecord[]> {
  const records: TopicRecord[] = [];
  await readTopic(kafka, { topic }, (batch) => {
    records.push(...batch);
  });
  return records;
}

/** A record as compared: exact bytes of key, value and every header. */
const bytes = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
const shape = (r: { key: Buffer | null; value: Buffer | null; headers: readonly Header[] }) =>
  JSON.stringify([bytes(r.key), bytes(r.value), r.headers.map((h) => [h.key, bytes(h.value)])]);

const matches = (filter: DeadLetterFilter, spec: Spec, offset: number) =>
  (filter.reasons.length === 0 || filter.reasons.includes(spec.errorClass)) &&
  (filter.since === null || at(spec.second) >= filter.since) &&
  (filter.until === null || at(spec.second) < filter.until) &&
  (filter.fromOffset === null || offset >= filter.fromOffset) &&
  (filter.toOffset === null || offset <= filter.toOffset) &&
  (filter.sourcePartition === null || spec.sourcePartition === filter.sourcePartition);

const skipReason = (spec: Spec) =>
  spec.truncated
    ? 'truncated'
    : spec.value === null
      ? 'null_value'
      : spec.headers.some((h) => h.value === null)
        ? 'null_header_value'
        : null;

const b = (text: string) => Buffer.from(text);
const spec = (over: Partial<Spec> & Pick<Spec, 'errorClass' | 'second'>): Spec => ({
  source: 'a',
  sourcePartition: 0,
  key: b(`customer-${over.second}`),
  value: b(`value-${over.second}`),
  headers: [],
  truncated: false,
  ...over,
});

describe('dead-letters list and replay (examples)', () => {
  const specs: Spec[] = [
    spec({ errorClass: 'invalid_amount', second: 1, headers: [{ key: 'trace', value: b('t-1') }] }),
    spec({ errorClass: 'bad_magic_byte', second: 2, sourcePartition: 1, key: null }),
    spec({ errorClass: 'invalid_amount', second: 3, source: 'b', truncated: true, value: b('prefix') }),
    spec({ errorClass: 'unknown_schema_id', second: 4, sourcePartition: 2, value: null }),
    spec({
      errorClass: 'event_too_late',
      second: 5,
      sourcePartition: 1,
      value: Buffer.alloc(0),
      key: Buffer.alloc(0),
      headers: [
        { key: 'x', value: b('1') },
        { key: 'x', value: Buffer.from([0, 255]) },
        { key: 'y', value: Buffer.alloc(0) },
      ],
    }),
    spec({ errorClass: 'invalid_amount', second: 6, source: 'b', value: Buffer.from([0, 0, 0, 0, 7, 1, 2]) }),
    spec({ errorClass: 'bad_magic_byte', second: 7, headers: [{ key: 'n', value: null }] }),
  ];
  let staged: Stage;
  beforeAll(async () => {
    // Offset 7 is not a dead letter at all.
    staged = await stage('dlr-ex', specs, [b('not avro')]);
  });

  it('list selects exactly what each filter says', async () => {
    const cases: [Parameters<typeof filterFrom>[0], number[]][] = [
      [{}, [0, 1, 2, 3, 4, 5, 6, 7]],
      [{ reason: ['invalid_amount'] }, [0, 2, 5]],
      [
        { reason: collectReasons('bad_magic_byte', collectReasons('invalid_amount,unknown_schema_id')) },
        [0, 1, 2, 3, 5, 6],
      ],
      [{ since: at(3) }, [2, 3, 4, 5, 6]],
      [{ until: at(3) }, [0, 1]],
      [{ since: at(2), until: at(5) }, [1, 2, 3]],
      [{ fromOffset: 2, toOffset: 4 }, [2, 3, 4]],
      [{ fromOffset: 5 }, [5, 6, 7]],
      [{ toOffset: 0 }, [0]],
      [{ sourcePartition: 1 }, [1, 4]],
      [{ reason: ['invalid_amount'], sourcePartition: 0, since: at(2) }, [2, 5]],
    ];
    for (const [options, expected] of cases) {
      expect(await listedOffsets(staged.config, filterFrom(options)), JSON.stringify(options)).toEqual(expected);
    }
    // A class that does not exist is a user error listing the classes, not an empty list.
    expect(() => filterFrom({ reason: ['no_such_class'] })).toThrow(/--reason: 'no_such_class' is not an error class/);
    const printer = capture();
    const summary = await listDeadLetters(staged.config, filterFrom({}), { json: false }, printer);
    expect(summary).toEqual({
      selected: 7,
      byErrorClass: new Map([
        ['invalid_amount', 3],
        ['bad_magic_byte', 2],
        ['unknown_schema_id', 1],
        ['event_too_late', 1],
      ]),
      undecodable: 1,
    });
    expect(printer.lines[2]).toMatch(
      /^2\t2025-01-01T00:00:03\.000Z\tinvalid_amount\t.*\.b\/0\/1002\t600B\ttruncated\t/,
    );
    expect(printer.lines[3]).toContain('\tnull\t-\t');
    expect(printer.lines.at(-2)).toBe(
      '7 dead letters: invalid_amount=3 bad_magic_byte=2 event_too_late=1 unknown_schema_id=1',
    );
  });

  it('replay --dry-run writes nothing; replay writes exactly the originals back and counts the skips', async () => {
    const { config, topics } = staged;
    const dry = capture();
    const planned = await replayDeadLetters(config, filterFrom({}), { toTopic: null, dryRun: true }, dry);
    expect(planned.replayed).toBe(4);
    expect(dry.lines).toContain(`dry run: would re-drive 4 records: ${topics.a}=3 ${topics.b}=1`);
    expect(await readAll(topics.a)).toEqual([]);
    expect(await readAll(topics.b)).toEqual([]);

    const run = capture();
    const done = await replayDeadLetters(config, filterFrom({}), { toTopic: null, dryRun: false }, run);
    expect(done.skipped).toEqual(
      new Map([
        ['truncated', 1],
        ['null_value', 1],
        ['null_header_value', 1],
        ['undecodable', 1],
      ]),
    );
    expect(run.lines[0]).toBe(
      `skipped dead letter 2 (truncated, original 600 bytes, sha256 ${createHash('sha256').update('prefix').digest('hex')}): fetch the original from ${topics.b} partition 0 offset 1002`,
    );
    // Back to the source partition, in dead-letter order, byte for byte.
    const a = (await readAll(topics.a)).sort((x, y) => x.partition - y.partition || x.offset - y.offset);
    expect(a.map((r) => [r.partition, shape(r)])).toEqual(
      [specs[0], specs[1], specs[4]].map((s) => [s?.sourcePartition, shape(s as Spec)]),
    );
    expect((await readAll(topics.b)).map(shape)).toEqual([shape(specs[5] as Spec)]);

    // --to-topic: the selection only, partitioned by key.
    const moved = await replayDeadLetters(
      config,
      filterFrom({ reason: ['invalid_amount'] }),
      { toTopic: topics.target, dryRun: false },
      capture(),
    );
    expect(moved.byTopic).toEqual(new Map([[topics.target, 2]]));
    expect((await readAll(topics.target)).map(shape).sort()).toEqual(
      [specs[0], specs[5]].map((s) => shape(s as Spec)).sort(),
    );
  });

  it('refuses a target topic or a dead-letter topic that does not exist', async () => {
    const missing = { toTopic: `${staged.topics.target}.missing`, dryRun: true };
    await expect(replayDeadLetters(staged.config, filterFrom({}), missing, capture())).rejects.toThrow(UserError);
    const nowhere = testConfig('dlr-none');
    await expect(listDeadLetters(nowhere, filterFrom({}), { json: false }, capture())).rejects.toThrow(
      /dead-letter topic .* does not exist/,
    );
  });
});

describe('dead-letters filters (bad values)', () => {
  const bad: [string[], RegExp][] = [
    [['list', '--since', 'yesterday'], /--since: 'yesterday' is not an ISO time/],
    [['list', '--until', '2025-01-01T10:00:00'], /--until: .* is not an ISO time/],
    [['list', '--until', '2025-02-30'], /is not an ISO time/],
    [['replay', '--from-offset', '-1'], /--from-offset: '-1' is not a non-negative integer/],
    [['replay', '--to-offset', '1.5'], /--to-offset: '1.5'/],
    [['list', '--source-partition', 'one'], /--source-partition: 'one'/],
    [['list', '--reason', 'a,,b'], /--reason: empty error class/],
    [['list', '--since', '2025-02-01', '--until', '2025-01-01'], /--since .* must be before --until/],
    [['replay', '--since', '2025-01-01', '--until', '2025-01-01'], /must be before --until/],
    [['replay', '--from-offset', '9', '--to-offset', '3'], /--from-offset \(9\) must not be after --to-offset \(3\)/],
  ];
  it.each(bad)('%j is a UserError', async (args, message) => {
    // Refused before any connection: the action checks the filter first.
    const error = await deadLettersCommand()
      .parseAsync(args, { from: 'user' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(message);
  });
  it('filterFrom checks values given without the command line', () => {
    expect(() => filterFrom({ fromOffset: -3 })).toThrow(UserError);
    expect(() => filterFrom({ since: Number.NaN })).toThrow(UserError);
  });
});

describe('dead-letters replay (property)', () => {
  const bytesArb = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
  const headersArb = fc
    .uniqueArray(
      fc.record({
        key: fc.constantFrom('trace', 'content-type', 'x-source', 'ü-key'),
        values: fc.array(fc.option(bytesArb, { freq: 12 }), { minLength: 1, maxLength: 2 }),
      }),
      { selector: (h) => h.key, maxLength: 3 },
    )
    // Repeated keys stay adjacent, as the scorer writes them (kafkajs groups them on read).
    .map((hs) => hs.flatMap((h) => h.values.map((value) => ({ key: h.key, value }))));
  const specArb = fc
    .record({
      errorClass: fc.constantFrom(...CLASSES),
      second: fc.integer({ min: 0, max: 20 }),
      source: fc.constantFrom('a' as const, 'b' as const),
      partition: fc.nat(2),
      key: fc.option(bytesArb, { freq: 5 }),
      value: fc.option(bytesArb, { freq: 6 }),
      headers: headersArb,
      truncated: fc.boolean().chain((t) => (t ? fc.boolean() : fc.constant(false))),
    })
    .map(
      ({ partition, ...s }): Spec => ({
        ...s,
        sourcePartition: s.source === 'a' ? partition : 0,
        truncated: s.truncated && s.value !== null,
      }),
    );
  const filterArb = fc
    .record({
      reason: fc.subarray([...CLASSES]).map((r) => (r.length === 0 ? undefined : r)),
      since: fc.option(fc.integer({ min: 0, max: 21 }), { nil: undefined }),
      until: fc.option(fc.integer({ min: 0, max: 21 }), { nil: undefined }),
      fromOffset: fc.option(fc.nat(20), { nil: undefined }),
      toOffset: fc.option(fc.nat(20), { nil: undefined }),
      sourcePartition: fc.option(fc.nat(2), { nil: undefined }),
    })
    .filter((f) => (f.since ?? 0) < (f.until ?? 99) && (f.fromOffset ?? 0) <= (f.toOffset ?? 99))
    .map((f) => ({
      ...f,
      since: f.since === undefined ? undefined : at(f.since),
      until: f.until === undefined ? undefined : at(f.until),
    }));

  it('lists the filter applied in memory and replays exactly its replayable part', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 20 }),
        filterArb,
        fc.boolean(),
        async (specs, options, toTarget) => {
          const { config, topics } = await stage(`dlr-p${run++}`, specs);
          const filter = filterFrom(options);
          const selected = specs.flatMap((s, offset) => (matches(filter, s, offset) ? [{ s, offset }] : []));
          expect(await listedOffsets(config, filter)).toEqual(selected.map((x) => x.offset));

          const summary = await replayDeadLetters(
            config,
            filter,
            { toTopic: toTarget ? topics.target : null, dryRun: false },
            capture(),
          );
          const wanted = selected.filter((x) => skipReason(x.s) === null).map((x) => x.s);
          const skipped = new Map<string, number>();
          for (const { s } of selected) {
            const reason = skipReason(s);
            if (reason !== null) skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
          }
          expect(summary.skipped).toEqual(skipped);
          expect(summary.replayed).toBe(wanted.length);
          if (toTarget) {
            expect((await readAll(topics.target)).map(shape).sort()).toEqual(wanted.map(shape).sort());
            return;
          }
          // Per source topic and partition: the originals in dead-letter order.
          const got = [
            ...(await readAll(topics.a)).map((r) => ({ r, t: 'a' })),
            ...(await readAll(topics.b)).map((r) => ({ r, t: 'b' })),
          ];
          const key = (t: string, p: number) => `${t}/${p}`;
          const group = <T>(items: T[], by: (x: T) => string, as: (x: T) => string) => {
            const out = new Map<string, string[]>();
            for (const x of items) out.set(by(x), [...(out.get(by(x)) ?? []), as(x)]);
            return new Map([...out].sort());
          };
          expect(
            group(
              got,
              (x) => key(x.t, x.r.partition),
              (x) => shape(x.r),
            ),
          ).toEqual(group(wanted, (s) => key(s.source, s.sourcePartition), shape));
        },
      ),
      { numRuns: 25, endOnFailure: true },
    );
  }, 120_000);
});
