// The real Prometheus of the stack scrapes a running scorer (on the port its config
// names), loads the alert rules, holds our counters with the values the replay implies,
// and every PromQL expression of the dashboard and of the alert rules parses and returns
// data after a short replay with resolved labels.
import { readFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { createLogger } from '../../src/app/logger.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { produceEvents, produceRaw, scorerConfig } from '../helpers/scorer.js';
import { stackEnv } from '../helpers/stack.js';

const prometheus = `http://${stackEnv['STACK_HOST']}:${stackEnv['PROMETHEUS_PORT']}`;
const config = scorerConfig('prom', {
  CHURNSTREAM_HTTP_PORT: stackEnv['APP_HTTP_PORT'] ?? '18080',
  CHURNSTREAM_MODELS_DIR: new URL('../../models/', import.meta.url).pathname,
});
interface Dashboard {
  panels: { type: string; title: string; description?: string; targets?: { expr: string }[] }[];
}
const dashboardFile = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../deploy/grafana/dashboards/${name}`, import.meta.url), 'utf8')) as Dashboard;
// Both dashboards; a panel whose description says it is empty until a challenger runs or a
// recalibration is applied is checked for data by prometheus-rollout.test.ts, which runs them.
const dashboards = [dashboardFile('churnstream.json'), dashboardFile('churnstream-rollout.json')];
const waitsForRollout = (description: string | undefined) => description?.startsWith('Empty until') === true;
const rules = parse(
  readFileSync(new URL('../../deploy/prometheus/rules/churnstream.yml', import.meta.url), 'utf8'),
) as {
  groups: { rules: { alert: string; expr: string }[] }[];
};
// Rules whose selector is empty in a healthy system: check the metric behind them instead.
// The challenger rules have no series while no challenger runs: the role gauge says none does.
const healthyEmpty: Record<string, string> = {
  NoChurnModelLoaded: 'churnstream_model_info{kind="churn"}',
  ChallengerComparisonDecided: 'churnstream_model_role{kind="churn", role="champion"}',
  ChallengerWorseWhileDeciding: 'churnstream_model_role{kind="churn", role="champion"}',
  RolloutNotApplied: 'churnstream_rollout_revision{state="stored"}',
  RolloutProcessesDisagree: 'churnstream_rollout_processes_disagree',
  RolloutWeightNotServed: 'churnstream_rollout_weight{state="asked"}',
};

const history = generateDemoHistory({ seed: 21, customers: 150, start: Date.UTC(2024, 0, 1), days: 420 });
/** One record of garbage per wave: not Avro (first byte is no magic byte). */
const WAVES = 3;

let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;

async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

const waitFor = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
};

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  service = await startService(config, createLogger('silent'));
  await fetch(`${prometheus}/-/reload`, { method: 'POST' });
  // Three waves a scrape interval apart, so counters rise between scrapes (rates exist).
  const third = Math.ceil(history.length / WAVES);
  for (let wave = 0; wave < WAVES; wave += 1) {
    await produceEvents(
      kafka,
      config.topics.orders,
      provisioned.registry,
      provisioned.schemas.orders,
      history.slice(wave * third, (wave + 1) * third),
    );
    await produceRaw(kafka, config.topics.orders, [{ key: `bad-${wave}`, value: Buffer.from('not avro') }]);
    await new Promise((resolve) => setTimeout(resolve, 6000));
  }
}, 180_000);

afterAll(async () => {
  await service?.stop();
});

describe('Prometheus against the running scorer', () => {
  it('scrapes the scorer and has loaded the alert rules', async () => {
    expect(
      await waitFor(async () => ((await query('up{job="churnstream"} == 1')).data?.result.length ?? 0) > 0, 30_000),
    ).toBe(true);
    const loaded = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    const names = loaded.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    for (const rule of rules.groups.flatMap((g) => g.rules)) expect(names).toContain(rule.alert);
  }, 60_000);

  it('holds our counters with the values the replay implies', async () => {
    // Every record produced is consumed once (one process, no restart); each wave's
    // garbage record is dead-lettered as bad_magic_byte, and only those.
    const want = {
      consumed: history.length + WAVES,
      deadLetters: [{ reason: 'bad_magic_byte', value: WAVES }],
    };
    const read = async () => {
      const consumed = await query('sum(churnstream_events_consumed_total{job="churnstream"})');
      const letters = await query('churnstream_dead_letters_total{job="churnstream"}');
      const series = (letters.data?.result ?? []) as { metric: { reason: string }; value: [number, string] }[];
      return {
        consumed: Number((consumed.data?.result as { value: [number, string] }[] | undefined)?.[0]?.value[1]),
        deadLetters: series.map((s) => ({ reason: s.metric.reason, value: Number(s.value[1]) })),
      };
    };
    // The scorer catches up and Prometheus scrapes it every 5 s: wait for the final values.
    let got = await read();
    await waitFor(async () => {
      got = await read();
      return got.consumed === want.consumed;
    }, 60_000);
    expect(got).toEqual(want);
  }, 90_000);

  it('answers every dashboard query with data', async () => {
    const exprs = dashboards.flatMap((d) =>
      d.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr, later: waitsForRollout(p.description) })),
      ),
    );
    expect(exprs.filter((e) => !e.later).length).toBeGreaterThan(30);
    await waitFor(async () => ((await query('churnstream_model_auc')).data?.result.length ?? 0) > 0, 60_000);
    const empty: string[] = [];
    for (const { title, expr, later } of exprs) {
      const result = await query(expr);
      expect(result.status, `${title}: ${result.error}`).toBe('success');
      if (later) continue;
      // Rates and quantiles need two scrapes with a change between them: give them time.
      const present = await waitFor(async () => ((await query(expr)).data?.result.length ?? 0) > 0, 30_000);
      if (!present) empty.push(`${title}: ${expr}`);
    }
    expect(empty).toEqual([]);
  }, 240_000);

  it('evaluates every alert expression on live data', async () => {
    const empty: string[] = [];
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      const full = await query(rule.expr);
      expect(full.status, `${rule.alert}: ${full.error}`).toBe('success');
      // The condition itself may rightly be false; the series it compares must exist.
      const series = healthyEmpty[rule.alert] ?? rule.expr.replace(/\s*(<|>|==|!=|<=|>=)\s*[\d.e-]+\s*$/, '');
      // Range and subquery expressions need a few scrapes of history: give them time.
      const present = await waitFor(async () => ((await query(series)).data?.result.length ?? 0) > 0, 45_000);
      if (!present) empty.push(`${rule.alert}: ${series}`);
    }
    expect(empty).toEqual([]);
  }, 120_000);
});
