// The small HTTP surface: routes are plain functions given by wiring; this module only
// does HTTP (parsing the path, status codes, JSON, errors, TLS, timeouts). A group of
// routes may sit behind a guard (the customer API); the operational ones do not. Bound
// to loopback unless configured otherwise.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Guard, Refusal } from './access.js';

export interface HttpReply {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Customer data must not be kept by proxies or browsers. */
const PRIVATE = { 'cache-control': 'no-store' } as const;

export type Route = (params: Readonly<Record<string, string>>) => Promise<HttpReply>;

export interface RouteTable {
  readonly [pattern: string]: Route;
}

export interface RouteGroup {
  readonly routes: RouteTable;
  /** Asked before any route of the group runs; absent: open to anyone who reaches the port. */
  readonly guard?: Guard;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** PEM files; null: plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** A client that has not sent its headers by then gets 408 and is closed (no slowloris). */
  readonly headersTimeoutMs: number;
  /** The same for the whole request. */
  readonly requestTimeoutMs: number;
  readonly onRefused?: (refusal: Refusal) => void;
}

export interface HttpServer {
  readonly server: Server;
  /** Re-reads the TLS certificate and key (SIGHUP); throws when they cannot be used. */
  reloadTls(): void;
  close(): Promise<void>;
}

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const segment = want[i] ?? '';
    const value = got[i] ?? '';
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return null;
      }
    } else if (segment !== value) return null;
  }
  return params;
}

async function answer(
  groups: readonly RouteGroup[],
  request: IncomingMessage,
  onRefused: (refusal: Refusal) => void,
  failed: (error: unknown) => HttpReply,
): Promise<HttpReply> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return { status: 405, body: { error: 'only GET is supported' } };
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  for (const group of groups)
    for (const [pattern, route] of Object.entries(group.routes)) {
      const params = match(pattern, path);
      if (params === null) continue;
      const admission = group.guard === undefined ? null : await group.guard.admit(request);
      if (admission?.refused) {
        onRefused(admission.refused);
        return { ...admission.refused };
      }
      try {
        const reply = await route(params);
        return group.guard === undefined ? reply : { ...reply, headers: { ...reply.headers, ...PRIVATE } };
      } catch (error) {
        return failed(error);
      } finally {
        if (admission?.refused === null) admission.release();
      }
    }
  return { status: 404, body: { error: 'not found' } };
}

function tlsFiles(tls: NonNullable<ListenOptions['tls']>): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
}

/** `groups` is asked per request, so wiring can bind the port before every route exists. */
export async function startHttpServer(
  options: ListenOptions,
  groups: () => readonly RouteGroup[],
): Promise<HttpServer> {
  const onRefused = options.onRefused ?? (() => {});
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const failed = (error: unknown): HttpReply => ({
      status: 500,
      body: { error: error instanceof Error ? error.message : String(error) },
    });
    void answer(groups(), request, onRefused, failed)
      .catch(failed)
      .then((reply: HttpReply) => {
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        response.writeHead(reply.status, {
          ...reply.headers,
          'content-type': reply.contentType ?? 'application/json; charset=utf-8',
        });
        response.end(request.method === 'HEAD' ? undefined : text);
      });
  };
  const timeouts = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    // How often Node looks for clients past those timeouts (default 30 s).
    connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
  };
  const server: Server =
    options.tls === null
      ? createServer(timeouts, handler)
      : // A client that stalls its TLS handshake is dropped as soon as one that stalls its headers.
        createTlsServer({ ...timeouts, handshakeTimeout: options.headersTimeoutMs, ...tlsFiles(options.tls) }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    reloadTls() {
      if (options.tls === null) return;
      (server as import('node:https').Server).setSecureContext(tlsFiles(options.tls));
    },
    async close() {
      // Keep-alive connections (probes, scrapers) would hold close() open.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
