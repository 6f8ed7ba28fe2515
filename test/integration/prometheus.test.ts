// The real Prometheus of the stack: it runs our checked-in config and rules (the values of
// our series it scrapes: prometheus-scrape.test.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stackEnv } from '../helpers/stack.js';

const prometheusUrl = `http://${stackEnv['STACK_HOST']}:${stackEnv['PROMETHEUS_PORT']}`;

describe('prometheus (real)', () => {
  // Whether it holds our series with the right values is checked against a running scorer
  // (prometheus-scrape.test.ts); here, the stack's instance and the checked-in files.
  it('is ready', async () => {
    const ready = await fetch(`${prometheusUrl}/-/ready`);
    expect(ready.status).toBe(200);
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

  it('accepts the alert rules with promtool, every one of them', () => {
    const file = 'deploy/prometheus/rules/churnstream.yml';
    const output = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    // As many rules as the file defines: a rule promtool skipped would show as fewer.
    const defined = readFileSync(file, 'utf8').match(/^\s*- alert: /gm)?.length ?? 0;
    expect(defined).toBeGreaterThanOrEqual(12);
    expect(output).toMatch(new RegExp(`SUCCESS: ${defined} rules found`));
  });

  it('accepts the checked-in config with promtool', () => {
    const output = execFileSync('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'], {
      encoding: 'utf8',
    });
    expect(output).toMatch(/SUCCESS/);
  });
});
