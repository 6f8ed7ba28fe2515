// In-memory rollout store (the port of src/adapters/redis/rollout-store.ts) beside the
// scorer's fakes in fakes.ts: the same compare-and-set on the revision as the Lua script,
// the log newest first, and fault injection on read.
import type { RolloutStore } from '../../src/app/scorer/ports.js';
import type { Rollout, RolloutLogEntry } from '../../src/core/experiments/rollout.js';
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

  /** Another operator's change landed (no log entry needed for the fence). */
  overwrite(rollout: Rollout): void {
    this.document = structuredClone(rollout);
  }
}
