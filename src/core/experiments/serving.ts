// What each running scorer process serves, as it reports it (every check interval): the
// `models` commands start from it while no rollout is stored, instead of from their own
// shell's settings, and refuse to guess when the processes disagree.
import type { ModelPair } from './rollout.js';

export interface Serving {
  /** host:pid of the process. */
  readonly process: string;
  /** When the process said so (ms). */
  readonly at: number;
  /** The rollout revision it applied, or null: its own settings (no rollout stored). */
  readonly revision: number | null;
  /** The versions it serves, by name (never "newest"). */
  readonly champion: { readonly churn: string; readonly ltv: string };
  readonly challenger: ModelPair | null;
  /** The experiment's name and a digest of its salt (never the salt); null: none. */
  readonly experiment: { readonly name: string; readonly saltDigest: string } | null;
  readonly weight: number;
}

/**
 * What the fresh reports agree on; or processes at different rollout revisions (a change on
 * its way: one applies a revision a check after another, or is still rescoring for it); or the
 * processes that disagree at one revision (configured apart).
 */
export type ServingView =
  | { readonly kind: 'none' }
  | { readonly kind: 'agreed'; readonly serving: Serving; readonly processes: number }
  | { readonly kind: 'changing'; readonly reports: readonly Serving[] }
  | { readonly kind: 'disagree'; readonly reports: readonly Serving[] };

/**
 * The part of a report that must be equal in every process of one deployment: what decides a
 * customer. The revision is left out: processes serving the same models from their settings
 * (revision null) and from a stored rollout saying the same give every customer one answer.
 */
const shape = (s: Serving): string => JSON.stringify([s.champion, s.challenger, s.experiment, s.weight]);

/**
 * How old a report may be: a process rewrites it every check interval, on a timer of its own
 * (three missed: stopped or hung). A process killed without a stop is forgotten this long after.
 */
export const reportMaxAgeMs = (checkIntervalMs: number): number => Math.max(15_000, 3 * checkIntervalMs);

/** A report this old is a process long gone (killed, never withdrawn): the live ones delete it. */
export const GONE_REPORT_MS = 3_600_000;

/** Reports younger than `maxAgeMs` (older ones are processes that stopped or hang). */
export function servingView(reports: readonly Serving[], now: number, maxAgeMs: number): ServingView {
  const fresh = reports.filter((r) => now - r.at <= maxAgeMs).sort((a, b) => a.process.localeCompare(b.process));
  const first = fresh[0];
  if (first === undefined) return { kind: 'none' };
  if (fresh.every((r) => shape(r) === shape(first))) return { kind: 'agreed', serving: first, processes: fresh.length };
  const atOneRevision = (r: Serving) => fresh.filter((other) => other.revision === r.revision);
  const apart = fresh.some((r) => atOneRevision(r).some((other) => shape(other) !== shape(r)));
  return { kind: apart ? 'disagree' : 'changing', reports: fresh };
}

/** One line per report, for an operator comparing processes (with `now`: how old it is, to spot a dead one). */
export const describeServing = (s: Serving, now?: number): string =>
  `${s.process}: champion ${s.champion.churn}/${s.champion.ltv}, ` +
  (s.challenger === null ? 'no challenger' : `challenger ${s.challenger.churn ?? '-'}/${s.challenger.ltv ?? '-'}`) +
  `, experiment ${s.experiment === null ? 'none' : `${s.experiment.name} (salt ${s.experiment.saltDigest})`}` +
  `, weight ${s.weight}, rollout ${s.revision === null ? 'none (settings)' : `revision ${s.revision}`}` +
  (now === undefined ? '' : `, reported ${Math.max(0, Math.round((now - s.at) / 1000))} s ago`);
