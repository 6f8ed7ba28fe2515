// Avro through a Confluent-API schema registry. Registration and schema lookups go
// through @kafkajs/confluent-schema-registry; the per-message work (header, resolver,
// decode) is done here with avsc so that nothing is re-parsed per message: writer
// schemas and writer->reader resolvers are cached per schema id, and concurrent
// first lookups of one id share a single HTTP request.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { calling } from '../dependency-error.js';
import { readWireHeader, writeWireFormat } from './wire-format.js';

/** A registry that has not answered a schema lookup by then is treated as down. */
const LOOKUP_TIMEOUT_MS = 5000;

export type RegistryOperation = 'register' | 'latest_id' | 'get_schema';

export interface RegistryOptions {
  readonly url: string;
  readonly auth?: { readonly username: string; readonly password: string };
  /** Told the duration of every HTTP request to the registry (cached lookups make none). */
  readonly onRequest?: (operation: RegistryOperation, seconds: number, ok: boolean) => void;
}

/** A topic's value schema as registered: its id and parsed type. */
export interface RegisteredValueSchema {
  readonly subject: string;
  readonly id: number;
  readonly type: avro.Type;
}

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T; readonly schemaId: number }
  | { readonly ok: false; readonly errorClass: 'unknown_schema_id'; readonly schemaId: number; readonly reason: string }
  | {
      readonly ok: false;
      readonly errorClass: Exclude<DecodeErrorClass, 'unknown_schema_id'>;
      readonly reason: string;
    };

export const DECODE_ERROR_CLASSES = [
  'empty_value',
  'bad_magic_byte',
  'truncated_header',
  'unknown_schema_id',
  'incompatible_schema',
  'undecodable_avro',
] as const;

export type DecodeErrorClass = (typeof DECODE_ERROR_CLASSES)[number];

/** TopicNameStrategy, as Confluent's own serializers use it. */
export const valueSubject = (topic: string): string => `${topic}-value`;

export class AvroRegistry {
  private readonly client: SchemaRegistry;
  private readonly writerTypes = new Map<number, Promise<avro.Type | null>>();
  private readonly resolvers = new Map<string, avro.Resolver | Error>();
  private readonly onRequest: NonNullable<RegistryOptions['onRequest']>;

  constructor(options: RegistryOptions) {
    this.onRequest = options.onRequest ?? (() => {});
    this.client = new SchemaRegistry({
      host: options.url,
      clientId: 'churnstream',
      retry: { retries: 2, initialRetryTimeInSecs: 0.1 },
      ...(options.auth ? { auth: { username: options.auth.username, password: options.auth.password } } : {}),
    });
  }

  /** Registers (idempotently) a schema under `<topic>-value` and returns its id and type. */
  async registerValueSchema(topic: string, schemaText: string): Promise<RegisteredValueSchema> {
    const subject = valueSubject(topic);
    const { id } = await this.timed('register', () =>
      this.client.register({ type: SchemaType.AVRO, schema: schemaText }, { subject }),
    );
    return { subject, id, type: avro.Type.forSchema(JSON.parse(schemaText) as avro.Schema) };
  }

  /** Latest schema id registered for a subject. */
  async latestId(subject: string): Promise<number> {
    return this.timed('latest_id', () => this.client.getLatestSchemaId(subject));
  }

  /** Encodes with a registered schema into the Confluent wire format. */
  encode(schema: RegisteredValueSchema, value: unknown): Buffer {
    return writeWireFormat(schema.id, schema.type.toBuffer(value));
  }

  /**
   * Decodes a wire-format value into the reader's schema (schema resolution when the
   * writer used another registered version). Never throws for bad input: every
   * failure comes back as a classified result for the dead-letter path.
   */
  async decode<T>(value: Buffer | null, reader: RegisteredValueSchema): Promise<DecodeResult<T>> {
    const header = readWireHeader(value);
    if (!header.ok) return header;
    // A registry that does not answer throws (DependencyError): that is not the record's fault.
    const writer = await this.writerType(header.schemaId);
    if (writer === null) {
      return {
        ok: false,
        errorClass: 'unknown_schema_id',
        schemaId: header.schemaId,
        reason: `schema id ${header.schemaId} is not in the registry`,
      };
    }
    const resolver = this.resolver(header.schemaId, writer, reader);
    if (resolver instanceof Error) {
      return {
        ok: false,
        errorClass: 'incompatible_schema',
        reason: `writer schema id ${header.schemaId} cannot be resolved to the reader schema of ${reader.subject} (id ${reader.id}): ${resolver.message}; a new enum symbol or a field without a default needs the reader to change first (docs/OPERATIONS.md, Topics)`,
      };
    }
    try {
      // decode() rather than fromBuffer(): trailing bytes are an error we report ourselves.
      const { value: decoded, offset } = reader.type.decode(header.body, 0, resolver);
      if (offset < 0) return { ok: false, errorClass: 'undecodable_avro', reason: 'Avro body is truncated' };
      if (offset !== header.body.length) {
        return {
          ok: false,
          errorClass: 'undecodable_avro',
          reason: `Avro body has ${header.body.length - offset} trailing bytes after the record`,
        };
      }
      return { ok: true, value: decoded as T, schemaId: header.schemaId };
    } catch (error) {
      return { ok: false, errorClass: 'undecodable_avro', reason: `invalid Avro body: ${describe(error)}` };
    }
  }

  /**
   * The writer schema of an id, or null when the registry says it has none. Found schemas
   * are cached for good (ids are immutable); "not found" is never cached, because a
   * registry may serve an id a moment after a producer used it. Concurrent lookups of one
   * id share a request; a lookup that fails or outlasts LOOKUP_TIMEOUT_MS throws.
   */
  private writerType(id: number): Promise<avro.Type | null> {
    let pending = this.writerTypes.get(id);
    if (pending === undefined) {
      pending = calling('registry', () =>
        withTimeout(
          this.timed('get_schema', () => this.client.getSchema(id)),
          LOOKUP_TIMEOUT_MS,
          `schema id ${id} lookup`,
        ),
      ).then(
        (schema) => avro.Type.forSchema(schema as unknown as avro.Schema),
        (error: unknown) => {
          this.writerTypes.delete(id);
          if (isNotFound((error as { cause?: unknown }).cause)) return null;
          throw error;
        },
      );
      this.writerTypes.set(id, pending);
    }
    return pending;
  }

  private async timed<T>(operation: RegistryOperation, request: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await request();
      this.onRequest(operation, (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      // A "not found" is an answer, not a failure of the registry.
      this.onRequest(operation, (performance.now() - started) / 1000, isNotFound(error));
      throw error;
    }
  }

  private resolver(writerId: number, writer: avro.Type, reader: RegisteredValueSchema): avro.Resolver | Error {
    const key = `${writerId}->${reader.id}`;
    let cached = this.resolvers.get(key);
    if (cached === undefined) {
      try {
        cached = reader.type.createResolver(writer);
      } catch (error) {
        cached = error instanceof Error ? error : new Error(String(error));
      }
      this.resolvers.set(key, cached);
    }
    return cached;
  }
}

function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as { status?: unknown }).status;
  const message = (error as { message?: unknown }).message;
  return status === 404 || (typeof message === 'string' && /not found|40403/i.test(message));
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
