// In-memory rollout store (the port of src/adapters/redis/rollout-store.ts) beside the
// scorer's fakes in fakes.ts: the same compare-and-set on the revision as the Lua script,
// the log newest first, and fault injection on read.
import type { DecidedByStore, RolloutStore } from '../../src/app/scorer/ports.js';
import type { DecidedBy } from '../../src/core/experiments/decided-by.js';
import type { Rollout, RolloutLogEntry } from '../../src/core/experiments/rollout.js';
import type { Serving } from '../../src/core/experiments/serving.js';
import { type CallLog, Faults } from './fakes.js';

export class FakeRolloutStore implements RolloutStore {
  readonly faults = new Faults<'read' | 'change'>('redis');
  private document: Rollout | null = null;
  private readonly entries: RolloutLogEntry[] = [];
  private readonly calls: CallLog | null;

  constructor(calls: CallLog | null = null) {
    this.calls = calls;
  }

  async read(): Promise<Rollout | null> {
    if (this.calls !== null) await this.faults.enter('read', 'rollout.read', this.calls);
    return this.document === null ? null : structuredClone(this.document);
  }

  async change(entry: RolloutLogEntry, expectedRevision: number): Promise<boolean> {
    if (this.calls !== null) await this.faults.enter('change', 'rollout.change', this.calls);
    if ((this.document?.revision ?? 0) !== expectedRevision) return false;
    this.document = structuredClone(entry.after);
    this.entries.unshift(structuredClone(entry));
    return true;
  }

  async log(limit = 100): Promise<RolloutLogEntry[]> {
    return structuredClone(this.entries.slice(0, limit));
  }

  readonly reports = new Map<string, Serving>();

  async announce(serving: Serving): Promise<void> {
    this.reports.set(serving.process, structuredClone(serving));
  }

  async withdraw(process: string): Promise<void> {
    this.reports.delete(process);
  }

  async serving(): Promise<Serving[]> {
    return structuredClone([...this.reports.values()]);
  }

  /** Another operator's change landed (no log entry needed for the fence). */
  overwrite(rollout: Rollout): void {
    this.document = structuredClone(rollout);
  }
}

/** In-memory marks of what decided each partition (the port of src/adapters/redis/decided-by-store.ts). */
export class FakeDecidedByStore implements DecidedByStore {
  readonly marks = new Map<number, DecidedBy>();

  async save(partition: number, decidedBy: DecidedBy): Promise<void> {
    this.marks.set(partition, structuredClone(decidedBy));
  }

  async read(partition: number): Promise<DecidedBy | null> {
    const mark = this.marks.get(partition);
    return mark === undefined ? null : structuredClone(mark);
  }
}
