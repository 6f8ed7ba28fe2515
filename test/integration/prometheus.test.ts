// The real Prometheus of the stack: it runs our checked-in config and answers PromQL.
// (The metrics tests of the observability work build on this.)
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stackEnv } from '../helpers/stack.js';

const prometheusUrl = `http://${stackEnv['STACK_HOST']}:${stackEnv['PROMETHEUS_PORT']}`;

async function query(expr: string): Promise<{ status: string; data: { resultType: string; result: unknown[] } }> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  expect(response.ok).toBe(true);
  return (await response.json()) as { status: string; data: { resultType: string; result: unknown[] } };
}

describe('prometheus (real)', () => {
  it('is ready and evaluates PromQL', async () => {
    const ready = await fetch(`${prometheusUrl}/-/ready`);
    expect(ready.status).toBe(200);
    const result = await query('vector(1) + 1');
    expect(result.status).toBe('success');
    expect(result.data.result).toEqual([{ metric: {}, value: [expect.any(Number), '2'] }]);
  });

  it('scrapes the churnstream job from the checked-in config', async () => {
    const response = await fetch(`${prometheusUrl}/api/v1/targets`);
    const body = (await response.json()) as {
      data: { activeTargets: { labels: { job: string }; scrapeUrl: string }[] };
    };
    const jobs = body.data.activeTargets.map((target) => target.labels.job);
    expect(jobs).toContain('churnstream');
    const target = body.data.activeTargets.find((t) => t.labels.job === 'churnstream');
    expect(target?.scrapeUrl).toBe(`http://${stackEnv['STACK_HOST']}:${stackEnv['APP_HTTP_PORT']}/metrics`);
  });

  it('accepts the alert rules with promtool', () => {
    const output = execFileSync('promtool', ['check', 'rules', 'deploy/prometheus/rules/churnstream.yml'], {
      encoding: 'utf8',
    });
    expect(output).toMatch(/SUCCESS: 8 rules found/);
  });

  it('accepts the checked-in config with promtool', () => {
    const output = execFileSync('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'], {
      encoding: 'utf8',
    });
    expect(output).toMatch(/SUCCESS/);
  });
});
