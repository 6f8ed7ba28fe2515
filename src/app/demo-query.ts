// The demo's look at its results through the query API, like any client: a few requests at
// a time (the API limits requests per address and in flight), the first bearer token of
// the token file when one is configured, and a 429 waited out as its Retry-After says.
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { parseTokens } from '../adapters/http/token-file.js';
import type { Config } from './config.js';

export interface RankedCustomer {
  readonly customerId: string;
  readonly probability: number;
  readonly level: string;
  readonly reasons: string[];
}

interface CustomerView {
  churn: { churn_probability: number; risk_level: string; risk_factors: { code: string; direction: string }[] };
}

export function apiBase(config: Config, port: number): string {
  return `${config.http.tls === null ? 'http' : 'https'}://${config.http.host}:${port}`;
}

/** The `count` customers of `ids` with the highest churn probability. */
export async function riskiestCustomers(
  config: Config,
  port: number,
  ids: readonly string[],
  count: number,
): Promise<RankedCustomer[]> {
  const path = config.http.tokenFile;
  const token = path === null ? null : parseTokens(readFileSync(path, 'utf8'), path)[0];
  const headers: Record<string, string> = token == null ? {} : { authorization: `Bearer ${token}` };
  const limit = pLimit(4);
  const one = async (customerId: string): Promise<RankedCustomer | null> => {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await fetch(`${apiBase(config, port)}/customers/${encodeURIComponent(customerId)}`, { headers });
      if (response.status === 429) {
        const seconds = Number(response.headers.get('retry-after') ?? '1');
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, seconds) * 1000));
        continue;
      }
      if (!response.ok) return null;
      const body = (await response.json()) as CustomerView;
      return {
        customerId,
        probability: body.churn.churn_probability,
        level: body.churn.risk_level,
        reasons: body.churn.risk_factors.map((r) => `${r.code}${r.direction === 'increases_risk' ? '↑' : '↓'}`),
      };
    }
    return null;
  };
  const scored = await Promise.all(ids.map((id) => limit(() => one(id))));
  return scored
    .filter((s): s is RankedCustomer => s !== null)
    .sort((a, b) => b.probability - a.probability)
    .slice(0, count);
}
