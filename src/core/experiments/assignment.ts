// Which model decides a customer's tier while a challenger runs beside the champion.
// An experiment assigns each customer to a variant by a salted hash of the customer id:
// the same id, salt and weight give the same variant in every process, after restarts and
// rebalances, with no state to keep. One uniform number per customer is compared with the
// challenger's weight, so raising the weight moves customers only from the champion to the
// challenger (and lowering it only back): a weight change moves as few customers as it can.
import { createHash } from 'node:crypto';

export type Variant = 'champion' | 'challenger';

export interface Experiment {
  /** Carried in risk-change events, so CRM-side business metrics can be joined on it. */
  readonly name: string;
  /** A new salt reshuffles every customer (a new experiment); keep it to keep assignments. */
  readonly salt: string;
  /** Share of customers whose tier the challenger decides, 0..1 (0: shadow only). */
  readonly challengerWeight: number;
}

/** The customer's position in [0, 1) under this salt: the first 52 bits of SHA-256(salt, id). */
export function bucketOf(salt: string, customerId: string): number {
  const digest = createHash('sha256').update(salt).update('\u0000').update(customerId).digest();
  // 52 bits fit a double exactly: 20 bits from the first word, 32 from the second.
  return ((digest.readUInt32BE(0) >>> 12) * 2 ** 32 + digest.readUInt32BE(4)) / 2 ** 52;
}

/** The variant of a customer; without an experiment (or with weight 0) the champion decides. */
export function variantOf(experiment: Experiment | null | undefined, customerId: string): Variant {
  if (experiment == null || experiment.challengerWeight <= 0) return 'champion';
  return bucketOf(experiment.salt, customerId) < experiment.challengerWeight ? 'challenger' : 'champion';
}

/**
 * Whether a change of experiment moves this customer to the other variant: what the
 * rescoring after a weight change asks before it reads the customer at all.
 */
export const variantMoved = (
  before: Experiment | null | undefined,
  after: Experiment | null | undefined,
  customerId: string,
): boolean => variantOf(before, customerId) !== variantOf(after, customerId);
