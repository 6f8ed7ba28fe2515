// Where `churnstream dataset` reads its order history: a bundled data set (UCI, CDNOW), a
// shop's CSV (streamed), or the orders topic itself (the stream's own history, decoded and
// validated exactly as the scorer does it, so a record the scorer dead-letters is skipped
// here under the same reason). Every source hands events to `onEvent` one at a time and
// keeps a load report.
import { loadCdnow } from '../../adapters/files/datasets/cdnow.js';
import { type ColumnMapping, CsvColumnsError } from '../../adapters/files/datasets/csv-columns.js';
import { readGenericCsv } from '../../adapters/files/datasets/generic-csv.js';
import { type LoadReport, newReport, skip } from '../../adapters/files/datasets/report.js';
import { loadUciOnlineRetail } from '../../adapters/files/datasets/uci-online-retail.js';
import { readSchemaText } from '../../adapters/files/schemas.js';
import { KafkaConnection } from '../../adapters/kafka/connection.js';
import { UnknownTopicError } from '../../adapters/kafka/topic-reader.js';
import { AvroRegistry } from '../../adapters/registry/avro-registry.js';
import { OrderEventDecoder } from '../../adapters/registry/order-event-decoder.js';
import type { OrderEvent } from '../../core/events/order-event.js';
import { validateOrderEvent } from '../../core/events/validate.js';
import type { Config } from '../config.js';
import { UserError } from '../user-error.js';

export type DatasetSource = 'uci' | 'cdnow' | 'csv' | 'kafka';

export class DatasetError extends UserError {
  override readonly name = 'DatasetError';
}

export interface SourceOptions {
  readonly source: DatasetSource;
  /** The file (every source but kafka). */
  readonly input: string | undefined;
  readonly columns: ColumnMapping;
  /** For kafka: brokers, registry, topic names and validation rules. */
  readonly config: Config | undefined;
}

export interface Feed {
  readonly report: LoadReport;
  /** Hands every event over in input order; resolves when the input is read. */
  run(onEvent: (event: OrderEvent) => void): Promise<void>;
}

function fileFeed(options: SourceOptions, input: string): Feed {
  if (options.source === 'csv') {
    const report = newReport(input);
    return {
      report,
      async run(onEvent) {
        try {
          for await (const event of readGenericCsv(input, { columns: options.columns }, report)) onEvent(event);
        } catch (error) {
          // A mapping or header the loader refuses is the user's to fix (exit 2).
          if (error instanceof CsvColumnsError) throw new DatasetError(error.message);
          throw error;
        }
      },
    };
  }
  // The bundled data sets are small: loaded whole, their own report replaces the empty one.
  let report = newReport(input);
  return {
    get report() {
      return report;
    },
    async run(onEvent) {
      const loaded = options.source === 'uci' ? await loadUciOnlineRetail(input) : loadCdnow(input);
      report = loaded.report;
      for (const event of loaded.events) onEvent(event);
    },
  };
}

function topicFeed(config: Config): Feed {
  const topic = config.topics.orders;
  const report = newReport(`kafka:${topic}`);
  return {
    report,
    async run(onEvent) {
      // The reader schema only: a dataset run creates no topic (a missing one is an error).
      const registry = new AvroRegistry({
        url: config.schemaRegistryUrl,
        ...(config.schemaRegistryAuth ? { auth: config.schemaRegistryAuth } : {}),
      });
      const reader = await registry.registerValueSchema(topic, readSchemaText('orderEvent'));
      const decoder = new OrderEventDecoder(registry, reader);
      const now = Date.now();
      try {
        await new KafkaConnection(config.kafka).readTopic({ topic }, async (records) => {
          for (const record of records) {
            report.rowsRead += 1;
            const decoded = await decoder.decode(record.value);
            if (decoded.kind === 'unknown_schema_id') skip(report, 'unknown_schema_id');
            else if (decoded.kind === 'unreadable') skip(report, decoded.errorClass);
            else {
              const invalid = validateOrderEvent(decoded.event, now, config.validation);
              if (invalid !== null) skip(report, invalid.errorClass);
              else {
                report.eventsProduced += 1;
                onEvent(decoded.event);
              }
            }
          }
        });
      } catch (error) {
        if (error instanceof UnknownTopicError) throw new DatasetError(`${error.message} (CHURNSTREAM_ORDERS_TOPIC)`);
        throw error;
      }
    },
  };
}

export function feedOf(options: SourceOptions): Feed {
  if (options.source === 'kafka') {
    if (options.input !== undefined)
      throw new DatasetError('--input is not used with --source kafka (it reads CHURNSTREAM_ORDERS_TOPIC)');
    if (options.config === undefined) throw new Error('the kafka source needs the configuration');
    return topicFeed(options.config);
  }
  if (options.input === undefined) throw new DatasetError(`--input is required with --source ${options.source}`);
  if (Object.keys(options.columns).length > 0 && options.source !== 'csv')
    throw new DatasetError('--columns is for --source csv');
  return fileFeed(options, options.input);
}
