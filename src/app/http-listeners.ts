// Where the scorer's HTTP routes are served and who may call them: the customer API behind
// the access guard (tokens, rate limit, requests in flight), the operational endpoints
// (/healthz, /readyz, /metrics) open, on the API's port or on their own. Bound before the
// consumer joins its group; every failure to bind or to read a token, certificate or key
// file is one line naming the setting (exit 2). SIGHUP re-reads tokens and certificates.
import { createAccessGuard } from '../adapters/http/access.js';
import { type HttpServer, type RouteGroup, type RouteTable, startHttpServer } from '../adapters/http/server.js';
import { TokenFile, TokenFileError } from '../adapters/http/token-file.js';
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { Config } from './config.js';
import { isLoopback } from './config-http.js';
import type { Logger } from './logger.js';
import { StartupError } from './startup.js';

export interface ScorerRoutes {
  /** /healthz, /readyz, /metrics: no customer data, never behind a token. */
  readonly operational: RouteTable;
  /** /customers/:id: behind the access guard. */
  readonly customer: RouteTable;
}

export interface Listeners {
  readonly api: HttpServer;
  readonly ops: HttpServer | null;
  /** Re-reads the token file and the TLS files; keeps what is in use when they are wrong. */
  reload(): void;
  close(): Promise<void>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function loadTokens(path: string): TokenFile {
  try {
    return new TokenFile(path);
  } catch (error) {
    if (error instanceof TokenFileError) throw new StartupError(`CHURNSTREAM_HTTP_TOKEN_FILE: ${error.message}`);
    throw error;
  }
}

async function bind(what: string, start: () => Promise<HttpServer>, host: string, port: number): Promise<HttpServer> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`${what}: ${host}:${port} is already in use`);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || /key|cert|PEM|asn1/i.test(message(error)))
      throw new StartupError(
        `CHURNSTREAM_HTTP_TLS_CERT_FILE/CHURNSTREAM_HTTP_TLS_KEY_FILE: cannot be used (${message(error).split('\n')[0]})`,
      );
    throw new StartupError(`${what}: ${host}:${port} cannot be bound (${code ?? message(error)})`);
  }
}

export async function bindListeners(
  config: Config,
  metrics: Metrics,
  log: Logger,
  routes: () => ScorerRoutes,
): Promise<Listeners> {
  const http = config.http;
  const tokens = http.tokenFile === null ? null : loadTokens(http.tokenFile);
  if (tokens !== null) log.info({ tokens: tokens.fingerprints }, 'customer API: bearer tokens loaded');
  else if (http.insecure)
    log.warn({ host: http.host }, 'customer API open without tokens beyond loopback (CHURNSTREAM_HTTP_INSECURE=true)');
  if (!isLoopback(http.host) && http.ops === null)
    log.warn(
      { host: http.host },
      'operational endpoints (/readyz, /metrics) share the customer API port beyond loopback, open and not rate-limited: set CHURNSTREAM_OPS_HTTP_PORT to serve them apart',
    );
  const guard = createAccessGuard({ tokens, ratePerSecond: http.ratePerSecond, maxConcurrent: http.maxConcurrent });
  const limits = {
    headersTimeoutMs: http.headersTimeoutMs,
    requestTimeoutMs: http.requestTimeoutMs,
    onRefused: (refusal: { reason: string }) => metrics.httpRefused.inc({ reason: refusal.reason }),
  };
  const customer = (): RouteGroup => ({ routes: routes().customer, guard });
  const operational = (): RouteGroup => ({ routes: routes().operational });
  // With the operational endpoints elsewhere, the API port keeps /healthz for load balancers.
  const liveness = (): RouteGroup => ({ routes: { '/healthz': routes().operational['/healthz'] ?? healthz } });
  const api = await bind(
    'CHURNSTREAM_HTTP_HOST/CHURNSTREAM_HTTP_PORT',
    () =>
      startHttpServer({ host: http.host, port: http.port, tls: http.tls, ...limits }, () =>
        http.ops === null ? [operational(), customer()] : [liveness(), customer()],
      ),
    http.host,
    http.port,
  );
  let ops: HttpServer | null = null;
  if (http.ops !== null) {
    const { host, port } = http.ops;
    ops = await bind(
      'CHURNSTREAM_OPS_HTTP_HOST/CHURNSTREAM_OPS_HTTP_PORT',
      () => startHttpServer({ host, port, tls: null, ...limits }, () => [operational()]),
      host,
      port,
    ).catch(async (error: unknown) => {
      await api.close();
      throw error;
    });
  }
  return {
    api,
    ops,
    reload() {
      if (tokens !== null)
        try {
          log.info({ tokens: tokens.reload() }, 'customer API: bearer tokens reloaded');
        } catch (error) {
          log.error({ err: error }, 'customer API: token file not reloaded; the tokens in use stay');
        }
      try {
        api.reloadTls();
        if (http.tls !== null) log.info('customer API: TLS certificate reloaded');
      } catch (error) {
        log.error({ err: error }, 'customer API: TLS files not reloaded; the certificate in use stays');
      }
    },
    async close() {
      await Promise.all([api.close(), ops?.close()]);
    },
  };
}

const healthz = async () => ({ status: 200, body: { status: 'ok' } });
