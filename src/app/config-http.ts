// Settings of the scorer's HTTP surface: where the customer API and the operational
// endpoints listen, who may read customer data (bearer tokens), TLS and resource limits.
// The one rule that refuses a start: customer data served beyond loopback without tokens,
// unless CHURNSTREAM_HTTP_INSECURE=true says the network is trusted.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const file = z.string().min(1);

export const httpSchema = z.object({
  CHURNSTREAM_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CHURNSTREAM_HTTP_PORT: port.default(18080),
  CHURNSTREAM_HTTP_TOKEN_FILE: file.optional(),
  CHURNSTREAM_HTTP_INSECURE: z.enum(['true', 'false']).default('false'),
  CHURNSTREAM_HTTP_TLS_CERT_FILE: file.optional(),
  CHURNSTREAM_HTTP_TLS_KEY_FILE: file.optional(),
  CHURNSTREAM_OPS_HTTP_HOST: z.string().min(1).optional(),
  CHURNSTREAM_OPS_HTTP_PORT: port.optional(),
  CHURNSTREAM_HTTP_MAX_CONCURRENT: z.coerce.number().int().min(1).max(10_000).default(64),
  CHURNSTREAM_HTTP_RATE_LIMIT: z.coerce.number().int().min(0).default(100),
  CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  CHURNSTREAM_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
});

type RawHttp = z.infer<typeof httpSchema>;

export interface HttpConfig {
  /** The customer API (and the operational endpoints too, unless `ops` is set). */
  readonly host: string;
  readonly port: number;
  /** Bearer tokens, one per line; null: the customer API is open (loopback or insecure). */
  readonly tokenFile: string | null;
  /** True when the customer API is open beyond loopback by explicit choice (logged as WARN). */
  readonly insecure: boolean;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** /healthz, /readyz, /metrics on their own listener (plain HTTP, no token); null: with the API. */
  readonly ops: { readonly host: string; readonly port: number } | null;
  readonly maxConcurrent: number;
  /** Customer requests per second per client address; 0: no limit. */
  readonly ratePerSecond: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** An IPv6 address may be written in brackets ([::1]), as in a URL; listen() wants it bare. */
const bare = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/** 127.0.0.0/8, ::1 and localhost reach only this machine. */
export function isLoopback(host: string): boolean {
  const name = bare(host).toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export function checkHttp(raw: RawHttp, need: (when: boolean, path: string, message: string) => void): void {
  need(
    !isLoopback(raw.CHURNSTREAM_HTTP_HOST) &&
      raw.CHURNSTREAM_HTTP_TOKEN_FILE === undefined &&
      raw.CHURNSTREAM_HTTP_INSECURE !== 'true',
    'CHURNSTREAM_HTTP_TOKEN_FILE',
    `the customer API binds ${raw.CHURNSTREAM_HTTP_HOST}, beyond loopback (127.x.x.x, ::1, localhost): set a token file, or CHURNSTREAM_HTTP_INSECURE=true if the network is trusted`,
  );
  need(
    (raw.CHURNSTREAM_HTTP_TLS_CERT_FILE === undefined) !== (raw.CHURNSTREAM_HTTP_TLS_KEY_FILE === undefined),
    'CHURNSTREAM_HTTP_TLS_KEY_FILE',
    'TLS needs both CHURNSTREAM_HTTP_TLS_CERT_FILE and CHURNSTREAM_HTTP_TLS_KEY_FILE',
  );
  need(
    raw.CHURNSTREAM_OPS_HTTP_HOST !== undefined && raw.CHURNSTREAM_OPS_HTTP_PORT === undefined,
    'CHURNSTREAM_OPS_HTTP_PORT',
    'required with CHURNSTREAM_OPS_HTTP_HOST (the operational endpoints get their own listener)',
  );
  const samePort = raw.CHURNSTREAM_OPS_HTTP_PORT === raw.CHURNSTREAM_HTTP_PORT && raw.CHURNSTREAM_HTTP_PORT !== 0;
  need(samePort, 'CHURNSTREAM_OPS_HTTP_PORT', 'must differ from CHURNSTREAM_HTTP_PORT (or leave it unset)');
  need(
    raw.CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS > raw.CHURNSTREAM_HTTP_REQUEST_TIMEOUT_MS,
    'CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS',
    'must not exceed CHURNSTREAM_HTTP_REQUEST_TIMEOUT_MS',
  );
}

export function httpConfig(raw: RawHttp): HttpConfig {
  const tokenFile = raw.CHURNSTREAM_HTTP_TOKEN_FILE ?? null;
  const cert = raw.CHURNSTREAM_HTTP_TLS_CERT_FILE;
  const key = raw.CHURNSTREAM_HTTP_TLS_KEY_FILE;
  return Object.freeze({
    host: bare(raw.CHURNSTREAM_HTTP_HOST),
    port: raw.CHURNSTREAM_HTTP_PORT,
    tokenFile,
    insecure: tokenFile === null && !isLoopback(raw.CHURNSTREAM_HTTP_HOST),
    tls: cert !== undefined && key !== undefined ? Object.freeze({ certFile: cert, keyFile: key }) : null,
    ops:
      raw.CHURNSTREAM_OPS_HTTP_PORT === undefined
        ? null
        : Object.freeze({
            host: bare(raw.CHURNSTREAM_OPS_HTTP_HOST ?? raw.CHURNSTREAM_HTTP_HOST),
            port: raw.CHURNSTREAM_OPS_HTTP_PORT,
          }),
    maxConcurrent: raw.CHURNSTREAM_HTTP_MAX_CONCURRENT,
    ratePerSecond: raw.CHURNSTREAM_HTTP_RATE_LIMIT,
    headersTimeoutMs: raw.CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: raw.CHURNSTREAM_HTTP_REQUEST_TIMEOUT_MS,
  });
}
