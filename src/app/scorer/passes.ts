// Rescoring passes outside the event path: the timer pass (customers whose timer is due)
// and the model-change pass (every timed customer after a model swap). Each customer is
// read, stepped, its risk changes published, then written with the version fence only (no
// source offset). A lost fence means the unit path or another pass wrote first; it
// computes the same due rescorings, so the customer is simply left to it.

import type { StoredCustomer } from '../../core/state/stored-customer.js';
import {
  type CustomerStep,
  processModelChange,
  processTimers,
  type ScoringContext,
} from '../../core/step/customer-step.js';
import type { Clock } from '../clock.js';
import { type StepDeps, storedOf } from './apply-chunk.js';
import type { CustomerWrite, TimerEntry } from './ports.js';
import { reportApplied } from './tally.js';

export interface PassDeps extends StepDeps {
  readonly clock: Clock;
}

type Rescore = (customerId: string, stored: StoredCustomer, ctx: ScoringContext) => CustomerStep;

async function rescoreCustomers(
  deps: PassDeps,
  partition: number,
  customers: readonly string[],
  rescore: Rescore,
): Promise<number> {
  if (customers.length === 0) return 0;
  const ctx = deps.context();
  const loaded = await deps.state.read(customers.map((customerId) => ({ customerId, partition: null })));
  const writes: CustomerWrite[] = [];
  const steps: CustomerStep[] = [];
  // A timer whose customer's state expired is removed: left, it would be due forever.
  const timers: TimerEntry[] = [];
  for (const customerId of customers) {
    const current = loaded.get(customerId);
    if (current?.stored == null) {
      timers.push({ customerId, partition, due: Number.NaN });
      continue;
    }
    const step = rescore(customerId, current.stored, ctx);
    steps.push(step);
    writes.push({ customerId, expectedVersion: current.version, partition, source: null, next: storedOf(step) });
  }
  await deps.publisher.publish(steps.flatMap((s) => s.riskChanges.map(deps.riskRecord)));
  const outcomes = await deps.state.write(writes);
  const applied: CustomerStep[] = [];
  outcomes.forEach((outcome, index) => {
    const step = steps[index];
    const write = writes[index];
    if (step === undefined || write === undefined) return;
    if (outcome.kind === 'applied') {
      applied.push(step);
      timers.push({ customerId: write.customerId, partition, due: step.nextDue });
    } else deps.observer.stateConflict();
  });
  await deps.timers.schedule(timers);
  await reportApplied(applied, deps, deps.observer);
  return steps.length;
}

/** One timer pass over a partition: rescore a page of the customers due by the clock. */
export async function runDueTimers(deps: PassDeps, partition: number, limit: number): Promise<number> {
  // Strictly before the clock: an event dated exactly `now` may still arrive (day- or
  // second-granular data has many), and the event path evaluates only the timers due
  // strictly before an event, so a timer at an event's own time must wait for it.
  const until = deps.clock.now(partition) - 1;
  const due = await deps.timers.due(partition, until, limit);
  await rescoreCustomers(deps, partition, due, (customerId, stored, ctx) =>
    processTimers(customerId, stored, until, ctx),
  );
  return due.length;
}

/**
 * After a model swap: rescore every timed customer of a partition with the new models
 * (trigger "model_change"), publishing the tiers that change. `versions` names them.
 * `only` restricts it to some customers (a weight change: those whose variant moved),
 * decided from the id alone, before any read.
 */
export async function rescoreForModelChange(
  deps: PassDeps,
  partition: number,
  pageSize: number,
  versions: string,
  only?: (customerId: string) => boolean,
): Promise<number> {
  const asOf = deps.clock.now(partition);
  if (!Number.isFinite(asOf)) return 0;
  let cursor = '0';
  let rescored = 0;
  do {
    const page = await deps.timers.page(partition, cursor, pageSize);
    cursor = page.cursor;
    const customers = only === undefined ? page.customers : page.customers.filter(only);
    rescored += await rescoreCustomers(deps, partition, customers, (customerId, stored, ctx) =>
      processModelChange(customerId, stored, asOf, versions, ctx),
    );
  } while (cursor !== '0');
  return rescored;
}
