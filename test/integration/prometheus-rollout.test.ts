// The rollout on the real stack, as an operator sees it: a deliberately miscalibrated
// champion (the fixture's churn model with its probabilities pushed up on the logit) and a
// weaker challenger in shadow over an event-time replay. After the labels resolve,
// `models recalibrate` finds a map that lowers the calibration error on held-out labels and
// puts it in the rollout; the scorer picks it up without a restart and serves the champion as
// v1-shifted+cal1 (the query API's probability is the map of the shipped model's); and every
// panel of the rollout dashboard (versions in force, champion vs challenger, recalibration)
// has data in Prometheus, which scrapes this scorer.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { recalibrate } from '../../src/app/commands/models-recalibrate.js';
import { changeRollout, currentRollout } from '../../src/app/commands/models-rollout.js';
import { createLogger } from '../../src/app/logger.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { FEATURE_NAMES } from '../../src/core/features/names.js';
import { scoreChurn } from '../../src/core/models/scoring.js';
import { applyPlatt, composeCalibration } from '../../src/core/monitoring/recalibration.js';
import { produceEvents, scorerConfig } from '../helpers/scorer.js';
import { stackEnv } from '../helpers/stack.js';

/** The challenger fixture plus churn/v1-shifted: v1 with every probability pushed up by 1.2 on the logit. */
function modelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-models-'));
  cpSync(new URL('../fixtures/challenger/', import.meta.url).pathname, dir, { recursive: true });
  const folder = join(dir, 'churn', 'v1-shifted');
  cpSync(join(dir, 'churn', 'v1'), folder, { recursive: true });
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  const calibration = composeCalibration(config.calibration, { a: 1, b: 1.2 });
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, version: 'v1-shifted', calibration }));
  return dir;
}

const dir = modelsDir();
const prometheus = `http://${stackEnv['STACK_HOST']}:${stackEnv['PROMETHEUS_PORT']}`;
const port = stackEnv['APP_HTTP_PORT'] ?? '18080';
const config = scorerConfig('rollout', {
  CHURNSTREAM_HTTP_PORT: port,
  CHURNSTREAM_MODELS_DIR: dir,
  CHURNSTREAM_CHURN_MODEL_VERSION: 'v1-shifted',
  CHURNSTREAM_LTV_MODEL_VERSION: 'v1',
  CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'v1-shuffled',
  CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS: '500',
});
const history = generateDemoHistory({ seed: 23, customers: 600, start: Date.UTC(2024, 0, 1), days: 480 });
const rolloutDashboard = JSON.parse(
  readFileSync(new URL('../../deploy/grafana/dashboards/churnstream-rollout.json', import.meta.url), 'utf8'),
) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };

let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;
let connection: RedisConnection;

const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
};

async function query(expr: string): Promise<number> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; data?: { result: unknown[] } };
  return body.status === 'success' ? (body.data?.result.length ?? 0) : -1;
}

const customer = async (id: string) =>
  (await (await fetch(`http://127.0.0.1:${port}/customers/${id}`)).json()) as {
    churn: { churn_probability: number; model_version: string };
    features: Record<string, number | null>;
  };

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  service = await startService(config, createLogger('silent'));
  connection = await RedisConnection.open(config.redisUrl, null);
  await fetch(`${prometheus}/-/reload`, { method: 'POST' });
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await connection?.close();
});

