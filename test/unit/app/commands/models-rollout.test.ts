// Where a `models` command starts from before any rollout is stored: what the running
// scorers report they serve (not the shell's own settings), refused when they disagree,
// the shell's settings only when no scorer reports (said on stderr); and a weight refused
// where the scorers run no experiment (or, with none running, where the shell names none).
import { describe, expect, it } from 'vitest';
import { changeRollout, currentRollout } from '../../../../src/app/commands/models-rollout.js';
import { loadConfig } from '../../../../src/app/config.js';
import { UserError } from '../../../../src/app/user-error.js';
import { withWeight } from '../../../../src/core/experiments/rollout.js';
import type { Serving } from '../../../../src/core/experiments/serving.js';
import { FakeRolloutStore } from '../../../helpers/rollout-fakes.js';

const fixtures = new URL('../../../fixtures/models/', import.meta.url).pathname;
// The shell says champion t1 and no challenger; the fleet serves champion t2 with a challenger.
const config = loadConfig({ CHURNSTREAM_MODELS_DIR: fixtures, CHURNSTREAM_CHURN_MODEL_VERSION: 't1' });
const report = (process: string, over: Partial<Serving> = {}): Serving => ({
  process,
  at: Date.now(),
  revision: null,
  champion: { churn: 't2', ltv: 'l1' },
  challenger: { churn: 't1', ltv: null },
  experiment: { name: 'ab', saltDigest: 'abc' },
  weight: 0,
  ...over,
});
const note = { action: 'weight', by: 'a', why: 'b', at: new Date() } as const;

describe('currentRollout before any change', () => {
  it('starts from what the scorers serve, whatever the shell is configured with', async () => {
    const rollout = new FakeRolloutStore();
    await rollout.announce(report('h:1'));
    await rollout.announce(report('h:2'));
    const lines: string[] = [];
    expect(await currentRollout(config, { rollout }, (l) => lines.push(l))).toEqual({
      revision: 0,
      champion: { churn: 't2', ltv: 'l1' },
      challenger: { churn: 't1', ltv: null },
      weight: 0,
    });
    expect(lines).toEqual([]);
  });

  it("reads a reported challenger side equal to the champion's as the champion's (an LTV-only challenger)", async () => {
    const rollout = new FakeRolloutStore();
    await rollout.announce(report('h:1', { challenger: { churn: 't2', ltv: 'l2' } }));
    expect((await currentRollout(config, { rollout })).challenger).toEqual({ churn: null, ltv: 'l2' });
  });

  it('refuses when the running scorers disagree (naming them), ignoring stopped ones', async () => {
    const rollout = new FakeRolloutStore();
    await rollout.announce(report('h:1'));
    await rollout.announce(report('h:2', { experiment: null }));
    await expect(currentRollout(config, { rollout })).rejects.toThrow(UserError);
    await expect(currentRollout(config, { rollout })).rejects.toThrow(
      /forgotten 15 s after its last report\): h:1: .*reported 0 s ago; h:2: .*experiment none/,
    );
    await rollout.announce(report('h:2', { experiment: null, at: Date.now() - 3_600_000 }));
    await expect(currentRollout(config, { rollout }, () => undefined)).resolves.toMatchObject({
      champion: { churn: 't2' },
    });
  });

  it('with no scorer reporting, starts from the settings and says so', async () => {
    const rollout = new FakeRolloutStore();
    const lines: string[] = [];
    const current = await currentRollout(config, { rollout }, (l) => lines.push(l));
    expect(current.champion.churn).toBe('t1');
    expect(lines).toEqual([expect.stringContaining("starting from this shell's settings")]);
  });
});

describe('changeRollout and the experiment', () => {
  it('refuses a weight above 0 where a running scorer has no experiment; accepts it where all have one', async () => {
    const rollout = new FakeRolloutStore();
    await rollout.announce(report('h:1', { experiment: null }));
    const current = await currentRollout(config, { rollout });
    await expect(changeRollout({ rollout }, current, withWeight(current, 0.2), note, config)).rejects.toThrow(
      /h:1 run\(s\) without CHURNSTREAM_EXPERIMENT/,
    );
    expect(await rollout.read()).toBeNull();
    await rollout.announce(report('h:1'));
    await changeRollout({ rollout }, current, withWeight(current, 0.2), note, config);
    expect((await rollout.read())?.weight).toBe(0.2);
  });

  it('with no scorer running, refuses a weight when this shell names no experiment either; takes it when it does', async () => {
    const rollout = new FakeRolloutStore();
    const withChallenger = { CHURNSTREAM_MODELS_DIR: fixtures, CHURNSTREAM_CHALLENGER_CHURN_MODEL: 't2' };
    const bare = loadConfig(withChallenger);
    const current = await currentRollout(bare, { rollout }, () => undefined);
    await expect(changeRollout({ rollout }, current, withWeight(current, 0.5), note, bare)).rejects.toThrow(
      /no scorer reports what it serves and CHURNSTREAM_EXPERIMENT is not set here/,
    );
    expect(await rollout.read()).toBeNull();
    // Weight 0 decides nobody anyway: no experiment needed.
    await changeRollout({ rollout }, current, withWeight(current, 0), note, bare);
    const named = loadConfig({ ...withChallenger, CHURNSTREAM_EXPERIMENT: 'ab:salt' });
    const next = await currentRollout(named, { rollout });
    await changeRollout({ rollout }, next, withWeight(next, 0.5), note, named);
    expect((await rollout.read())?.weight).toBe(0.5);
  });
});
