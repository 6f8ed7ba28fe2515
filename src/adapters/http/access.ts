// Who may ask the customer API, and how much: a rate limit per client address (checked
// first, so guessing tokens is throttled too), then the bearer token, then a bound on
// requests in flight (each one reads Redis; a flood must not queue without end). Every
// refusal is a JSON 4xx/503 that says what to do; the operational endpoints never pass
// through here.
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { TokenFile } from './token-file.js';

export interface Refusal {
  readonly status: number;
  readonly body: { readonly error: string };
  readonly headers: Readonly<Record<string, string>>;
  /** For the rejection counter: unauthorized, rate_limited or overloaded. */
  readonly reason: 'unauthorized' | 'rate_limited' | 'overloaded';
}

export type Admission = { readonly refused: Refusal } | { readonly refused: null; release(): void };

export interface Guard {
  admit(request: IncomingMessage): Promise<Admission>;
}

export interface AccessOptions {
  /** null: no token needed (loopback, or CHURNSTREAM_HTTP_INSECURE=true). */
  readonly tokens: TokenFile | null;
  /** Requests per second per client address; 0: no limit. */
  readonly ratePerSecond: number;
  readonly maxConcurrent: number;
}

const REALM = 'Bearer realm="churnstream"';

/**
 * Whom the rate limit counts: an IPv4 address (also when mapped into IPv6), or the /64
 * of an IPv6 address (one client usually holds a whole /64 and could rotate through it).
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function bearer(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

export function createAccessGuard(options: AccessOptions): Guard {
  const limiter =
    options.ratePerSecond > 0 ? new RateLimiterMemory({ points: options.ratePerSecond, duration: 1 }) : null;
  let inFlight = 0;
  return {
    async admit(request) {
      if (limiter !== null) {
        try {
          await limiter.consume(clientKey(request.socket.remoteAddress));
        } catch (error) {
          if (!(error instanceof RateLimiterRes)) throw error;
          const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
          return {
            refused: {
              status: 429,
              reason: 'rate_limited',
              headers: { 'retry-after': String(seconds) },
              body: { error: `too many requests from this address; retry in ${seconds} s` },
            },
          };
        }
      }
      if (options.tokens !== null) {
        const presented = bearer(request);
        if (presented === null || !options.tokens.accepts(presented))
          return {
            refused: {
              status: 401,
              reason: 'unauthorized',
              headers: {
                'www-authenticate': presented === null ? REALM : `${REALM}, error="invalid_token"`,
              },
              body: {
                error:
                  presented === null
                    ? 'authentication required: send Authorization: Bearer <token>'
                    : 'the bearer token is not valid',
              },
            },
          };
      }
      if (inFlight >= options.maxConcurrent)
        return {
          refused: {
            status: 503,
            reason: 'overloaded',
            headers: { 'retry-after': '1' },
            body: { error: `${options.maxConcurrent} customer requests are in flight; retry in a second` },
          },
        };
      inFlight += 1;
      let released = false;
      return {
        refused: null,
        release() {
          if (released) return;
          released = true;
          inFlight -= 1;
        },
      };
    },
  };
}