describe('recalibration and the rollout dashboard on the real stack', () => {
  const stores = () => connection.stores(config.redisNamespace, config.stateTtlSeconds);

  it('recalibrates the miscalibrated champion: lower error on held-out labels, applied without a restart', async () => {
    // The replay is done when the resolved labels stop growing.
    let labels = -1;
    await until(async () => {
      const stats = await stores().health.labelStats('v1-shifted');
      const now = stats.positives.concat(stats.negatives).reduce((s, v) => s + v, 0);
      const settled = now === labels && now > 0;
      labels = now;
      return settled;
    }, 120_000);
    expect(labels).toBeGreaterThan(1000);

    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const current = await currentRollout(config, stores());
    const options = { folds: 5, seed: 1, dryRun: false, remove: false, json: true };
    const next = await recalibrate(options, stores(), current);
    const report = JSON.parse(String(log.mock.calls[0]?.[0])) as {
      check: { decision: string; heldOut: { before: number; after: number }; labels: number };
    };
    log.mockRestore();
    console.log(
      `recalibration of v1-shifted on ${report.check.labels} labels: held-out calibration error ${report.check.heldOut.before.toFixed(4)} -> ${report.check.heldOut.after.toFixed(4)}`,
    );
    expect(report.check.decision).toBe('apply');
    expect(report.check.heldOut.after).toBeLessThan(report.check.heldOut.before / 2);
    if (next === null) throw new Error('the recalibration must be applied');
    const calibration = next.calibrations?.['v1-shifted'];
    if (calibration === undefined) throw new Error('the rollout names the recalibration');
    expect(calibration.fittedOn).toMatchObject({ version: 'v1-shifted', labels });
    // Pushed up by 1.2 on the logit: the map brings probabilities back down.
    expect(calibration.b).toBeLessThan(-0.6);
    await changeRollout(
      stores(),
      current,
      next,
      { action: 'recalibrate', by: 'test', why: 'test', at: new Date() },
      config,
    );

    // The scorer applies it (rollout loop) and answers with the recalibrated probability.
    const base = new ModelRegistry(dir).loadDefaults({ churn: 'v1-shifted', ltv: 'v1' }).churn;
    const ids = [...new Set(history.map((e) => e.customerId))].slice(0, 20);
    expect(
      await until(async () => (await customer(ids[0] as string)).churn.model_version === 'v1-shifted+cal1', 30_000),
    ).toBe(true);
    for (const id of ids) {
      const body = await customer(id);
      expect(body.churn.model_version).toBe('v1-shifted+cal1');
      const features = FEATURE_NAMES.map((name) => body.features[name] ?? Number.NaN);
      const shipped = scoreChurn(base, features, false).probability;
      // The artifact's isotonic calibration composed with the map at 16 points per segment.
      expect(body.churn.churn_probability).toBeCloseTo(applyPlatt(calibration, shipped), 3);
    }
  }, 240_000);

  it('has data for every panel of the rollout dashboard', async () => {
    const exprs = rolloutDashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(8);
    // A scrape after the recalibration was applied (no sample from before it can answer).
    expect(
      await until(
        async () => (await query('churnstream_model_info{kind="churn", version="v1-shifted+cal1"}')) > 0,
        30_000,
      ),
    ).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const present = await until(async () => (await query(expr)) > 0, 30_000);
      if (!present) empty.push(`${title}: ${expr}`);
    }
    expect(empty).toEqual([]);
  }, 240_000);

  it("keeps judging the recalibrated champion: its base version's AUC stands for it in the AUC alert", async () => {
    const rules = parse(
      readFileSync(new URL('../../deploy/prometheus/rules/churnstream.yml', import.meta.url), 'utf8'),
    ) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const expr = (name: string) => rules.groups.flatMap((g) => g.rules).find((r) => r.alert === name)?.expr ?? '';
    // The alert's series without its threshold: the versions it would judge, with their values.
    const judged = (name: string) => expr(name).replace(/\s*[<>]\s*[\d.]+\s*$/, '');
    expect(await query('churnstream_model_auc{model_version="v1-shifted"}')).toBeGreaterThan(0);
    const of = (name: string, metric: string) =>
      `(${judged(name)}) and on(model_version) ${metric}{model_version="v1-shifted"}`;
    expect(await query(of('ChurnModelAucLow', 'churnstream_model_auc'))).toBeGreaterThan(0);
    // Its calibration error is the one the recalibration corrected: not held against it.
    expect(await query(of('ChurnModelMiscalibrated', 'churnstream_model_calibration_error'))).toBe(0);
  }, 60_000);
});
